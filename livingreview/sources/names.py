"""Person names given as one display string, turned into the Record form "Surname, Given".

OpenAlex gives "Given Surname" and Europe PMC's ``authorString`` gives "Surname Initials"; the
Record keeps "Surname, Given" so that deduplication can compare first-author surnames across
sources. Splitting a display name is a heuristic: the last word is the surname, together with
any lower-case particles before it ("van der", "de", "da").
"""

from __future__ import annotations

_PARTICLES = {"van", "von", "der", "den", "de", "da", "das", "dos", "del", "della", "di", "du",
              "la", "le", "ten", "ter", "bin", "ibn", "al", "el", "st.", "mac"}


def surname_first(display_name: str | None) -> str | None:
    """``"Jan van der Berg"`` -> ``"van der Berg, Jan"``; names with a comma are kept as given."""
    if not display_name:
        return None
    name = " ".join(str(display_name).split())
    if not name or "," in name:
        return name or None
    words = name.split(" ")
    if len(words) == 1:
        return name
    cut = len(words) - 1
    while cut > 1 and words[cut - 1].lower() in _PARTICLES:
        cut -= 1
    return f"{' '.join(words[cut:])}, {' '.join(words[:cut])}"


def initials_last(author: str | None) -> str | None:
    """``"Schoenfeld JD"`` -> ``"Schoenfeld, JD"`` (MEDLINE-style "Surname Initials")."""
    if not author:
        return None
    name = " ".join(str(author).split())
    words = name.split(" ")
    if len(words) > 1 and words[-1].isupper() and words[-1].isalpha() and len(words[-1]) <= 4:
        return f"{' '.join(words[:-1])}, {words[-1]}"
    return name or None
