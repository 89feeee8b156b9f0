"""The terminal screener: one record at a time, one key per decision.

Shows title, authors, journal, year, keywords and abstract, with the review's search terms
highlighted (green) and the eligibility hints that point towards an exclusion (red), plus the
pre-filter's flags. Keys: ``i`` include, ``e`` exclude (then one key picks the reason code,
Enter the suggested one, ``q`` or Esc cancels), ``m`` maybe, ``u`` undo the last decision made
in this session, ``s`` skip for now, ``q`` quit. No reason is picked by an action key.

Each decision is its own short transaction, so many reviewers can screen the same store at once
and the queue is re-read before every record (what a colleague just decided is not shown again).
In resolve mode the screener walks the conflicts instead, shows everybody's votes, and records
the decision as a resolution.

Keys are read in cbreak mode on a terminal (see ``KeyReader``); when standard input is not a
terminal, one character at a time is read from it, so the screener can also be driven by a
script.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass, field

import click
from rich.console import Console
from rich.panel import Panel
from rich.text import Text

from livingreview.screening.eligibility import FLAG_PATTERNS, FLAG_REASONS, REASON_CODES
from livingreview.screening.status import (
    STAGES,
    DecisionRejected,
    conflicts,
    pending_candidates,
    record_decision,
    undo_last_decision,
)
from livingreview.store.database import session_scope
from livingreview.store.models import StoredRecord

# The review's search concepts (Table 1, P and C blocks), for highlighting only.
SEARCH_TERMS = [
    r"\bpeer[-\s]+(provid|support|mentor|educator|advocate|listen|work|specialist|navigat)\w*",
    r"\bliv(e|ed|es|ing)[-\s]+experience\w*",
    r"\bexperts?[-\s]+by[-\s]+experienc\w*",
    r"\brecovery[-\s]+coach\w*",
    r"\bconsumer[-\s]+provider\w*",
    r"\bboundary[-\s]+spanner\w*",
    r"\bco[-\s]?(creat|produc|design|commission|deliver)\w*",
]
DECISION_PROMPT = "Decision [i]nclude [e]xclude [m]aybe [u]ndo [s]kip [q]uit: "
# Reason keys leave out the action keys (e i m q s u): a q typed to leave the reason prompt
# must never record an exclusion.
REASON_KEYS = "abcdfghjklnoprtvwxy"
REASON_PROMPT = "Reason [letter], Enter = suggested (*), q or Esc = cancel: "
STAGE_LABELS = {"title_abstract": "title/abstract", "full_text": "full-text"}


class KeyReader:
    """Single key presses for the length of a screening session.

    On a terminal the session runs in cbreak mode (no echo, no line buffering, Ctrl-C still
    interrupts). The mode is set once, not around every read as ``click.getchar`` does: that
    switches with TCSAFLUSH, which throws away keys typed while the previous decision was
    being saved. Without a terminal, one character of standard input is one key.
    """

    def __init__(self) -> None:
        self.fd: int | None = None
        self._saved = None

    def __enter__(self) -> "KeyReader":
        if sys.stdin is not None and sys.stdin.isatty():
            try:
                import termios
                import tty

                self.fd = sys.stdin.fileno()
                self._saved = termios.tcgetattr(self.fd)
                tty.setcbreak(self.fd, termios.TCSANOW)
            except (ImportError, OSError):  # no termios (Windows): click reads keys there
                self.fd = None
        return self

    def __exit__(self, *exc) -> None:
        if self.fd is not None and self._saved is not None:
            import termios

            termios.tcsetattr(self.fd, termios.TCSADRAIN, self._saved)

    def __call__(self) -> str:
        if self.fd is not None:
            key = os.read(self.fd, 32).decode("utf-8", "replace")
            return "q" if key in ("", "\x04") else key  # Ctrl-D also ends the session
        if sys.stdin is not None and sys.stdin.isatty():
            return click.getchar()
        char = sys.stdin.read(1) if sys.stdin is not None else ""
        return char or "q"  # end of input ends the session


@dataclass
class SessionLog:
    decided: list[tuple[int, str]] = field(default_factory=list)  # (record id, stage)
    undone: int = 0
    skipped: set[tuple[int, str]] = field(default_factory=set)

    @property
    def count(self) -> int:
        return len(self.decided)


class Screener:
    """Interactive screening for one reviewer against the store at ``url``."""

    def __init__(self, url: str, reviewer: str, *, stage: str | None = None,
                 resolve: bool = False, console: Console | None = None,
                 key: Callable[[], str] | None = None) -> None:
        self.url = url
        self.reviewer = reviewer
        self.stage = stage
        self.resolve = resolve
        self.console = console or Console(highlight=False)
        self.key = key
        self.log = SessionLog()
        self._next: tuple[int, str] | None = None

    # -- what to show next ---------------------------------------------------------------
    def _queue(self) -> list[tuple[int, str, list[str], str]]:
        """(record id, stage, flags, context line) of what this reviewer should see now."""
        with session_scope(self.url) as session:
            if self.resolve:
                return [(rid, stage, [], _votes_line(outcome))
                        for rid, stage, outcome in conflicts(session, self.stage)]
            items = pending_candidates(session, reviewer=self.reviewer, stage=self.stage)
        # Title/abstract screening first, then full texts; priority order within each.
        items.sort(key=lambda i: STAGES.index(i.stage))
        return [(i.record_id, i.stage, i.flags,
                 f"{STAGE_LABELS[i.stage]} screening"
                 + (" · second reviewer" if i.second_reviewer else ""))
                for i in items]

    def _pick(self) -> tuple[tuple[int, str, list[str], str] | None, int]:
        queue = [q for q in self._queue() if (q[0], q[1]) not in self.log.skipped]
        if self._next is not None:
            wanted = [q for q in queue if (q[0], q[1]) == self._next]
            self._next = None
            if wanted:
                return wanted[0], len(queue)
        return (queue[0] if queue else None), len(queue)

    # -- the loop ---------------------------------------------------------------------
    def run(self) -> SessionLog:
        if self.key is None:
            with KeyReader() as reader:
                self.key = reader
                try:
                    return self._run()
                finally:
                    self.key = None
        return self._run()

    def _run(self) -> SessionLog:
        mode = "resolving conflicts" if self.resolve else "screening"
        self.console.print(Text.assemble((self.reviewer, "bold"),
                                         f" {mode}. Press q to stop at any time."))
        try:
            while True:
                item, remaining = self._pick()
                if item is None:
                    self.console.print("[green]Nothing left to screen here.[/] "
                                       f"{self.log.count} decision(s) recorded.")
                    break
                if not self._screen_one(item, remaining):
                    break
        except KeyboardInterrupt:
            pass
        self.console.print(f"Session ended: {self.log.count} decision(s), "
                           f"{self.log.undone} undone.")
        return self.log

    def _screen_one(self, item: tuple[int, str, list[str], str], remaining: int) -> bool:
        record_id, stage, flags, context = item
        self._show(record_id, flags, context, remaining)
        while True:
            self.console.print(DECISION_PROMPT, end="", markup=False)
            key = self.key().lower()
            self.console.print(key if key.isprintable() else "", markup=False)
            if key == "q":
                return False
            if key == "s":
                self.log.skipped.add((record_id, stage))
                return True
            if key == "u":
                if self._undo():
                    return True
                continue
            decision = {"i": "include", "e": "exclude", "m": "maybe"}.get(key)
            if decision is None:
                self.console.print("[yellow]Keys: i include, e exclude, m maybe, u undo, "
                                   "s skip, q quit[/]")
                continue
            reason = None
            if decision == "exclude":
                reason = self._pick_reason(flags)
                if reason is None:
                    continue
            try:
                with session_scope(self.url) as session:
                    record_decision(session, record_id, stage, decision, self.reviewer,
                                    reason_code=reason, resolution=self.resolve,
                                    note="terminal screener")
            except DecisionRejected as exc:
                self.console.print(f"[red]Not recorded:[/] {exc}")
                continue
            self.log.decided.append((record_id, stage))
            shown = decision + (f" ({reason})" if reason else "")
            self.console.print(f"[bold]Recorded[/] {shown} for record {record_id}.")
            return True

    def _pick_reason(self, flags: list[str]) -> str | None:
        suggested = [code for code in REASON_CODES
                     if code in {FLAG_REASONS[f] for f in flags if f in FLAG_REASONS}]
        for key, (code, text) in zip(REASON_KEYS, REASON_CODES.items()):
            mark = "[red]*[/]" if code in suggested else " "
            self.console.print(f"  {mark} [bold]{key}[/] {code:<25} {text}")
        while True:
            self.console.print(REASON_PROMPT, end="", markup=False)
            key = self.key()
            lowered = key.lower()
            self.console.print(lowered if lowered.isprintable() else "", markup=False)
            if lowered in ("\x1b", "q", ""):
                self.console.print("Cancelled; no decision recorded.")
                return None
            if lowered in ("\r", "\n"):
                if suggested:  # the first in the checklist's order, as the pre-filter ranks them
                    return suggested[0]
                self.console.print("[yellow]No reason is suggested for this record: press its "
                                   "letter, or q to cancel.[/]")
                continue
            if len(lowered) == 1 and lowered in REASON_KEYS:
                return list(REASON_CODES)[REASON_KEYS.index(lowered)]
            self.console.print("[yellow]Press one of the letters shown, Enter for the suggested "
                               "reason, or q to cancel.[/]")

    def _undo(self) -> bool:
        if not self.log.decided:
            self.console.print("[yellow]Nothing to undo in this session.[/]")
            return False
        record_id, stage = self.log.decided.pop()
        try:
            with session_scope(self.url) as session:
                undo_last_decision(session, record_id, stage, self.reviewer,
                                   note="undone in the terminal screener")
        except DecisionRejected as exc:
            self.console.print(f"[red]Could not undo:[/] {exc}")
            return False
        self.log.undone += 1
        self._next = (record_id, stage)
        self.log.skipped.discard((record_id, stage))
        self.console.print(f"Undid your last decision on record {record_id}; it is shown again.")
        return True

    # -- display ----------------------------------------------------------------------
    def _show(self, record_id: int, flags: list[str], context: str, remaining: int) -> None:
        with session_scope(self.url) as session:
            record = session.get(StoredRecord, record_id)
            title = record.title or "(no title)"
            meta = ", ".join(p for p in (
                "; ".join(record.authors[:6]) + (" et al." if len(record.authors) > 6 else ""),
                record.journal or "", str(record.year or "")) if p)
            ids = " ".join(p for p in (f"doi:{record.doi}" if record.doi else "",
                                       f"pmid:{record.pmid}" if record.pmid else "") if p)
            keywords = "; ".join((record.keywords or []) + (record.mesh_terms or []))
            abstract = record.abstract or "(no abstract: check the full text)"
        body = Text()
        body.append_text(_highlighted(title, bold=True))
        body.append("\n" + meta + ("\n" + ids if ids else ""), style="dim")
        if keywords:
            body.append("\nKeywords: ", style="bold")
            body.append_text(_highlighted(keywords))
        body.append("\n\n")
        body.append_text(_highlighted(abstract))
        if flags:
            body.append("\n\nFlags: ", style="bold")
            body.append(", ".join(flags), style="red")
        self.console.print(Panel(body, title=Text(f"record {record_id} · {context}"),
                                 subtitle=Text(f"{remaining} waiting"), expand=True))


def _highlighted(text: str, bold: bool = False) -> Text:
    shown = Text(text, style="bold" if bold else "")
    for pattern in SEARCH_TERMS:
        shown.highlight_regex(re.compile(pattern, re.IGNORECASE), "bold green")
    for pattern in FLAG_PATTERNS.values():
        shown.highlight_regex(pattern, "bold red")
    return shown


def _votes_line(outcome) -> str:
    return "conflict: " + ", ".join(
        f"{v.reviewer} {v.decision}" + (f" ({v.reason_code})" if v.reason_code else "")
        for v in outcome.votes.values())
