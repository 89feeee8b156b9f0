"""Run `livingreview update` in this process and SIGKILL it right after its Nth store commit.

    python tests/reliability/crash_update.py N [update options...]

N = 0 runs to the end and prints the number of commits the run made (``commits=K``), which is
how the reliability suite knows every point at which a real run can die. The kill is a real
SIGKILL of the real process: no cleanup, no ``finally``, no Prefect state hooks run, exactly as
when the machine loses power or the OOM killer strikes.
"""

from __future__ import annotations

import os
import signal
import sys

from sqlalchemy import event
from sqlalchemy.orm import Session

KILL_AFTER = int(sys.argv[1])
commits = 0


@event.listens_for(Session, "after_commit")
def _count(_session: Session) -> None:
    global commits
    commits += 1
    if os.environ.get("LR_CRASH_TRACE"):  # which step made each commit, to choose kill points
        import traceback

        steps = [f.name for f in traceback.extract_stack()
                 if "/tasks/" in f.filename or "/flows/" in f.filename]
        where = " > ".join(steps[-2:]) if steps else "cli > before_the_flow"
        print(f"commit {commits}: {where}", file=sys.stderr, flush=True)
    if commits == KILL_AFTER:
        os.kill(os.getpid(), signal.SIGKILL)


if __name__ == "__main__":
    from livingreview.cli import main

    sys.argv = ["livingreview", "update", *sys.argv[2:]]
    try:
        main()
    except SystemExit as exit_:
        print(f"commits={commits}", flush=True)
        raise
    print(f"commits={commits}", flush=True)
