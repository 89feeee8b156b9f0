"""Settings from the environment (prefix ``LR_``) and the review.toml loader.

Secrets (API keys, notification URLs) are read only from the environment and are held in
``Secret`` so that printing settings, logging them or writing them into a report never shows them.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from livingreview.demo_store import DEMO_PROFILE
from livingreview.errors import ConfigError


class Secret:
    """A string that never shows itself in ``str``/``repr``; call ``reveal()`` to use it."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __bool__(self) -> bool:
        return bool(self._value)

    def __repr__(self) -> str:
        return "Secret('**********')" if self._value else "Secret('')"

    __str__ = __repr__


def _env(name: str, default: str | None = None) -> str | None:
    value = os.environ.get(f"LR_{name}")
    return value if value not in (None, "") else default


@dataclass(frozen=True)
class Settings:
    """Where things live and how to reach the APIs. Build with ``Settings.from_env()``."""

    home: Path
    database_url: str
    review_file: Path
    report_dir: Path
    archive_dir: Path
    dedup_index: Path | None = None  # persisted deduplication index of the corpus
    pubmed_base_url: str = "https://eutils.ncbi.nlm.nih.gov/entrez/eutils"
    crossref_base_url: str = "https://api.crossref.org"
    openalex_base_url: str = "https://api.openalex.org"
    europepmc_base_url: str = "https://www.ebi.ac.uk/europepmc/webservices/rest"
    contact_email: str = "livingreview@example.org"
    tool_name: str = "livingreview"
    ncbi_api_key: Secret = field(default_factory=lambda: Secret(""))
    openalex_api_key: Secret = field(default_factory=lambda: Secret(""))  # required since Feb 2026
    notify_urls: Secret = field(default_factory=lambda: Secret(""))
    http_timeout: float = 30.0
    crossref_rate: float = 3.0  # list requests/s: the polite pool's limit; Plus members have more
    expectations_dir: Path | None = None  # None: the project's expectations/ folder
    # An update lock whose holder runs on another machine and has not beaten for this long is
    # presumed dead (on this machine a dead holder is recognised at once).
    lock_stale_minutes: float = 120.0
    profile: str | None = None  # "demo": the demo store (livingreview --demo); reports say so

    @property
    def demo(self) -> bool:
        return self.profile == DEMO_PROFILE

    @classmethod
    def from_env(cls, **overrides: Any) -> "Settings":
        home = Path(_env("HOME", os.getcwd())).resolve()
        data_dir = Path(_env("DATA_DIR", str(home / "data")))
        values: dict[str, Any] = dict(
            home=home,
            database_url=_env("DATABASE_URL", f"sqlite:///{data_dir / 'livingreview.sqlite'}"),
            review_file=Path(_env("REVIEW_FILE", str(home / "review.toml"))),
            report_dir=Path(_env("REPORT_DIR", str(home / "reports"))),
            archive_dir=Path(_env("ARCHIVE_DIR", str(data_dir / "archive"))),
            pubmed_base_url=_env("PUBMED_BASE_URL", cls.pubmed_base_url),
            crossref_base_url=_env("CROSSREF_BASE_URL", cls.crossref_base_url),
            openalex_base_url=_env("OPENALEX_BASE_URL", cls.openalex_base_url),
            europepmc_base_url=_env("EUROPEPMC_BASE_URL", cls.europepmc_base_url),
            contact_email=_env("CONTACT_EMAIL", cls.contact_email),
            ncbi_api_key=Secret(_env("NCBI_API_KEY", "") or ""),
            openalex_api_key=Secret(_env("OPENALEX_API_KEY", "") or ""),
            notify_urls=Secret(_env("NOTIFY_URLS", "") or ""),
            http_timeout=float(_env("HTTP_TIMEOUT", str(cls.http_timeout))),
            crossref_rate=float(_env("CROSSREF_RATE", str(cls.crossref_rate))),
            expectations_dir=Path(_env("EXPECTATIONS_DIR")) if _env("EXPECTATIONS_DIR") else None,
            lock_stale_minutes=float(_env("LOCK_STALE_MINUTES", str(cls.lock_stale_minutes))),
            profile=_env("PROFILE"),
        )
        values.update(overrides)
        if values["profile"] not in (None, DEMO_PROFILE):
            raise ConfigError(f"LR_PROFILE={values['profile']!r} is not a profile. Fix: unset it, "
                              f"or use {DEMO_PROFILE!r} (what `livingreview --demo` sets)")
        if "dedup_index" not in overrides:
            values["dedup_index"] = Path(_env("DEDUP_INDEX") or _index_beside(
                values["database_url"], data_dir))
        return cls(**values)

    def secrets(self) -> list[str]:
        """Every secret value in force, for scrubbing text before it is written anywhere.

        A notification URL counts whole and in parts: notifiers rewrite it (``json://`` is
        posted as ``http://``, a Slack token becomes a path), so its credentials, query values
        and long path segments are secrets on their own.
        """
        values = [self.ncbi_api_key.reveal(), self.openalex_api_key.reveal()]
        for url in self.notify_urls.reveal().replace(",", " ").split():
            parts = urlsplit(url)
            values += [url, url.split("://", 1)[-1], parts.password or "", parts.username or ""]
            values += [segment for segment in parts.path.split("/") if len(segment) >= 8]
            values += [value for _, value in parse_qsl(parts.query) if len(value) >= 6]
        return sorted({v for v in values if v}, key=len, reverse=True)


