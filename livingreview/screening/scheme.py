"""The charting (coding) scheme: fields and allowed values, in one place.

Derived from ``docs/coding-scheme.md`` (a copy of the seed's) §2 (field dictionary) and §3 (regions). Charting import,
the baseline loader, validation and the summaries all read the allowed values from here.

Decisions the scheme leaves open, made here and documented:

- ``country`` holds ISO 3166-1 alpha-2 codes. ISO has one code for the United Kingdom, so
  England, Scotland, Wales, Northern Ireland and UK-wide studies are all ``GB`` and count under
  the published region "Great Britain".
- Regions: the seven published ones plus ``Africa`` and ``Middle East`` (the article had no
  studies there and no category). Mexico, Central America and the Caribbean count under
  "Southern America" (read as Latin America and the Caribbean); Israel, Turkey, Iran and the Arab
  states of West Asia are "Middle East"; Egypt and the Maghreb are "Africa"; Cyprus is Europe.
  ``published_region`` maps the two added regions back to the article's seven (Middle East ->
  Asia; Africa has no published counterpart).
- ``design`` is multi-valued: the seed codes some studies with two designs.
- Multi-valued cells in CSV files are separated by ``|``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import pycountry


@dataclass(frozen=True)
class FieldSpec:
    """One charting field: ``values`` None means free text; ``multi`` allows several values."""

    name: str
    multi: bool
    values: tuple[str, ...] | None
    description: str

    def allows(self, value: str) -> bool:
        return self.values is None or value in self.values


DESIGNS = (
    "RCT / clinical trial",
    "quasi-experimental",
    "quantitative (survey / correlational / longitudinal / cohort)",
    "pre–post / pilot / feasibility",
    "qualitative (interviews / focus groups / observation)",
    "case study",
    "mixed methods",
    "Delphi",
    "other",
)
SERVICE_CONTEXTS = (
    "veteran health care",
    "forensic peer support",
    "perinatal / mothers with children ≤5 (substance use)",
    "hospital",
    "transition hospital→community",
    "outreach",
    "community services",
    "primary care",
    "harm reduction",
    "municipal services",
    "emergency department",
    "other",
)
REGIONS = ("US", "Oceania", "Great Britain", "Canada", "Europe excluding Great Britain", "Asia",
           "Southern America", "Africa", "Middle East")
PUBLISHED_REGIONS = REGIONS[:7]

_FIELDS = [
    FieldSpec("country", True, None, "ISO 3166-1 alpha-2 codes of the countries studied"),
    FieldSpec("design", True, DESIGNS, "study design"),
    FieldSpec("service_context", True, SERVICE_CONTEXTS, "type of service"),
    FieldSpec("sector", False, ("public/government", "non-government", "community", "clinical",
                                "other"), "sector of the service (optional)"),
    FieldSpec("mh_su_scope", False, ("mental health", "substance use", "both"),
              "mental health and/or substance use services (optional)"),
    FieldSpec("service_cycle_phases", True, ("commissioning", "design", "delivery", "assessment"),
              "service-cycle phases peers are involved in (Nabatchi et al. 2017)"),
    FieldSpec("involvement", False, ("co-production", "delivery+assessment", "co-creation"),
              "co-production (delivery only), delivery+assessment, or co-creation"),
    FieldSpec("role_type", False, ("pre-determined services", "peer support",
                                   "partners in co-creation"), "primary peer-worker role type"),
    FieldSpec("role_type_secondary", False, ("pre-determined services", "peer support",
                                             "partners in co-creation"),
              "a second role type where the study is cited under two"),
    FieldSpec("research_focus", False, ("outcomes", "qualities", "implementation"),
              "main research focus"),
    FieldSpec("outcome_evidence", False, ("quantitative", "qualitative"),
              "kind of outcome evidence (only for research_focus = outcomes)"),
    FieldSpec("outcome_perspective", True, ("service users", "mental health professionals",
                                            "managers", "caregivers", "peer workers",
                                            "multiple stakeholders"),
              "whose perspective qualitative outcome studies report"),
    FieldSpec("collaborators", True, None, "with whom peers were told to collaborate"),
    FieldSpec("multidisciplinary", False, ("team", "environment", "not described"),
              "multidisciplinary team or environment"),
    FieldSpec("group_activities", True, ("service users", "professionals"),
              "groups targeted by peers' activities (empty: one-to-one or not described)"),
    FieldSpec("boundary_spanner", False, ("explicit", "implicit", "not described"),
              "whether the intermediary position is described"),
    FieldSpec("boundary_spanner_descriptor", True, ("bridge", "connecting", "linking",
                                                    "navigating", "advocate", "cultural broker",
                                                    "other"),
              "how the intermediary position is described"),
    FieldSpec("peer_title", True, None, "peer workers' job title as the study labels it"),
    FieldSpec("identified_via", False, ("database", "reference_list", "expert", "scanning"),
              "how the study was found (PRISMA other sources)"),
]
FIELDS: dict[str, FieldSpec] = {spec.name: spec for spec in _FIELDS}
SINGLE_VALUED = tuple(name for name, spec in FIELDS.items() if not spec.multi)
MULTI_SEPARATOR = "|"


class CodeError(ValueError):
    """A value the scheme does not allow; the message lists what it does allow."""


def _fold(text: str) -> str:
    text = text.replace("–", "-").replace("—", "-").replace("→", "->")
    return re.sub(r"\s+", " ", text).strip().casefold()


_CANONICAL = {name: {_fold(v): v for v in spec.values} for name, spec in FIELDS.items()
              if spec.values is not None}

# ISO codes by region. Territories follow the region they lie in.
_REGION_CODES: dict[str, str] = {}
for _region, _codes in {
    "US": "US",
    "Canada": "CA",
    "Great Britain": "GB",
    "Oceania": "AU NZ AS CK FJ FM GU KI MH MP NC NF NR NU PF PG PN PW SB TK TO TV UM VU WF WS",
    "Europe excluding Great Britain":
        "AD AL AT AX BA BE BG BY CH CY CZ DE DK EE ES FI FO FR GG GI GL GR HR HU IE IM IS IT JE "
        "LI LT LU LV MC MD ME MK MT NL NO PL PM PT RO RS RU SE SI SJ SK SM UA VA",
    "Southern America":
        "AR BO BR CL CO EC FK GF GY PE PY SR UY VE MX BZ CR SV GT HN NI PA AG AI AW BB BL BM BQ "
        "BS CU CW DM DO GD GP HT JM KN KY LC MF MQ MS PR SX TC TT VC VG VI",
    "Middle East": "AE BH IL IQ IR JO KW LB OM PS QA SA SY TR YE",
    "Africa":
        "AO BF BI BJ BW CD CF CG CI CM CV DJ DZ EG EH ER ET GA GH GM GN GQ GW KE KM LR LS LY MA "
        "MG ML MR MU MW MZ NA NE NG RE RW SC SD SH SL SN SO SS ST SZ TD TG TN TZ UG YT ZA ZM ZW",
    "Asia":
        "AF AM AZ BD BN BT CC CN CX GE HK ID IN IO JP KG KH KP KR KZ LA LK MM MN MO MV MY NP PH "
        "PK SG TH TJ TL TM TW UZ VN",
}.items():
    for _code in _codes.split():
        _REGION_CODES[_code] = _region

_COUNTRY_ALIASES = {
    "uk": "GB", "u.k.": "GB", "england": "GB", "scotland": "GB", "wales": "GB",
    "northern ireland": "GB", "great britain": "GB", "britain": "GB", "united kingdom": "GB",
    "usa": "US", "u.s.": "US", "u.s.a.": "US", "united states": "US", "america": "US",
    "south korea": "KR", "korea": "KR", "republic of korea": "KR", "north korea": "KP",
    "russia": "RU", "turkey": "TR", "türkiye": "TR", "iran": "IR", "taiwan": "TW",
    "vietnam": "VN", "czechia": "CZ", "czech republic": "CZ", "holland": "NL",
    "the netherlands": "NL", "hong kong": "HK", "macau": "MO", "palestine": "PS",
    "tanzania": "TZ", "bolivia": "BO", "venezuela": "VE", "syria": "SY", "laos": "LA",
    "moldova": "MD", "ivory coast": "CI", "kosovo": "XK",
}
_REGION_CODES["XK"] = "Europe excluding Great Britain"  # Kosovo: user-assigned, widely used


def country_code(raw: str) -> str:
    """ISO 3166-1 alpha-2 for a country name or code (``"England"`` -> ``GB``)."""
    text = raw.strip()
    if not text:
        raise CodeError("empty country. Use an ISO 3166-1 alpha-2 code such as GB or US")
    alias = _COUNTRY_ALIASES.get(text.casefold())
    if alias:
        return alias
    try:
        code = pycountry.countries.lookup(text).alpha_2
    except LookupError:
        raise CodeError(f"unknown country {raw!r}. Use an ISO 3166-1 alpha-2 code "
                        "(e.g. GB, US, NO) or an English country name") from None
    return code


def region_of(code: str) -> str:
    """The review's region for an ISO alpha-2 code (coding-scheme.md §3, decisions above)."""
    try:
        return _REGION_CODES[code.upper()]
    except KeyError:
        raise CodeError(f"country code {code!r} has no region in the review's mapping") from None


