"""The co-creation rules: what the coding scheme's definitions look like in a title and abstract.

The review codes a study *co-creation* when peer workers work with other actors in the **early
phases of the service cycle** (commissioning and planning, design and development of services,
governance) and also take part in delivering the services; *co-production* (delivery, the point
of service) is what every included study describes (coding-scheme.md §1, Nabatchi et al. 2017).
So the rules never look for the word "co-creation". A sentence is evidence when it puts a peer
or lived-experience actor next to an early-phase activity whose object is a service, programme or
policy. Early-phase words whose object is the *study* ("co-designed this study", "participatory
case study design") are research, not the service cycle: the article codes Almeida et al. 2020,
whose peers co-designed the research, as delivery + assessment and not co-creation. Neither do
early-phase words about peers' own jobs count ("developing peer roles", "leadership
development"): there the organisation designs the peer involvement, which is the article's
"pre-determined services" role.

Each piece of evidence has a phase (``commissioning``, ``design``, ``governance``), a strength
(``actor``: a peer or lived-experience actor in the same sentence; ``context``: an early-phase
activity about services in a record that elsewhere is about peers) and the sentence that carries it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# Who: peer workers and people with lived experience (coding-scheme.md "Peer worker").
_ACTOR = re.compile(
    r"\bpeer(?![- ]?review)(?:s|-\w+)?\b|\blived[- ]experience\b|\bexperts? by experience\b"
    r"|\b(?:people|persons?|individuals?|those|members)\s+with\s+(?:a\s+)?"
    r"(?:lived|personal|own|illness)\s+(?:\w+\s+)?experiences?\b"
    r"|\bPWLE\b|\bconsumers?(?:[- ](?:providers?|workers?|representatives?|consultants?))?\b"
    r"|\bservice[- ]users?\b|\bsurvivors?\b|\brecovery coach(?:es)?\b"
    r"|\bformerly incarcerated\b|\bwith (?:a )?(?:lived )?(?:experience|histor(?:y|ies)) of\b",
    re.IGNORECASE)

# What: services, programmes, policies — the objects of the public service cycle.
_SERVICE = (r"(?:services?(?![- ](?:users?|providers?))|programs?|programmes?|interventions?|"
            r"projects?|initiatives?|polic(?:y|ies)|models? of care|clinics?|"
            r"housing first|solutions?|treatments?|pathways?|curricul(?:a|um)|courses?)\b")

# Research rather than service: the object of a design or development word.
_RESEARCH = re.compile(
    r"\b(?:stud(?:y|ies)|research|survey|questionnaires?|codes?|themes?|analys[ie]s|interviews?|"
    r"trials?|consensus|manuscripts?|papers?|scales?|instruments?|measures?|"
    r"methods?|methodology|protocol|relationships?|items?)\b", re.IGNORECASE)

# Peers' own jobs: designed by the organisation (the "pre-determined services" role).
_OWN_JOB = re.compile(
    r"\b(?:roles?|leadership|skills?|career|professional|workforce|jobs?|identity|employment|"
    r"training needs)\b", re.IGNORECASE)

# Words before "design" that make it a research design ("pre-post design", "case study design").
_RESEARCH_DESIGN = re.compile(
    r"(?:stud(?:y|ies)|research|pre-?post|cross-?sectional|qualitative|quantitative|experimental|"
    r"longitudinal|methods?|case|trial|evaluation|survey)\W+(?:\w+\W+)?$", re.IGNORECASE)

_WINDOW = r"(?:\W+\w+){0,5}?\W+"  # up to five words between an activity and its object


@dataclass(frozen=True)
class _Rule:
    phase: str
    pattern: re.Pattern[str]


def _rule(phase: str, pattern: str) -> _Rule:
    return _Rule(phase, re.compile(pattern, re.IGNORECASE))


RULES: tuple[_Rule, ...] = (
    # Commissioning: deciding what services are needed, planning or prioritising them.
    _rule("commissioning", r"\bco-?commission\w*|\bcommissioning\b"),
    _rule("commissioning", r"\b(?:co-?)?planning\b(?!\s+(?:of\s+)?(?:the\s+)?(?:stud|research|"
                           r"analys|evaluation|interview))"),
    _rule("commissioning", r"\bplan(?:s|ned)?\b(?:\s+and\s+\w+)?" + _WINDOW + _SERVICE),
    _rule("commissioning", r"\bpriorit(?:is|iz)(?:e|ed|ing)\s+(?:the\s+)?" + _SERVICE
                           + r"|\bpriorities\s+(?:for|of)\s+(?:\w+\s+)?" + _SERVICE),
    # Design and development of services (not of studies, not of peers' jobs).
    _rule("design", r"\b(?:co-?)?design(?:ed|ing|s)?\b(?:\s+(?:of|and))?" + _WINDOW + _SERVICE),
    _rule("design", r"\bco-?design(?:ed|ing|s)?\b"),
    _rule("design", r"\b(?:re)?design(?:ed|ing)?\s+(?:new|improved)\b"),
    _rule("design", r"\bre-?design(?:ed|ing|s)?\b"),
    _rule("design", r"\b(?:service|program(?:me)?|policy|intervention)\s+(?:co-?)?"
                    r"(?:design|development|developers?|redesign|improvement)\b"),
    _rule("design", r"\b(?:develop(?:ed|ing|s|ment)?|creat(?:ed|ing|ion)|co-?creat\w*)"
                    r"(?:\s+of)?" + _WINDOW + _SERVICE),
    _rule("design", r"\b" + _SERVICE + r"(?:\s+and\s+\w+)?\s+(?:\(\w+\)\s+)?"
                    r"(?:was\s+|were\s+)?(?:developed|designed|created|planned|initiated)"
                    r"(?:\s+and\s+\w+)?\s+(?:by|with)\b"),
    _rule("design", r"\b(?:peer|consumer|user|survivor)[- ](?:developed|designed|created|"
                    r"initiated|planned)\b(?:\W+\w+){0,7}?\W+" + _SERVICE),
    _rule("design", r"\bdevelopers?\b"),
    # Governance: boards, advisory and planning bodies, policy and system change.
    _rule("governance", r"\bboard(?:s)?\s+of\s+directors\b|\bboard\s+members?\b|"
                        r"\b(?:advisory|steering|planning|working|management|reference)\s+"
                        r"(?:boards?|councils?|committees?|groups?|panels?)\b|\bgovernance\b"),
    _rule("governance", r"\bpolic(?:y|ies)\s+(?:change|making|development|reform)s?\b|"
                        r"\bchanges?\s+in\s+(?:\w+\s+)?polic(?:y|ies)\b"),
    _rule("governance", r"\b(?:cultural|systemic|system)"
                        r"(?:/\w+)?\s+(?:change|shift|reform|transformation)s?\b"),
    _rule("governance", r"\brepresent(?:ing|ed|s)?\s+(?:the\s+)?(?:service\s+users|consumers|"
                        r"patients|clients|peers)\b"),
)

PHASES = ("commissioning", "design", "governance")
STRENGTHS = ("actor", "context")


@dataclass(frozen=True)
class Evidence:
    phase: str
    strength: str  # "actor" or "context"
    passage: str   # the sentence that carries it
    cue: str       # the words the rule matched


def sentences(text: str) -> list[str]:
    """Split into sentences; a title is its own sentence."""
    parts = re.split(r"(?<=[.!?;])\s+(?=[A-Z(\"'“‘])|\s+(?=(?:Background|Objectives?|Aims?|"
                     r"Methods?|Results|Findings|Conclusions?|Purpose|Design)\s*:)", text)
    return [p.strip() for p in parts if p and p.strip()]


def _is_research_or_job(sentence: str, start: int, end: int) -> bool:
    """The activity's object is the research or peers' own jobs, not a service."""
    before = " ".join(re.findall(r"[\w/-]+", sentence[:start])[-1:])
    after = " ".join(re.findall(r"\w+", sentence[end:])[:4])
    cue = sentence[start:end]
    if re.search(_SERVICE + r"\W*$", sentence[:start], re.IGNORECASE):
        return False  # "program planning", "service development": about a service
    if re.match(r"(?:co-?)?design", cue, re.IGNORECASE) and _RESEARCH_DESIGN.search(
            sentence[:start]):
        return True
    return bool(_RESEARCH.search(cue + " " + after)
                or _OWN_JOB.search(before + " " + cue + " " + after))


# The actor is the agent when named before the activity ("involvement of peers in planning",
# "peer workers ... aiding in systemic shifts") or right after it by "by"/"with"/"among"
# ("a program developed by persons with lived experience").
_AGENT_AFTER = re.compile(r"^\W*(?:by|with|among|alongside|including)\b", re.IGNORECASE)
_PASSIVE = re.compile(r"\b(?:by|with)$", re.IGNORECASE)


def _actor_is_agent(sentence: str, start: int, end: int) -> bool:
    cue, tail = sentence[start:end], sentence[end:]
    passive = bool(_PASSIVE.search(cue))
    # In "a programme developed by ..." only who follows "by" did the work.
    if not passive and (_ACTOR.search(cue) or _ACTOR.search(sentence[:start])):
        return True
    if not passive:
        lead = _AGENT_AFTER.match(tail)
        if not lead:
            return False
        tail = tail[lead.end():]
    starts = [m.start() for m in re.finditer(r"\b\w", tail)][:4]
    return any(_ACTOR.match(tail[i:]) for i in starts)


def sentence_evidence(sentence: str, about_peers: bool) -> list[Evidence]:
    """Every early-phase activity a sentence names, each once (overlapping matches of several
    rules count as one: the first rule's)."""
    taken: list[tuple[int, int]] = []
    found: list[tuple[int, Evidence]] = []
    for rule in RULES:
        for match in rule.pattern.finditer(sentence):
            start, end = match.span()
            if any(start < b and a < end for a, b in taken):
                continue
            if _is_research_or_job(sentence, start, end):
                continue
            strength = "actor" if _actor_is_agent(sentence, start, end) else "context"
            if strength == "context" and not about_peers:
                continue
            taken.append((start, end))
            found.append((start, Evidence(rule.phase, strength, sentence, match.group(0))))
    return [item for _, item in sorted(found, key=lambda pair: pair[0])]


def record_text(title: str | None, abstract: str | None, keywords: str | None) -> str:
    parts = []
    if title and title.strip():
        parts.append(title.strip().rstrip(".") + ".")
    if abstract and abstract.strip():
        parts.append(abstract.strip())
    if keywords and keywords.strip():
        parts.append("Keywords: " + keywords.strip() + ".")
    return " ".join(parts)


def evidence(title: str | None, abstract: str | None, keywords: str | None = None
             ) -> list[Evidence]:
    """Every piece of early-phase evidence in a record, in text order."""
    text = record_text(title, abstract, keywords)
    about_peers = bool(_ACTOR.search(text))
    found: list[Evidence] = []
    for sentence in sentences(text):
        found += sentence_evidence(sentence, about_peers)
    return found


ACTOR_WEIGHT = 2.0    # a sentence where peers themselves plan, design or govern services
CONTEXT_WEIGHT = 1.0  # early-phase work on services in a record about peers, agent not named


def rule_score(found: list[Evidence]) -> float:
    """Two points per early-phase activity whose agents are peers (at most two per phase), plus
    one point if any activity on services is named without its agent.

    Capping per phase keeps an abstract that repeats "planning" from outscoring one that shows
    peers in two early phases; context counts once because it does not say who did the work.
    """
    per_phase: dict[str, int] = {}
    context = False
    for item in found:
        if item.strength == "actor":
            per_phase[item.phase] = per_phase.get(item.phase, 0) + 1
        else:
            context = True
    return (ACTOR_WEIGHT * sum(min(n, 2) for n in per_phase.values())
            + (CONTEXT_WEIGHT if context else 0.0))


def feature_vector(found: list[Evidence]) -> list[float]:
    """Counts per phase and strength: the rule features the learned model uses next to the text."""
    counts = {(p, s): 0.0 for p in PHASES for s in STRENGTHS}
    for item in found:
        counts[(item.phase, item.strength)] += 1.0
    return [counts[(p, s)] for p in PHASES for s in STRENGTHS] + [rule_score(found)]
