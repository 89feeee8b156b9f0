"""Engine, sessions and migrations for the corpus store.

SQLite is the embedded default; any SQLAlchemy URL (PostgreSQL: ``postgresql+psycopg://...``)
works with the same code because the schema only uses portable types.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event, inspect
from sqlalchemy.orm import Session, sessionmaker

from livingreview.errors import StoreError

_MIGRATIONS = Path(__file__).parent / "migrations"
_ENGINES: dict[str, Engine] = {}


def engine_for(url: str) -> Engine:
    """One engine per URL per process (engines pool connections; building one is not free)."""
    if url not in _ENGINES:
        if url.startswith("sqlite"):
            path = url.split("///", 1)[-1]
            if path and path != ":memory:":
                Path(path).parent.mkdir(parents=True, exist_ok=True)
            engine = create_engine(url, connect_args={"timeout": 60})
            event.listen(engine, "connect", _sqlite_pragmas)
        else:
            engine = create_engine(url, pool_pre_ping=True)
        _ENGINES[url] = engine
    return _ENGINES[url]


def release_engine(url: str) -> None:
    """Close this process's connections to a store, e.g. before its files are moved away."""
    engine = _ENGINES.pop(url, None)
    if engine is not None:
        engine.dispose()


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    # WAL lets screeners read while a run writes; busy_timeout makes concurrent writers queue
    # instead of failing with "database is locked".
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=60000")
    cursor.close()


@contextmanager
def session_scope(url: str) -> Iterator[Session]:
    """A transaction: committed when the block ends, rolled back whole if it raises."""
    factory = sessionmaker(engine_for(url), expire_on_commit=False)
    session = factory()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(_MIGRATIONS))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade(url: str) -> None:
    """Bring the store's schema to the newest migration (creates the database if needed)."""
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
        # A fresh LR_DATA_DIR: SQLite creates the file but not the folder it goes in.
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    command.upgrade(alembic_config(url), "head")


def require_schema(url: str) -> None:
    """Fail with the fix when the store has not been initialised."""
    if "update_runs" not in inspect(engine_for(url)).get_table_names():
        raise StoreError(
            f"the corpus store at {redact_url(url)} has no tables. "
            "Fix: run `livingreview init` first (or `make run` / `make demo`)"
        )


def redact_url(url: str) -> str:
    """The URL with any password masked, for messages and logs."""
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)