def published_region(region: str) -> str | None:
    """The article's seven regions: Middle East counts as Asia, Africa has no counterpart."""
    if region in PUBLISHED_REGIONS:
        return region
    return {"Middle East": "Asia"}.get(region)


def split_cell(cell: str | None) -> list[str]:
    """Values of a multi-valued CSV cell (``a | b``), blanks dropped."""
    if cell is None:
        return []
    return [part.strip() for part in str(cell).split(MULTI_SEPARATOR) if part.strip()]


def check_value(field: str, raw: str) -> str:
    """Strict check for charting import: the canonical value for ``raw`` or a CodeError.

    Case, spacing and dash style are forgiven; anything else must be an allowed value.
    """
    spec = FIELDS.get(field)
    if spec is None:
        raise CodeError(f"unknown field {field!r}. Fields: {list(FIELDS)}")
    text = raw.strip()
    if not text:
        raise CodeError("empty value")
    if field == "country":
        return country_code(text)
    if spec.values is None:
        return text
    value = _CANONICAL[field].get(_fold(text))
    if value is None:
        raise CodeError(f"not an allowed {field} value")
    return value


def allowed_text(field: str) -> str:
    """The allowed values of a field, for error messages and help."""
    spec = FIELDS[field]
    if field == "country":
        return "ISO 3166-1 alpha-2 codes (GB, US, NO ...) or English country names"
    return "free text" if spec.values is None else " | ".join(spec.values)


