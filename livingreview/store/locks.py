"""One writer at a time: the store's update lock.

Two updates writing one window would each store the other's records again and race for the next
report version, so an update (and a report, which takes a version number) holds the row
``store_locks.name = 'update'`` while it runs. The row is inserted in the transaction that opens
the run; the database's primary key makes the second writer fail, whichever database it is.

A holder that was killed cannot release its lock. Its row names ``host:pid:start`` (the process's
start time tells a reused pid apart), so on the same machine a dead holder is recognised at once;
a holder on another machine is presumed dead once its heartbeat is older than ``stale_after``.
Taking over a stale lock marks the run it held ``interrupted``, so no run stays "running" for
ever; nothing that run stored is lost, and its watermarks never moved.
"""

from __future__ import annotations

import os
import socket
from datetime import datetime, timedelta, timezone
from pathlib import Path

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from livingreview.errors import UpdateLocked
from livingreview.store.models import StoreLock, UpdateRun

UPDATE_LOCK = "update"
INTERRUPTED = ("the process running it ended without closing it (killed or crashed); what it "
               "stored is kept and its watermarks did not move, so a later run covers its window")


def _start_time(pid: int) -> str:
    # Field 22 of /proc/PID/stat: the process's start in clock ticks since boot (Linux).
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return ""
    return stat.rsplit(")", 1)[1].split()[19]


def this_process() -> str:
    pid = os.getpid()
    return f"{socket.gethostname()}:{pid}:{_start_time(pid)}"


def _holder_alive(holder: str) -> bool | None:
    """True or False for a holder on this machine; None when it runs elsewhere."""
    host, _, rest = holder.partition(":")
    pid_text, _, started = rest.partition(":")
    if host != socket.gethostname() or not pid_text.isdigit():
        return None
    pid = int(pid_text)
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass
    return not started or _start_time(pid) == started


def is_stale(lock: StoreLock, stale_after: timedelta, now: datetime | None = None) -> bool:
    alive = _holder_alive(lock.holder)
    if alive is not None:
        return not alive
    beat = lock.heartbeat_at if lock.heartbeat_at.tzinfo else lock.heartbeat_at.replace(
        tzinfo=timezone.utc)
    return (now or datetime.now(timezone.utc)) - beat > stale_after


def acquire(session: Session, run_id: int, *, stale_after: timedelta,
            holder: str | None = None, name: str = UPDATE_LOCK) -> None:
    """Hold the lock for ``run_id`` (flushed; it takes effect when the session commits).

    Raises ``UpdateLocked`` naming the holder when a live writer has it. A stale lock is taken
    over and the run it held is marked interrupted.
    """
    holder = holder or this_process()
    existing = ensure_free(session, stale_after, name)
    if existing is not None:
        session.execute(delete(StoreLock).where(StoreLock.name == name,
                                                StoreLock.holder == existing.holder))
    _interrupt_orphans(session, keep=run_id)
    session.add(StoreLock(name=name, run_id=run_id, holder=holder))
    try:
        session.flush()
    except IntegrityError as exc:  # another writer inserted the row between our read and write
        raise UpdateLocked("another update took the store's update lock a moment ago. Fix: wait "
                           "for it to finish, then run again", holder={}) from exc


def ensure_free(session: Session, stale_after: timedelta,
                name: str = UPDATE_LOCK) -> StoreLock | None:
    """Raise ``UpdateLocked`` naming the holder when a live writer holds the lock; return a
    stale lock (for the caller to take over), or None when there is none."""
    existing = session.get(StoreLock, name)
    if existing is None or is_stale(existing, stale_after):
        return existing
    run = session.get(UpdateRun, existing.run_id) if existing.run_id else None
    started = existing.acquired_at.strftime("%Y-%m-%d %H:%M UTC")
    what = f"{run.kind} run {run.id}" if run else "another writer"
    raise UpdateLocked(
        f"{what} has been writing to this store since {started} (process {existing.holder}); "
        "only one update or report runs at a time. Fix: wait for it to finish (`livingreview "
        "status` shows it), then run again; if that process is gone for good on another "
        f"machine, its lock expires {int(stale_after.total_seconds() // 60)} minutes after its "
        "last heartbeat",
        holder={"run_id": existing.run_id, "holder": existing.holder,
                "acquired_at": existing.acquired_at})


def _interrupt_orphans(session: Session, keep: int) -> None:
    # Whoever takes the lock is the only writer: any other run still "running" is dead.
    session.execute(update(UpdateRun)
                    .where(UpdateRun.status == "running", UpdateRun.id != keep,
                           UpdateRun.kind.in_(("update", "report")))
                    .values(status="interrupted", error=INTERRUPTED,
                            finished_at=datetime.now(timezone.utc)))


def heartbeat(session: Session, run_id: int, name: str = UPDATE_LOCK) -> None:
    session.execute(update(StoreLock).where(StoreLock.name == name, StoreLock.run_id == run_id)
                    .values(heartbeat_at=datetime.now(timezone.utc)))


def release(session: Session, run_id: int, name: str = UPDATE_LOCK) -> None:
    session.execute(delete(StoreLock).where(StoreLock.name == name, StoreLock.run_id == run_id))


def current(session: Session, name: str = UPDATE_LOCK) -> StoreLock | None:
    return session.scalars(select(StoreLock).where(StoreLock.name == name)).first()
