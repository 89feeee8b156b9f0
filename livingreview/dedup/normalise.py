"""Field normalisers for duplicate detection.

Each function maps one raw field value, as real exports hold it, to the form records are compared
in. All of them are idempotent (normalising a normalised value changes nothing; see
``tests/test_dedup_normalise.py``) and return ``""`` for a missing or unusable value, so that
callers can treat "missing" uniformly.

What the exports contain and why each rule exists:

* titles carry markup (``<i>``, ``&amp;``), database notes appended in brackets (``[Chinese]``,
  ``[Review] [45 refs]``, ``[Erratum appears in ...]``), translated titles wrapped in brackets
  (``[Clinical aspects of the complement system]``) and Greek letters spelt either way;
* authors come as ``Last, F. and Last, G.`` (BibTeX), ``Last F; Last G``, ``F Last, G Last``,
  Vancouver ``Last FG, Last G`` or collapsed without separators (``Adeli K.Lewis G. F.``), plus
  collective names;
* journals come abbreviated (``Curr Opin Lipidol``) or in full (``Current opinion in
  lipidology``), with trailing dots and conference suffixes;
* pages come as ``457-468``, ``457-68``, ``47--65``, ``e1-e8`` or an article number;
* volume and number fields sometimes hold supplements or accession numbers.
"""

from __future__ import annotations

import html
import re
import unicodedata
from functools import lru_cache

_TAG = re.compile(r"<[^>]{1,40}>")
_NON_ALNUM = re.compile(r"[^a-z0-9]+")
_GREEK = {
    "α": "alpha", "β": "beta", "γ": "gamma", "δ": "delta", "ε": "epsilon", "κ": "kappa",
    "λ": "lambda", "μ": "mu", "π": "pi", "σ": "sigma", "τ": "tau", "ω": "omega", "θ": "theta",
    "ζ": "zeta", "η": "eta", "ι": "iota", "ν": "nu", "ξ": "xi", "ρ": "rho", "φ": "phi",
    "χ": "chi", "ψ": "psi", "ο": "o", "υ": "upsilon",
}
_GREEK_RE = re.compile("|".join(_GREEK))
# A database note appended after the title: "[Chinese]", "[Review] [45 refs]", "[Erratum appears
# in Brain Inj. 2013;27(3):377 Note: Small, Sarah K [added]]" (one level of nesting).
_TRAILING_NOTE = re.compile(r"\s*\[(?:[^\[\]]|\[[^\[\]]*\])*\]\W*$")
# A note cut off by the exporter's field-length limit: "...[Erratum appears in J Pediatr. 2003 Jun"
_TRUNCATED_NOTE = re.compile(
    r"\s*\[(?:published\s+)?(?:erratum|comment|corrected|retract|update|see\b|republished|"
    r"review\b|\d+\s+refs)[^\]]*$",
    re.I,
)
_WRAPPED = re.compile(r"^\s*\[(.*)\]\W*$", re.S)


def ascii_fold(text: str) -> str:
    """Lower-case ASCII: Greek letters spelt out, accents dropped (``Bröker`` -> ``broker``)."""
    text = _GREEK_RE.sub(lambda m: " " + _GREEK[m.group(0)] + " ", text.lower())
    text = unicodedata.normalize("NFKD", text)
    return text.encode("ascii", "ignore").decode("ascii")


def strip_title_notes(title: str) -> str:
    """Remove database notes appended to a title and unwrap a bracketed translated title."""
    text = html.unescape(_TAG.sub(" ", title)).strip()
    for _ in range(6):
        stripped = _TRUNCATED_NOTE.sub("", _TRAILING_NOTE.sub("", text))
        if stripped == text or not stripped.strip(" .[]"):
            break
        text = stripped
    wrapped = _WRAPPED.match(text)
    if wrapped and "[" not in wrapped.group(1) and "]" not in wrapped.group(1):
        text = wrapped.group(1)
    return text


@lru_cache(maxsize=65536)
def normalise_title(title: str | None) -> str:
    """Title as lower-case ASCII words separated by single spaces, without notes or markup."""
    if not title:
        return ""
    text = ascii_fold(strip_title_notes(str(title)))
    return _NON_ALNUM.sub(" ", text).strip()


# Notices are separate records that reuse the title of the article they concern; merging them
# with the article would hide one of the two.
_NOTICE = re.compile(
    r"^(?:(?:an?\s+)?(?:erratum|errata|corrigendum|corrigenda|correction|retraction|"
    r"retracted|withdrawn|expression of concern|notice of retraction|reply|response|"
    r"authors?\s+reply|comment|commentary|in reply|letter|re|editorial comment)\b)",
)


