"""The terminal screener, driven as a user would: `livingreview screen` in a pseudo-terminal
(keys read raw by click), and with keys piped on standard input (scripted use)."""

from __future__ import annotations

import os
import pty
import re
import select
import sys
import time

import pytest

from livingreview.screening.screener import DECISION_PROMPT, REASON_PROMPT
from livingreview.screening.status import record_status
from livingreview.store.database import session_scope
from livingreview.store.models import Candidate, ScreeningDecision, StoredRecord

CLI = [sys.executable, "-c", "from livingreview.cli import main; main()"]
TA = "title_abstract"


def _queue(url: str) -> list[int]:
    ids = []
    with session_scope(url) as s:
        for i, title in enumerate(["Peer support workers co-design a crisis service",
                                   "Recovery college tutors with lived experience",
                                   "Peer navigators in primary care"]):
            row = StoredRecord(origin="pubmed", title=title, year=2024, authors=["Lee, K."],
                               abstract="Peer workers were employed in mental health services.",
                               keywords=["peer support"])
            s.add(row)
            s.flush()
            s.add(Candidate(record_id=row.id, priority=10.0 - i))
            ids.append(row.id)
    return ids


def _env(url: str, tmp_path) -> dict[str, str]:
    env = dict(os.environ, LR_DATABASE_URL=url, LR_HOME=str(tmp_path), COLUMNS="100",
               LR_REVIEW_FILE=str(tmp_path / "missing.toml"))
    env.pop("NO_COLOR", None)
    return env


