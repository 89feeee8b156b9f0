"""How the summaries read one study's charting codes.

The fields, their allowed values, the free-text rules and the country-to-region mapping are the
charting scheme's (``livingreview.screening.scheme``, coding-scheme.md §2-3); this module only
decides how the rows of ``charting_codes`` become one value per single-valued field and a tuple
per multi-valued field. Conventions (the article leaves them open; these are ours):

- **Primary role.** A study's primary ``role_type`` is its first ``role_type`` row (earliest
  ``coded_at``, then lowest row id). Further ``role_type`` rows and every ``role_type_secondary``
  row are secondary roles: reported separately, never added to the primary counts, because the
  published counts (21 + 145 + 6 = 172) give one role per study.
- **Single-valued fields** (``research_focus``, ``involvement``, ``boundary_spanner``,
  ``multidisciplinary``, ``identified_via``): rows with the same value count once; two different
  values are a conflict, the study is left out of that field's counts and the conflict is listed
  as a data problem.
- **involvement** is derived from ``service_cycle_phases`` when it is not coded itself (the
  scheme's operational rule).
- **region** is derived from ``country`` (a ``region`` row, if a coder wrote one, wins).
- A value the scheme does not know is a data problem and is not counted.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache

from livingreview.screening.scheme import (
    FIELDS,
    REGIONS,
    CodeError,
    involvement_from_phases,
    normalise_code,
    region_of,
)

SINGLE_FIELDS = ("research_focus", "involvement", "boundary_spanner", "multidisciplinary",
                 "identified_via")
MULTI_FIELDS = ("group_activities", "service_context", "design")


def categories(field: str) -> tuple[str, ...]:
    """The field's values in the scheme's order (the order the tables list them in)."""
    return tuple(FIELDS[field].values or ())


@dataclass(frozen=True)
class CodeRow:
    """The part of a ``charting_codes`` row the summaries use."""

    id: int
    record_id: int
    field: str
    value: str
    coded_at: datetime | None = None


@lru_cache(maxsize=4096)
def _normalised(field: str, value: str) -> tuple[tuple[str, ...], str | None]:
    # A corpus repeats the same few values thousands of times; the scheme's rules are regexes.
    try:
        return tuple(normalise_code(field, value)), None
    except CodeError as exc:
        return (), str(exc)


def study_codes(rows: Iterable[CodeRow], label: str) -> tuple[dict[str, object], list[str]]:
    """One study's coded values, and the problems found in them (each naming the study).

    Single-valued fields map to a value or None; multi-valued fields, ``region`` and
    ``role_type_secondary`` to tuples in the scheme's order. ``charted`` says whether the study
    has any code at all (a charted study without group activities works one-to-one).
    """
    by_field: dict[str, list[CodeRow]] = {}
    rows = sorted(rows, key=lambda r: (r.coded_at is None, r.coded_at or datetime.min, r.id))
    for row in rows:
        by_field.setdefault(row.field, []).append(row)
    problems: list[str] = []

    def values(field: str) -> list[str]:
        found: list[str] = []
        for row in by_field.get(field, []):
            normalised, error = _normalised(field, row.value)
            if error:
                problems.append(f"{label}: {field} value {row.value!r} (charting_codes row "
                                f"{row.id}) is not in the charting scheme ({error}). "
                                "Fix: recode it")
            found += [v for v in normalised if v not in found]
        return found

    codes: dict[str, object] = {"charted": bool(rows)}
    for name in SINGLE_FIELDS:
        found = values(name)
        if name == "involvement" and not found and "service_cycle_phases" in by_field:
            found = [involvement_from_phases(values("service_cycle_phases"))]
        if len(found) > 1:
            problems.append(f"{label}: {name} is coded as {' and '.join(found)}, but a study takes "
                            f"one value; it is left out of the {name} counts. Fix: keep one value")
        codes[name] = found[0] if len(found) == 1 else None
    for name in MULTI_FIELDS:
        found = values(name)
        codes[name] = tuple(c for c in categories(name) if c in found)

    roles = values("role_type")
    codes["role_type"] = roles[0] if roles else None
    secondary = [r for r in roles[1:] + values("role_type_secondary") if r != codes["role_type"]]
    codes["role_type_secondary"] = tuple(dict.fromkeys(secondary))
    codes["region"] = _regions(by_field, values, label, problems)
    return codes, problems


def _regions(by_field: dict[str, list[CodeRow]], values, label: str,
             problems: list[str]) -> tuple[str, ...]:
    found: set[str] = set()
    by_name = {r.casefold(): r for r in REGIONS}
    for row in by_field.get("region", []):
        region = by_name.get(row.value.strip().casefold())
        if region is None:
            problems.append(f"{label}: region {row.value!r} (charting_codes row {row.id}) is not "
                            f"one of {list(REGIONS)}. Fix: recode it, or code the country instead")
        else:
            found.add(region)
    if not found:
        for code in values("country"):
            try:
                found.add(region_of(code))
            except CodeError as exc:
                problems.append(f"{label}: {exc}. Fix: add it to the region mapping in "
                                "livingreview/screening/scheme.py")
    return tuple(r for r in REGIONS if r in found)