def notice_kind(normalised_title: str) -> str:
    """``"erratum"``, ``"reply"``... when the title marks a notice about another article, else ``""``."""
    match = _NOTICE.match(normalised_title)
    if not match:
        return ""
    word = match.group(0).split()[-1]
    return {
        "errata": "erratum", "corrigendum": "erratum", "corrigenda": "erratum",
        "correction": "erratum", "retracted": "retraction", "withdrawn": "retraction",
        "response": "reply", "commentary": "comment", "re": "comment", "letter": "comment",
    }.get(word, word)


# ---------------------------------------------------------------- authors

_INITIALS = re.compile(r"^(?:[A-Z]\.?-?){1,4}$")
_COLLAPSED_SPLIT = re.compile(r"(?<=[A-Z]\.)(?=[A-Z][a-z'\u00C0-\u024F])")
_VANCOUVER_PIECE = re.compile(r"^[^\W\d_][\w'\- ]*\s(?:[A-Z]\.?\s?){1,4}$")
_COLLECTIVE_WORDS = re.compile(
    r"\b(?:group|consortium|committee|collaborat\w*|investigators|society|association|"
    r"organi[sz]ation|network|team|council|trial|study|working|panel|institute)\b",
    re.I,
)


def split_authors(field: str | None) -> list[str]:
    """Split one author field, in whatever form an export wrote it, into one string per author."""
    if not field:
        return []
    text = str(field).strip()
    if re.search(r"\s+and\s+", text):
        return [p.strip() for p in re.split(r"\s+and\s+", text) if p.strip()]
    if ";" in text:
        return [p.strip() for p in text.split(";") if p.strip()]
    if _COLLAPSED_SPLIT.search(text):
        return [p.strip() for p in _COLLAPSED_SPLIT.split(text) if p.strip()]
    pieces = [p.strip() for p in text.split(",") if p.strip()]
    if len(pieces) >= 2 and all(_VANCOUVER_PIECE.match(p) for p in pieces):
        return pieces  # Vancouver: "Adeli K, Lewis GF"
    if len(pieces) > 2 and not _COLLECTIVE_WORDS.search(text):
        # "F Last, G Last, H Last": more commas than a single "Last, First" holds
        return pieces
    return [text]


def _fold_name(text: str) -> str:
    return _NON_ALNUM.sub("", ascii_fold(text))


def author_surname(author: str) -> str:
    """The surname of one author string, folded (``O'Dell, M. W.`` -> ``odell``).

    Handles ``Last, Given``, ``Last FG``, ``F. Last``, ``Given Last``; a collective name is kept
    whole.
    """
    author = author.strip().strip(".,")
    if not author:
        return ""
    if _COLLECTIVE_WORDS.search(author):
        return _fold_name(author)
    if "," in author:
        return _fold_name(author.split(",", 1)[0])
    tokens = author.replace(".", ". ").split()
    is_initial = [bool(_INITIALS.match(t)) for t in tokens]
    if len(tokens) > 1 and is_initial[-1]:
        # "Lewis G. F." / "Lewis GF": surname first, initials after
        return _fold_name(" ".join(t for t, i in zip(tokens, is_initial) if not i))
    if len(tokens) > 1 and is_initial[0]:
        return _fold_name(" ".join(t for t, i in zip(tokens, is_initial) if not i))
    return _fold_name(tokens[-1])


def normalise_author_list(authors: list[str] | str | None, limit: int = 8) -> str:
    """Space-separated folded surnames of the first ``limit`` authors.

    Accepts a list (as ``Record.authors`` holds) or one raw field; idempotent on its own output.
    """
    if not authors:
        return ""
    if isinstance(authors, str):
        if _NORMALISED_AUTHORS.match(authors):
            return authors
        authors = split_authors(authors)
    surnames = [author_surname(a) for a in authors[:limit]]
    return " ".join(s for s in surnames if s)


_NORMALISED_AUTHORS = re.compile(r"^[a-z0-9]+(?: [a-z0-9]+)*$")


# ---------------------------------------------------------------- journal

_JOURNAL_STOP = frozenset(
    "the of and in for on de la le des du der und fur für et y a an".split()
)
# "Circulation. Conference: Resuscitation Science Symposium": the journal is before the dot.
_JOURNAL_NOISE = re.compile(r"\.\s*(?:conference|congress|meeting|symposium|abstracts?)\b.*$")


