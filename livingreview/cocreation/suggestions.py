"""Charting suggestions: the involvement and role type the detector's evidence points to.

A suggestion is never a code: the charting export shows it in its own ``suggested_*`` columns
beside the coder's empty cell, with the passages it rests on, and the import ignores those
columns. Where a coder has coded the field, no suggestion is made.

Involvement (coding-scheme.md §1): ``co-creation`` when the co-creation detector flags the
record (peers in an early phase; delivery is every included study's); ``delivery+assessment``
when peers evaluate the service or take part in its research without early-phase work (the
article's reading of Almeida et al. 2020); otherwise ``co-production``. Role type: ``partners in
co-creation`` with co-creation; ``pre-determined services`` when the text describes a strictly
defined, evidence-based or manualised programme peers were trained to deliver with fidelity;
otherwise ``peer support``, the role of 145 of the 172 studies.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from livingreview.cocreation.detector import Detector, Text
from livingreview.cocreation.rules import record_text, sentences

# Peers taking part in evaluating the service or researching it (a late phase: assessment).
_ASSESSMENT = re.compile(
    r"\bco-?research\w*|\bparticipatory (?:action )?(?:research|evaluation|case study)\b|"
    r"\bco-?design(?:ed|ing)? (?:this|the) (?:study|research|evaluation)\b|"
    r"\binvolved in the (?:study|research|evaluation)\b|\bevaluat\w+ (?:of )?(?:the )?services?\b|"
    r"\bco-?assess\w*|\bexperience-based co-?design\b", re.IGNORECASE)
_PEER = re.compile(r"\bpeers?\b|\bpeer[- ]\w+|\blived experience\b|\bexperts? by experience\b",
                   re.IGNORECASE)
# A strictly defined programme that peers deliver (the "pre-determined services" role).
_PREDETERMINED = re.compile(
    r"\bevidence-based (?:program|programme|intervention|practice|model)s?\b|\bmanuali[sz]ed\b|"
    r"\bfidelity\b|\bstructured (?:program|programme|intervention|sessions?|curriculum)\b|"
    r"\btrained to deliver\b|\bpre-?(?:defined|determined|specified)\b|\bprotocoli[sz]ed\b|"
    r"\bstandardi[sz]ed (?:program|programme|intervention)\b|\brandomi[sz]ed\b",
    re.IGNORECASE)


@dataclass(frozen=True)
class Suggestion:
    involvement: str
    role_type: str
    evidence: str  # the passages, led by what each one shows


def _passages(text: str, pattern: re.Pattern[str], label: str, need_peer: bool) -> list[str]:
    return [f"[{label}: {m.group(0)}] {s}" for s in sentences(text)
            for m in [pattern.search(s)] if m and (not need_peer or _PEER.search(s))]


def suggest(texts: list[Text], detector: Detector) -> dict[str, Suggestion]:
    """Suggestions per record id."""
    out: dict[str, Suggestion] = {}
    for text, flag in zip(texts, detector.detect(texts)):
        joined = record_text(text.title, text.abstract, text.keywords)
        if flag.flagged:
            out[text.record_id] = Suggestion("co-creation", "partners in co-creation",
                                             flag.evidence_text())
            continue
        assessment = _passages(joined, _ASSESSMENT, "assessment", need_peer=True)
        predetermined = _passages(joined, _PREDETERMINED, "pre-determined services",
                                  need_peer=False)
        involvement = "delivery+assessment" if assessment else "co-production"
        role = "pre-determined services" if predetermined else "peer support"
        evidence = assessment[:2] + predetermined[:2]
        out[text.record_id] = Suggestion(involvement, role, " || ".join(evidence) or
                                         "no early-phase, assessment or pre-determined passage")
    return out
