"""An update process SIGKILLed after any of its store commits, then run again, ends with exactly
the store an undisturbed run leaves; no run stays "running"; no archived response is lost.

The quick part (in `make test`) kills just before the watermarks move (everything stored,
report written, alerts sent); `make test-slow` kills after the last commit of every step (and after the first
archived response), wherever an undisturbed run's commits show a step ending.
"""

from __future__ import annotations

import re
import time

import pytest
from sqlalchemy import create_engine

from tests.reliability.conftest import archived, contents, difference, run_rows, watermarks


def _commits(result) -> int:
    found = re.search(r"commits=(\d+)", result.stdout)
    assert result.returncode == 0 and found, result.stdout[-2000:] + result.stderr[-4000:]
    return int(found[1])


@pytest.fixture(scope="module")
def undisturbed(request):
    """One undisturbed update: its store's contents, archive size, and the step that made each
    of its commits (a kill after a step's last commit dies between that step and the next)."""
    make_project = request.getfixturevalue("make_project")
    project = make_project(LR_CRASH_TRACE="1")
    result = project.update()
    total = _commits(result)
    found = dict((int(n), step) for n, step in re.findall(r"commit (\d+): (\S+ > \S+)",
                                                          result.stdout + result.stderr))
    # A commit made on a worker thread outside any task frame (or whose line was lost in the
    # interleaved output) is still a kill point, just an unnamed one.
    steps = {n: found.get(n, "unnamed > step") for n in range(1, total + 1)}
    assert len(found) >= total // 2, found
    return {"commits": total, "steps": steps, "contents": contents(project.url),
            "archived": archived(project.url), "marks": watermarks(project.url)}


def _step_ends(steps: dict[int, str]) -> dict[int, str]:
    """The last commit of each step, and the first and a middle one of the harvest's archive."""
    ends = {n: step for n, step in steps.items() if steps.get(n + 1) != step}
    archive = [n for n, step in steps.items() if step.endswith("> archive")]
    if archive:
        ends |= {archive[0]: "first archived response", archive[len(archive) // 2]: "mid-harvest"}
    ends.pop(max(steps))  # after the last commit the run is over: nothing left to kill
    return dict(sorted(ends.items()))


def _quick_points(steps: dict[int, str]) -> list[int]:
    ends = _step_ends(steps)
    pick = ("update_review > alert_maintainers",)
    return [n for n, step in ends.items() if step in pick]


def _check_recovery(make_project, undisturbed, kill_after: int) -> None:
    project = make_project()
    killed = project.update(kill_after)
    assert killed.returncode == -9, (kill_after, killed.stdout[-1500:], killed.stderr[-3000:])
    assert watermarks(project.url) == {} or watermarks(project.url) == undisturbed["marks"]
    again = project.update()
    _commits(again)
    changed = difference(contents(project.url), undisturbed["contents"])
    if changed:
        pytest.fail(f"killed after commit {kill_after}, then run again:\n{changed}")
    assert watermarks(project.url) == undisturbed["marks"]
    assert archived(project.url) >= undisturbed["archived"]  # the killed run's archive is kept
    statuses = [status for _, kind, status in run_rows(project.url) if kind == "update"]
    assert "running" not in statuses, statuses
    assert statuses[-1] == "succeeded"


def test_an_update_killed_just_before_its_watermarks_move_then_rerun_equals_an_undisturbed_one(
        make_project, undisturbed):
    points = _quick_points(undisturbed["steps"])
    assert len(points) == 1, _step_ends(undisturbed["steps"])
    for point in points:
        _check_recovery(make_project, undisturbed, point)


@pytest.mark.slow
def test_an_update_killed_between_any_two_of_its_steps_recovers(make_project, undisturbed):
    for point in _step_ends(undisturbed["steps"]):
        _check_recovery(make_project, undisturbed, point)


def test_two_updates_started_together_one_proceeds_and_nothing_is_stored_twice(make_project,
                                                                              undisturbed):
    project = make_project()
    first, second = project.start_update(), project.start_update()
    outcomes = sorted([(p.wait(timeout=300), p.communicate()) for p in (first, second)],
                      key=lambda outcome: outcome[0])
    (ok, _), (refused, (_, refused_err)) = outcomes
    assert (ok, refused) == (0, 1), refused_err[-3000:]
    assert "only one update or report runs at a time" in refused_err.strip().splitlines()[-1]
    assert difference(contents(project.url), undisturbed["contents"]) == ""
    assert watermarks(project.url) == undisturbed["marks"]
    assert [status for _, kind, status in run_rows(project.url) if kind == "update"] == [
        "succeeded"]


def test_an_update_started_while_one_runs_is_refused_at_once_in_one_line(make_project):
    project = make_project()
    running = project.start_update()
    try:
        deadline = time.monotonic() + 120
        while not _lock_held(project.url):
            assert running.poll() is None and time.monotonic() < deadline, "no lock taken"
            time.sleep(0.2)
        started = time.monotonic()
        refused = project.update()
        took = time.monotonic() - started
    finally:
        running.wait(timeout=300)
    assert refused.returncode == 1
    assert refused.stderr.count("\n") <= 3 and "Traceback" not in refused.stderr
    assert "only one update or report runs at a time" in refused.stderr
    assert took < 30  # refused before Prefect starts a flow run (a run takes far longer)
    assert running.returncode == 0


def _lock_held(url: str) -> bool:
    engine = create_engine(url)
    with engine.connect() as connection:
        held = connection.exec_driver_sql("SELECT count(*) FROM store_locks").scalar()
    engine.dispose()
    return held == 1