@lru_cache(maxsize=65536)
def normalise_journal(journal: str | None) -> str:
    """Journal as folded words without stop words or conference suffixes.

    ``"The FASEB Journal"`` -> ``"faseb journal"``; ``"Transfusion.Conference: AABB ..."`` ->
    ``"transfusion"``. Abbreviation versus full name is settled when comparing (see
    ``journal_similarity``), not here.
    """
    if not journal:
        return ""
    text = ascii_fold(html.unescape(str(journal))).replace("&", " and ")
    text = _JOURNAL_NOISE.sub("", text)
    words = [w for w in _NON_ALNUM.sub(" ", text).split() if w not in _JOURNAL_STOP]
    return " ".join(words)


def _abbreviates(short: str, full: str) -> bool:
    """Whether ``short`` is an abbreviation of ``full`` (same first letter, letters in order)."""
    if short == full:
        return True
    if not short or not full or short[0] != full[0] or len(short) > len(full):
        return False
    position = 0
    for char in short:
        position = full.find(char, position) + 1
        if position == 0:
            return False
    return True


@lru_cache(maxsize=262144)
def journal_similarity(a: str, b: str) -> float:
    """Similarity in [0, 1] of two normalised journal names, abbreviations counted as equal.

    ``"curr opin lipidol"`` and ``"current opinion lipidology"`` score 1.0: every word of the
    shorter name abbreviates the word at the same place in the longer one.
    """
    if not a or not b:
        return 0.0
    if a == b:
        return 1.0
    wa, wb = a.split(), b.split()
    if len(wa) == len(wb):
        hits = sum(
            _abbreviates(x, y) if len(x) <= len(y) else _abbreviates(y, x)
            for x, y in zip(wa, wb)
        )
        if hits == len(wa):
            return 1.0
    # Compressed forms ("haematologica hematology journal" vs "haematologica") share a head.
    if wa[0] == wb[0] and (len(wa) == 1 or len(wb) == 1) and len(wa[0]) > 5:
        return 0.9
    return 0.0


# ---------------------------------------------------------------- numbers

_DIGITS = re.compile(r"\d+")


def normalise_year(value: object) -> int:
    """Four-digit year as an int, 0 when absent or implausible."""
    if value is None:
        return 0
    match = re.search(r"(1[5-9]\d\d|20\d\d)", str(value))
    return int(match.group(1)) if match else 0


def normalise_volume(value: object) -> str:
    """The volume number's digits (``"7 (Suppl 2)"`` -> ``"7"``); ``""`` when there are none."""
    if value is None:
        return ""
    match = _DIGITS.search(str(value))
    return str(int(match.group(0))) if match else ""


def normalise_number(value: object) -> str:
    """The issue as compared: digits with a supplement marker (``"3 SUPPL. 1"`` -> ``"3s1"``).

    Long numbers are accession numbers that some exporters put in this field, not issues: they
    become ``""`` so that they neither confirm nor contradict a match.
    """
    if value is None:
        return ""
    text = str(value).lower()
    if re.fullmatch(r"\d+(?:s\d*)?", text):
        return text
    supplement = "s" if "suppl" in text or "supplement" in text else ""
    numbers = _DIGITS.findall(text)
    if not numbers or len(numbers[0]) > 4:
        return "s" if supplement else ""
    if supplement:
        after = numbers[1] if len(numbers) > 1 else ""
        return (numbers[0] if text.find(numbers[0]) < text.find("suppl") else "") + "s" + after
    return str(int(numbers[0]))


def normalise_pages(value: object) -> str:
    """Page range as ``first-last`` with the last page written out in full.

    ``"457-68"`` -> ``"457-468"``, ``"47--65"`` -> ``"47-65"``, ``"e1-e8"`` -> ``"e1-e8"``,
    ``"1899-1899"`` -> ``"1899"``, an article number stays as it is.
    """
    if value is None:
        return ""
    text = ascii_fold(str(value)).strip().replace(" ", "")
    text = re.sub(r"[-\u2013\u2014]+", "-", text)
    text = re.sub(r"^pp?\.?", "", text)
    parts = text.split("-")
    first = parts[0].strip(".")
    if not first:
        return ""
    if len(parts) < 2 or not parts[1]:
        return first
    last = parts[1].strip(".")
    prefix = re.match(r"^([a-z]*)(\d+)([a-z]*)$", first)
    suffix = re.match(r"^([a-z]*)(\d+)([a-z]*)$", last)
    if prefix and suffix:
        head, start, tail = prefix.groups()
        end = suffix.group(2)
        if len(end) < len(start):
            end = start[: len(start) - len(end)] + end
        last = (suffix.group(1) or head) + end + (suffix.group(3) or tail)
    if last == first:
        return first
    return f"{first}-{last}"


def first_page(pages: str) -> str:
    """The first page of a normalised page range."""
    return pages.split("-", 1)[0]