def apply_prefect_defaults() -> None:
    """Give Prefect the project's settings unless the environment already chose them.

    Called before Prefect is imported (its settings are read at import), by the command line and
    by the flow modules, so ``livingreview update`` run directly behaves as under ``make``: a
    project-local Prefect home (not ~/.prefect shared with other projects), no telemetry (its
    writes to the ephemeral server's SQLite database raced the run's: "database is locked"), and
    time for a temporary API server to start on a busy machine.
    """
    home = Path(_env("HOME", os.getcwd())).resolve()
    for name, value in (("PREFECT_HOME", str(home / ".prefect")),
                        ("PREFECT_SERVER_ANALYTICS_ENABLED", "false"),
                        ("DO_NOT_TRACK", "1"),
                        ("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "60")):
        os.environ.setdefault(name, value)


def _index_beside(database_url: str, data_dir: Path) -> str:
    # One index per store: beside an SQLite file, else named after the (password-free) URL.
    if database_url.startswith("sqlite:///") and not database_url.endswith(":memory:"):
        return database_url.split("///", 1)[1] + ".dedup-index.npz"
    digest = hashlib.sha256(database_url.encode()).hexdigest()[:16]
    return str(data_dir / "dedup-index" / f"{digest}.npz")


def scrub(text: str, settings: Settings) -> str:
    """Replace every secret value in ``text`` with asterisks."""
    for secret in settings.secrets():
        text = text.replace(secret, "**********")
    return text


_KEY_IN_URL = re.compile(r"((?:api_key|apikey|access_token|token)=)[^&\s\"']+", re.IGNORECASE)
_LOG_SECRETS: list[str] = []
_BASE_FACTORY = logging.getLogRecordFactory()


def _scrubbing_factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
    record = _BASE_FACTORY(*args, **kwargs)
    try:
        message = record.getMessage()
    except Exception:  # a malformed log call is the caller's bug; leave the record as it is
        return record
    cleaned = _KEY_IN_URL.sub(r"\1**********", message)
    for secret in _LOG_SECRETS:
        cleaned = cleaned.replace(secret, "**********")
    if cleaned != message:
        record.msg, record.args = cleaned, None
    return record


def protect_logs(settings: "Settings") -> None:
    """Scrub every log record of this process of the settings' secrets and of ``api_key=...``.

    At record creation, because request URLs are logged by many libraries' own child loggers
    (httpx at INFO, urllib3 and apprise at DEBUG) and filters on a parent logger miss those.
    """
    _LOG_SECRETS[:] = settings.secrets()
    logging.setLogRecordFactory(_scrubbing_factory)


def load_review(path: Path) -> dict[str, Any]:
    """Read review.toml; a syntax error names the file, line and column."""
    try:
        with open(path, "rb") as handle:
            review = tomllib.load(handle)
    except FileNotFoundError as exc:
        raise ConfigError(
            f"{path}: review file not found. Fix: run from the project folder or set LR_REVIEW_FILE"
        ) from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: {exc}. Fix: correct the TOML syntax at that place") from exc
    for section in ("review", "sources", "eligibility", "alerts", "schedule"):
        if section not in review:
            raise ConfigError(
                f"{path}: missing section [{section}]. Fix: add it (see the project's review.toml)"
            )
    return review