class Terminal:
    """A child process on a pseudo-terminal, read until expected prompts appear."""

    def __init__(self, argv: list[str], env: dict[str, str]) -> None:
        self.pid, self.fd = pty.fork()
        if self.pid == 0:  # child: the pty is its controlling terminal
            os.execve(argv[0], argv, env)
        self.output = ""

    def _read(self, timeout: float) -> bool:
        ready, _, _ = select.select([self.fd], [], [], timeout)
        if not ready:
            return False
        try:
            chunk = os.read(self.fd, 65536)
        except OSError:  # the child closed the terminal
            return False
        self.output += chunk.decode("utf-8", "replace")
        return bool(chunk)

    def plain(self) -> str:
        return re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", self.output)

    def expect(self, text: str, count: int, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while self.plain().count(text) < count:
            if time.monotonic() > deadline or not self._read(deadline - time.monotonic()):
                raise AssertionError(f"waited for {text!r} x{count}; screen shows:\n{self.plain()}")

    def press(self, key: str) -> None:
        os.write(self.fd, key.encode())

    def wait(self, timeout: float = 30) -> int:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self._read(0.2)
            pid, status = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                while self._read(0.1):
                    pass
                return os.waitstatus_to_exitcode(status)
        os.kill(self.pid, 9)
        raise AssertionError("screener did not exit:\n" + self.plain())


@pytest.mark.skipif(sys.platform == "win32", reason="pseudo-terminals are POSIX")
def test_screening_in_a_terminal_records_decisions_with_reason_and_undo(store_url, tmp_path):
    a, b, c = _queue(store_url)
    term = Terminal(CLI + ["screen", "--reviewer", "ann", "--stage", "title_abstract"],
                    _env(store_url, tmp_path))
    term.expect(DECISION_PROMPT, 1)
    assert "co-design" in term.plain() and "3 waiting" in term.plain()
    term.press("i")                       # include the first record
    term.expect(DECISION_PROMPT, 2)
    term.press("e")                       # exclude the second ...
    term.expect(REASON_PROMPT, 1)
    assert "EX_RECOVERY_COLLEGE" in term.plain()
    term.press("l")                       # ... for EX_SETTING (10th reason)
    term.expect(DECISION_PROMPT, 3)
    term.press("u")                       # undo: the second record comes back
    term.expect(DECISION_PROMPT, 4)
    assert "Undid your last decision" in term.plain()
    term.press("m")                       # maybe instead
    term.expect(DECISION_PROMPT, 5)
    term.press("q")
    assert term.wait() == 0
    assert "Session ended: 2 decision(s), 1 undone." in term.plain()
    with session_scope(store_url) as s:
        assert record_status(s, a)[TA].decision == "include"
        second = record_status(s, b)[TA]
        assert second.decision == "maybe" and second.votes["ann"].reviewer == "ann"
        assert record_status(s, c)[TA].decision is None
        kinds = [d.decision for d in s.query(ScreeningDecision).order_by(ScreeningDecision.id)]
        assert kinds == ["include", "exclude", "undo", "maybe"]
        excluded = s.query(ScreeningDecision).filter_by(decision="exclude").one()
        assert excluded.reason_code == "EX_SETTING" and excluded.reviewer == "ann"


@pytest.mark.skipif(sys.platform == "win32", reason="pseudo-terminals are POSIX")
def test_every_key_at_the_reason_prompt_in_a_terminal(store_url, tmp_path):
    a, b, c = _queue(store_url)
    with session_scope(store_url) as s:  # the first record carries a flag that suggests a reason
        s.get(Candidate, a).flags = ["recovery_college"]
    term = Terminal(CLI + ["screen", "--reviewer", "ann"], _env(store_url, tmp_path))
    term.expect(DECISION_PROMPT, 1)
    assert "title/abstract screening" in term.plain() and "full/text" not in term.plain()
    term.press("e")
    term.expect(REASON_PROMPT, 1)
    term.press("q")                       # q leaves the reason prompt: nothing recorded
    term.expect("Cancelled; no decision recorded.", 1)
    term.expect(DECISION_PROMPT, 2)
    term.press("e")
    term.expect(REASON_PROMPT, 2)
    for n, key in enumerate("eimsu", start=1):  # action keys pick no reason
        term.press(key)
        term.expect("Press one of the letters shown", n)
    term.press("\x1b")                    # Esc cancels too
    term.expect("Cancelled; no decision recorded.", 2)
    term.expect(DECISION_PROMPT, 3)
    term.press("e")
    term.expect(REASON_PROMPT, 8)
    term.press("\r")                      # Enter takes the suggested reason
    term.expect(f"Recorded exclude (EX_RECOVERY_COLLEGE) for record {a}.", 1)
    term.expect(DECISION_PROMPT, 4)
    term.press("e")
    term.expect(REASON_PROMPT, 9)
    term.press("\r")                      # nothing suggested for the second: Enter asks again
    term.expect("No reason is suggested for this record", 1)
    term.press("q")
    term.expect(DECISION_PROMPT, 5)
    term.press("s")                       # skip the second, quit at the third
    term.expect(DECISION_PROMPT, 6)
    term.press("q")
    assert term.wait() == 0
    assert "Session ended: 1 decision(s), 0 undone." in term.plain()
    with session_scope(store_url) as s:
        rows = [(d.record_id, d.decision, d.reason_code) for d in s.query(ScreeningDecision)]
        assert rows == [(a, "exclude", "EX_RECOVERY_COLLEGE")]
        assert record_status(s, b)[TA].decision is None and record_status(s, c)[TA].decision is None


def _cli(args: list[str], keys: str, url: str, tmp_path, monkeypatch):
    """The CLI in-process with keys on a piped (non-terminal) standard input."""
    from typer.testing import CliRunner

    from livingreview.cli import app

    for name, value in _env(url, tmp_path).items():
        if name.startswith("LR_"):
            monkeypatch.setenv(name, value)
    return CliRunner().invoke(app, args, input=keys, env={"COLUMNS": "100"})


def test_keys_piped_on_stdin_drive_the_screener(store_url, tmp_path, monkeypatch):
    a, b, c = _queue(store_url)
    # include; exclude: Enter (nothing suggested), e (not a reason), q cancels; exclude
    # EX_SETTING (l); end of input stops
    done = _cli(["screen", "--reviewer", "bob"], "ie\reqel", store_url, tmp_path, monkeypatch)
    assert done.exit_code == 0, done.output
    assert "No reason is suggested for this record" in done.output
    assert "Cancelled; no decision recorded." in done.output
    with session_scope(store_url) as s:
        assert record_status(s, a)[TA].decision == "include"
        second = record_status(s, b)[TA]
        assert second.decision == "exclude" and second.reason_code == "EX_SETTING"
        assert s.query(ScreeningDecision).filter_by(decision="exclude").count() == 1
    # End of input ended the session; bob's queue holds the third record and the first one,
    # now at full text.
    done = _cli(["queue", "--reviewer", "bob"], "", store_url, tmp_path, monkeypatch)
    assert done.exit_code == 0, done.output
    assert "full_text" in done.output and "2 pending" in done.output


def test_resolve_mode_records_a_resolution(store_url, tmp_path, monkeypatch):
    from livingreview.screening.status import record_decision

    a, _, _ = _queue(store_url)
    with session_scope(store_url) as s:
        record_decision(s, a, TA, "include", "ann")
        record_decision(s, a, TA, "exclude", "bob", reason_code="EX_NOT_PAID")
    done = _cli(["conflicts"], "", store_url, tmp_path, monkeypatch)
    assert "1 conflict(s)" in done.output
    done = _cli(["screen", "--reviewer", "cat", "--resolve"], "i", store_url, tmp_path,
                monkeypatch)
    assert done.exit_code == 0, done.output
    assert "ann include" in done.output and "bob exclude (EX_NOT_PAID)" in done.output
    with session_scope(store_url) as s:
        outcome = record_status(s, a)[TA]
        assert outcome.decision == "include" and outcome.resolution.reviewer == "cat"
