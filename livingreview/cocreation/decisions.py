"""Co-creation alerts in the store: raising them, maintainers' decisions, what the detector
learns from them and how precise it has been.

An alert is raised once per record; a decision (``confirmed`` or ``dismissed``, with who, when
and why) is an append-only row, and the latest decision on an alert is the one in force.
"""

from __future__ import annotations

import getpass
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from livingreview.cocreation.detector import (
    Detector,
    DetectorConfig,
    Example,
    Flag,
    Text,
    cross_validated_precision,
)
from livingreview.errors import InputError
from livingreview.store.models import AlertDecision, Candidate, CoCreationAlert, StoredRecord

CONFIRMED, DISMISSED = "confirmed", "dismissed"


def text_of(record: StoredRecord) -> Text:
    return Text(str(record.id), record.title, record.abstract, "; ".join(record.keywords or []))


def decision_in_force(alert: CoCreationAlert) -> AlertDecision | None:
    return alert.decisions[-1] if alert.decisions else None


def _alerts_with_records(session: Session):
    return session.execute(select(CoCreationAlert, StoredRecord)
                           .join(StoredRecord, StoredRecord.id == CoCreationAlert.record_id)
                           .order_by(CoCreationAlert.id)).all()


def decided_examples(session: Session) -> list[Example]:
    """Every alert a maintainer has decided, with the decision in force."""
    examples = []
    for alert, record in _alerts_with_records(session):
        latest = decision_in_force(alert)
        if latest is not None:
            examples.append(Example(text_of(record), latest.decision == CONFIRMED))
    return examples


def detector_for(session: Session, config: DetectorConfig) -> Detector:
    """The detector as the store's decisions make it: rules, or learned once enough exist."""
    return Detector(config, decided_examples(session))


def raise_alerts(session: Session, run_id: int, detector: Detector
                 ) -> list[tuple[CoCreationAlert, StoredRecord, Flag]]:
    """Flag this run's new candidates; each flagged record not alerted before gets an alert."""
    rows = session.execute(
        select(StoredRecord).join(Candidate, Candidate.record_id == StoredRecord.id)
        .where(Candidate.run_id == run_id).order_by(StoredRecord.id)).scalars().all()
    alerted = set(session.scalars(select(CoCreationAlert.record_id)))
    fresh = [r for r in rows if r.id not in alerted]
    raised = []
    for record, flag in zip(fresh, detector.detect(text_of(r) for r in fresh)):
        if not flag.flagged:
            continue
        alert = CoCreationAlert(
            record_id=record.id, run_id=run_id, score=flag.score, mode=flag.mode,
            evidence=[{"phase": e.phase, "strength": e.strength, "cue": e.cue,
                       "passage": e.passage} for e in flag.evidence])
        session.add(alert)
        raised.append((alert, record, flag))
    session.flush()
    return raised


def decide(session: Session, alert_id: int, decision: str, by: str | None = None,
           why: str | None = None) -> AlertDecision:
    """Append a maintainer's decision on an alert."""
    if decision not in (CONFIRMED, DISMISSED):
        raise ValueError(decision)
    alert = session.get(CoCreationAlert, alert_id)
    if alert is None:
        raise InputError("alerts", f"alert {alert_id}", "no such alert",
                         "see the alert ids with `livingreview alerts list`")
    if decision == DISMISSED and not (why or "").strip():
        raise InputError("alerts", f"alert {alert_id}", "a dismissal needs a reason",
                         "say why with --why '...' (the detector and the report use it)")
    row = AlertDecision(alert_id=alert_id, decision=decision, reason=(why or "").strip() or None,
                        decided_by=(by or "").strip() or getpass.getuser())
    session.add(row)
    session.flush()
    return row


@dataclass(frozen=True)
class AlertView:
    id: int
    record_id: int
    title: str | None
    year: int | None
    score: float
    mode: str
    status: str  # open | confirmed | dismissed
    evidence: list[dict[str, str]]
    reason: str | None


def list_alerts(session: Session, status: str | None = None) -> list[AlertView]:
    views = []
    for alert, record in _alerts_with_records(session):
        latest = decision_in_force(alert)
        view = AlertView(alert.id, record.id, record.title, record.year, alert.score, alert.mode,
                         latest.decision if latest else "open", list(alert.evidence or []),
                         latest.reason if latest else None)
        if status is None or view.status == status:
            views.append(view)
    return views


def detector_status(session: Session, config: DetectorConfig) -> dict[str, Any]:
    """What the report says about the detector: its mode and its precision on decided alerts."""
    examples = decided_examples(session)
    detector = Detector(config, examples)
    status = {"mode": detector.mode, "threshold": config.threshold,
              "learn_after": config.learn_after, "learn_min_each": config.learn_min_each,
              "alerts": len(list_alerts(session)),
              **cross_validated_precision(examples, config)}
    status["dismissed"] = status["decided"] - status["confirmed"]
    return status


def status_sentence(status: dict[str, Any]) -> str:
    """One paragraph for the monthly report."""
    mode = ("rules (the coding scheme's definitions; threshold "
            f"{status['threshold']:g})" if status["mode"] == "rules"
            else "learned (a model fitted to the maintainers' decisions, next to the rules)")
    text = (f"The co-creation detector ran in **{status['mode']}** mode: {mode}. "
            f"{status['alerts']} alert(s) raised so far, {status['decided']} decided "
            f"({status['confirmed']} confirmed, {status['dismissed']} dismissed).")
    if status["decided"]:
        text += (f" Measured precision on the decided alerts: {status['alert_precision']:.3f} "
                 "(confirmed / decided).")
    else:
        text += " Its precision cannot be measured yet: no alert has been decided."
    if status.get("learned_kept") is not None:
        learned = status.get("learned_precision")
        text += (f" The learned model's precision on the same alerts, each predicted by a model "
                 f"fitted without it ({status['folds']} folds): "
                 + (f"{learned:.3f} on the {status['learned_kept']} it keeps." if learned
                    is not None else "it keeps none of them."))
    if status["mode"] == "rules":
        text += (f" It learns from the decisions once {status['learn_after']} alerts are decided, "
                 f"at least {status['learn_min_each']} confirmed and {status['learn_min_each']} "
                 "dismissed (`livingreview alerts confirm|dismiss`).")
    return text
