"""The eligibility pre-filter: metadata rules that exclude, and text hints that only flag.

Rules follow ``seed/search-strategy.md`` part (d). Only the mechanical criteria exclude a record
automatically (year, language, publication type, the review itself); everything that needs
judgement becomes a *flag* a screener sees next to the title, never an exclusion. When several
rules fail, the record gets one primary reason: the first in the checklist's table order.

The lists come from ``review.toml``'s ``[eligibility]`` section (see ``EligibilityRules``); the
defaults are the published review's, so ``prefilter(record)`` alone does what the review did.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from livingreview.errors import ConfigError
from livingreview.records import Record, normalise_doi, normalise_pmid

# The review's exclusion reasons, in the checklist's table order (search-strategy.md (d));
# the order decides the primary reason when several apply.
NOT_RETRIEVED = "EX_NOT_RETRIEVED"
REASON_CODES: dict[str, str] = {
    "EX_PRE2010": "published before 2010",
    "EX_LANGUAGE": "not written in English",
    "EX_NOT_PEER_REVIEWED": "not a peer-reviewed scientific article (preprint, book, report...)",
    "EX_REVIEW": "a review of any kind",
    "EX_COMMENTARY_DISCUSSION": "commentary, discussion paper or other non-research paper",
    "EX_INCOMPLETE_METHODS": "research methods or participants not adequately described",
    "EX_NO_PEER_WORKER": "does not describe peer workers (lived experience, employed in services)",
    "EX_ROLE_UNCLEAR": "peer workers' roles or activities cannot be determined",
    "EX_NOT_PAID": "unclear whether peer workers are in paid positions",
    "EX_SETTING": "not in mental health and/or substance use services",
    "EX_RESEARCH_ONLY": "peer workers involved in research only, not service delivery",
    "EX_EDUCATION_ONLY": "peer workers involved in education only, not service delivery",
    "EX_MUTUAL_SELF_HELP": "mutual peer support or self-help groups",
    "EX_CONSUMER_DRIVEN": "consumer-driven or consumer-run services",
    "EX_PEER_LED_EDUCATION": "peer-led education",
    "EX_PEER_COUNSELLING": "peer counselling programme",
    "EX_RECOVERY_COLLEGE": "recovery college",
    "EX_AGE_POPULATION": "not adults 18-65 from the general population (youth, older adults)",
    "EX_NOT_PRIMARY": "the review itself or its protocol (not a primary study)",
    # Full text only: PRISMA 2020 reports "reports not retrieved" apart from reports excluded.
    NOT_RETRIEVED: "the full text could not be retrieved (full-text stage)",
}

DEFAULT_PUBLICATION_TYPES: dict[str, list[str]] = {
    "EX_NOT_PEER_REVIEWED": ["Preprint"],
    "EX_REVIEW": ["Review", "Systematic Review", "Meta-Analysis"],
    "EX_COMMENTARY_DISCUSSION": ["Comment", "Editorial", "Letter", "News", "Published Erratum",
                                 "Retraction of Publication"],
}
DEFAULT_EXCLUDE_PMIDS = ["36396756", "33720989"]
DEFAULT_EXCLUDE_DOIS = ["10.1007/s10488-022-01242-x", "10.1371/journal.pone.0248558"]

# Crossref work types (api.crossref.org/types). Only journal articles are peer-reviewed research
# articles in the review's sense; a record carrying one of the others and no journal-article type
# is excluded as EX_NOT_PEER_REVIEWED.
CROSSREF_TYPES = frozenset({
    "book", "book-chapter", "book-part", "book-section", "book-series", "book-set", "book-track",
    "component", "database", "dataset", "dissertation", "edited-book", "grant", "journal",
    "journal-article", "journal-issue", "journal-volume", "monograph", "other", "peer-review",
    "posted-content", "proceedings", "proceedings-article", "proceedings-series",
    "reference-book", "reference-entry", "report", "report-component", "report-series",
    "standard", "standard-series",
})

_I = re.IGNORECASE
# Hints for the screener (table rows 4, 13-18). Patterns are the checklist's, kept verbatim so
# that a reader can compare them.
FLAG_PATTERNS: dict[str, re.Pattern[str]] = {
    "review_like_title": re.compile(
        r"systematic review|scoping review|meta-analys|literature review|narrative review|"
        r"umbrella review|rapid review|meta-synthesis", _I),
    "mutual_self_help": re.compile(r"mutual (peer )?support|self-help group|support group", _I),
    "consumer_run": re.compile(r"consumer[- ](run|operated|driven)|peer[- ]run", _I),
    "peer_led_education": re.compile(r"peer[- ]led education|peer educat", _I),
    "peer_counselling": re.compile(r"peer counsel", _I),
    "recovery_college": re.compile(r"recovery college", _I),
    "age_population": re.compile(r"youth|young people|adolescen|student|child|older adult", _I),
}
AGE_MESH = frozenset({"adolescent", "child", "aged"})

# Which flag points at which reason code, so a screener's reason picker can offer it first.
FLAG_REASONS: dict[str, str] = {
    "review_like_title": "EX_REVIEW",
    "mutual_self_help": "EX_MUTUAL_SELF_HELP",
    "consumer_run": "EX_CONSUMER_DRIVEN",
    "peer_led_education": "EX_PEER_LED_EDUCATION",
    "peer_counselling": "EX_PEER_COUNSELLING",
    "recovery_college": "EX_RECOVERY_COLLEGE",
    "age_population": "EX_AGE_POPULATION",
}


@dataclass(frozen=True)
class EligibilityRules:
    """The review's metadata rules; ``from_mapping`` reads review.toml's ``[eligibility]``."""

    min_year: int = 2010
    languages: tuple[str, ...] = ("eng",)
    excluded_publication_types: Mapping[str, tuple[str, ...]] = field(
        default_factory=lambda: {k: tuple(v) for k, v in DEFAULT_PUBLICATION_TYPES.items()})
    peer_reviewed_crossref_types: tuple[str, ...] = ("journal-article",)
    exclude_pmids: frozenset[str] = frozenset(DEFAULT_EXCLUDE_PMIDS)
    exclude_dois: frozenset[str] = frozenset(DEFAULT_EXCLUDE_DOIS)

    _KEYS = ("min_year", "languages", "excluded_publication_types",
             "peer_reviewed_crossref_types", "exclude_pmids", "exclude_dois")

    @classmethod
    def from_mapping(cls, rules: Mapping[str, Any] | None) -> "EligibilityRules":
        """Rules from plain values; missing keys keep the review's defaults.

        Accepts the ``[eligibility]`` table itself or the whole review.toml mapping.
        """
        if rules is None:
            return cls()
        if isinstance(rules, EligibilityRules):
            return rules
        if "eligibility" in rules and isinstance(rules["eligibility"], Mapping):
            rules = rules["eligibility"]
        unknown = sorted(set(rules) - set(cls._KEYS))
        if unknown:
            raise ConfigError(
                f"[eligibility]: unknown setting(s) {unknown}. "
                f"Fix: use only {list(cls._KEYS)} (see livingreview/screening/eligibility.py)")
        values: dict[str, Any] = {}
        if "min_year" in rules:
            try:
                values["min_year"] = int(rules["min_year"])
            except (TypeError, ValueError) as exc:
                raise ConfigError(f"[eligibility] min_year = {rules['min_year']!r} is not a year. "
                                  "Fix: write a number such as 2010") from exc
        if "languages" in rules:
            values["languages"] = tuple(_str_list(rules["languages"], "languages"))
        if "excluded_publication_types" in rules:
            types = rules["excluded_publication_types"]
            if not isinstance(types, Mapping):
                raise ConfigError("[eligibility] excluded_publication_types must map a reason code "
                                  "to a list of publication types. Fix: e.g. "
                                  "excluded_publication_types = { EX_REVIEW = [\"Review\"] }")
            bad = [code for code in types if code not in REASON_CODES]
            if bad:
                raise ConfigError(f"[eligibility] excluded_publication_types: unknown reason code(s) "
                                  f"{bad}. Fix: use codes from {list(REASON_CODES)}")
            values["excluded_publication_types"] = {
                code: tuple(_str_list(v, f"excluded_publication_types.{code}"))
                for code, v in types.items()}
        if "peer_reviewed_crossref_types" in rules:
            values["peer_reviewed_crossref_types"] = tuple(
                _str_list(rules["peer_reviewed_crossref_types"], "peer_reviewed_crossref_types"))
        if "exclude_pmids" in rules:
            values["exclude_pmids"] = frozenset(
                p for p in (normalise_pmid(v) for v in _str_list(rules["exclude_pmids"],
                                                                  "exclude_pmids")) if p)
        if "exclude_dois" in rules:
            values["exclude_dois"] = frozenset(
                d for d in (normalise_doi(v) for v in _str_list(rules["exclude_dois"],
                                                                 "exclude_dois")) if d)
        return cls(**values)


def _str_list(value: Any, name: str) -> list[str]:
    if isinstance(value, str) or not isinstance(value, (list, tuple, set, frozenset)):
        raise ConfigError(f"[eligibility] {name} = {value!r} is not a list. "
                          f"Fix: write a list, e.g. {name} = [\"...\"]")
    return [str(v) for v in value]


@dataclass(frozen=True)
class Verdict:
    """What the pre-filter says about one record.

    ``excluded`` with its one primary ``reason_code``; ``flags`` are hints for the screener and
    never exclude (they are computed for excluded records too, for the audit trail).
    """

    excluded: bool
    reason_code: str | None = None
    flags: list[str] = field(default_factory=list)


def exclusion_reasons(record: Record, rules: EligibilityRules | Mapping[str, Any] | None = None
                      ) -> list[str]:
    """Every metadata rule the record fails, in table order (the first is the primary one)."""
    rules = EligibilityRules.from_mapping(rules)
    failed: set[str] = set()
    if record.year is not None and record.year < rules.min_year:
        failed.add("EX_PRE2010")
    if record.language and rules.languages and record.language not in rules.languages:
        failed.add("EX_LANGUAGE")
    types = {t.strip() for t in record.publication_types if t and t.strip()}
    folded = {t.casefold() for t in types}
    for code, excluded in rules.excluded_publication_types.items():
        if folded & {t.casefold() for t in excluded}:
            failed.add(code)
    crossref_types = {t for t in types if t in CROSSREF_TYPES}
    if crossref_types and not crossref_types & set(rules.peer_reviewed_crossref_types):
        failed.add("EX_NOT_PEER_REVIEWED")
    if (record.pmid and record.pmid in rules.exclude_pmids) or \
            (record.doi and record.doi in rules.exclude_dois):
        failed.add("EX_NOT_PRIMARY")
    return [code for code in REASON_CODES if code in failed]


def screening_flags(record: Record) -> list[str]:
    """Hints shown to the screener: checklist regexes, protocol type, missing abstract."""
    title = record.title or ""
    text = " ".join(part for part in (record.title, record.abstract) if part)
    flags = []
    if FLAG_PATTERNS["review_like_title"].search(title):
        flags.append("review_like_title")
    for name in ("mutual_self_help", "consumer_run", "peer_led_education", "peer_counselling",
                 "recovery_college"):
        if FLAG_PATTERNS[name].search(text):
            flags.append(name)
    mesh = {m.strip().strip("*").split("/")[0].strip().casefold() for m in record.mesh_terms}
    if mesh & AGE_MESH or FLAG_PATTERNS["age_population"].search(title):
        flags.append("age_population")
    # Protocols are not excluded by the review's text: a person decides (checklist notes).
    if any(t.strip().casefold() == "clinical trial protocol" for t in record.publication_types):
        flags.append("clinical_trial_protocol")
    if not record.abstract:
        flags.append("needs_abstract")
    return flags


def prefilter(record: Record, rules: EligibilityRules | Mapping[str, Any] | None = None) -> Verdict:
    """Apply the review's metadata rules to one record (search-strategy.md (d), rows 1-5, 20)."""
    reasons = exclusion_reasons(record, rules)
    return Verdict(excluded=bool(reasons), reason_code=reasons[0] if reasons else None,
                   flags=screening_flags(record))