def involvement_from_phases(phases: set[str] | list[str]) -> str:
    """The operational rule of coding-scheme.md §1: early phase + delivery is co-creation."""
    phases = set(phases)
    if phases & {"commissioning", "design"} and "delivery" in phases:
        return "co-creation"
    if "assessment" in phases:
        return "delivery+assessment"
    return "co-production"


# Tolerant mapping of the seed's free text (references.csv) onto the scheme: each rule is a
# regular expression and the value it stands for; the first matching rule wins for single
# values, every matching rule counts for multi-valued fields.
_DESIGN_RULES = [
    (r"\brct\b|randomi[sz]ed|clinical trial", "RCT / clinical trial"),
    (r"quasi", "quasi-experimental"),
    (r"pilot|feasibility|pre[-– ]?post", "pre–post / pilot / feasibility"),
    (r"mixed[- ]method", "mixed methods"),
    (r"delphi", "Delphi"),
    (r"case stud", "case study"),
    (r"qualitative|interview|focus group|observation", "qualitative (interviews / focus groups / observation)"),
    (r"quantitative|survey|correlation|longitudinal|cohort",
     "quantitative (survey / correlational / longitudinal / cohort)"),
    (r"comparison with services as usual|controlled", "quasi-experimental"),
]
_CONTEXT_RULES = [
    (r"veteran", "veteran health care"),
    (r"forensic|incarcerat|prison|criminal|justice", "forensic peer support"),
    (r"perinatal|mothers", "perinatal / mothers with children ≤5 (substance use)"),
    (r"transition", "transition hospital→community"),
    (r"emergency department", "emergency department"),
    (r"harm reduction", "harm reduction"),
    (r"primary care", "primary care"),
    (r"municipal", "municipal services"),
    (r"outreach", "outreach"),
    (r"hospital|inpatient|psychiatric ward", "hospital"),
    (r"community", "community services"),
]
_DESCRIPTOR_RULES = [
    (r"\bbridg", "bridge"), (r"\bconnect", "connecting"), (r"\blink", "linking"),
    (r"\bnavigat", "navigating"), (r"\badvoca", "advocate"), (r"cultural broker", "cultural broker"),
]
_ALIASES = {
    "research_focus": {"effectiveness": "outcomes", "core peer worker characteristics": "qualities",
                       "outcome": "outcomes", "quality": "qualities"},
    "identified_via": {"scanning_2021": "scanning", "reference list": "reference_list",
                       "databases": "database"},
    "involvement": {"co-production only": "co-production", "coproduction": "co-production",
                    "co-creation": "co-creation", "cocreation": "co-creation"},
}


def _rule_values(rules: list[tuple[str, str]], text: str, first_only: bool) -> list[str]:
    found = []
    for pattern, value in rules:
        if re.search(pattern, text, re.IGNORECASE) and value not in found:
            found.append(value)
            if first_only:
                break
    return found


def normalise_code(field: str, raw: str | None) -> list[str]:
    """Map a free-text coding (e.g. a references.csv cell) onto the scheme's values.

    Accepts ``|``- and ``;``-separated parts. Returns canonical values in order, without
    repeats; [] for an empty cell. Free-text fields keep their text; fields with an ``other``
    value map what no rule recognises to ``other``; the rest raise ``CodeError`` naming the
    value and the allowed ones.
    """
    spec = FIELDS.get(field)
    if spec is None:
        raise CodeError(f"unknown field {field!r}. Fields: {list(FIELDS)}")
    if raw is None or not str(raw).strip():
        return []
    parts = _split_top_level(str(raw))
    values: list[str] = []
    for part in parts:
        values += _normalise_part(field, spec, part)
    return list(dict.fromkeys(values))


def _split_top_level(text: str) -> list[str]:
    # "municipal services (care teams; planning groups)" is one value: split outside brackets.
    parts, depth, current = [], 0, []
    for char in text:
        depth += {"(": 1, ")": -1}.get(char, 0)
        if char in "|;" and depth <= 0:
            parts.append("".join(current))
            current = []
        else:
            current.append(char)
    parts.append("".join(current))
    return [p.strip() for p in parts if p.strip()]


def _normalise_part(field: str, spec: FieldSpec, part: str) -> list[str]:
    if field == "country":
        return [country_code(part)]
    if spec.values is None:
        return [part]
    exact = _CANONICAL[field].get(_fold(part))
    if exact is not None:
        return [exact]
    alias = _ALIASES.get(field, {}).get(_fold(part))
    if alias is not None:
        return [alias]
    if field == "design":
        # "qualitative (case study ...)" is a case study; otherwise the first rule decides.
        return _rule_values(_DESIGN_RULES, part, first_only=True) or ["other"]
    if field == "service_context":
        found = _rule_values(_CONTEXT_RULES, part, first_only=False)
        if "transition hospital→community" in found:
            # "from hospital to community" names the transition, not two more settings.
            found = [v for v in found if v not in ("hospital", "community services")]
        return found or ["other"]
    if field == "boundary_spanner_descriptor":
        if _fold(part) in ("implicit", "not described"):
            return []  # a status, not a descriptor
        return _rule_values(_DESCRIPTOR_RULES, part, first_only=True) or ["other"]
    if field == "boundary_spanner":
        # The seed lists descriptors; any descriptor means the position is described explicitly.
        return ["implicit"] if _fold(part) == "implicit" else ["explicit"]
    stripped = re.sub(r"\s*\(.*\)\s*$", "", part)  # "peer support (Findings)" -> "peer support"
    exact = _CANONICAL[field].get(_fold(stripped))
    if exact is not None:
        return [exact]
    raise CodeError(f"{part!r} is not a {field} value the scheme knows. Allowed: "
                    + "; ".join(spec.values))
