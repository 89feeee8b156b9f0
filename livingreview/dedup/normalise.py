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

from rapidfuzz import fuzz

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
_EMBASE_NOTE = re.compile(r"\s*\((?:multiple letters|letter|abstract)\)\W*$", re.I)


def ascii_fold(text: str) -> str:
    """Lower-case ASCII: Greek letters spelt out, accents dropped (``Bröker`` -> ``broker``)."""
    if text.isascii():
        return text.lower()
    text = _GREEK_RE.sub(lambda m: " " + _GREEK[m.group(0)] + " ", text.lower())
    text = unicodedata.normalize("NFKD", text)
    return text.encode("ascii", "ignore").decode("ascii")


def strip_title_notes(title: str) -> str:
    """Remove database notes appended to a title and unwrap a bracketed translated title."""
    text = html.unescape(_TAG.sub(" ", title)).strip()
    for _ in range(6):
        stripped = _EMBASE_NOTE.sub("", _TRUNCATED_NOTE.sub("", _TRAILING_NOTE.sub("", text)))
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
    text = str(title)
    if _NOTE_HINT.search(text):
        text = strip_title_notes(text)
    return _NON_ALNUM.sub(" ", ascii_fold(text)).strip()


_NOTE_HINT = re.compile(r"[\[<&(]")


def normalise_text(text: str | None) -> str:
    """Free text (an abstract) as lower-case ASCII words separated by single spaces."""
    if not text:
        return ""
    return _NON_ALNUM.sub(" ", ascii_fold(str(text))).strip()


# Notices are separate records that reuse the title of the article they concern; merging them
# with the article would hide one of the two.
_NOTICE = re.compile(
    r"^(?:(?:an?\s+)?(?:erratum|errata|corrigendum|corrigenda|correction|retraction|"
    r"retracted|withdrawn|expression of concern|notice of retraction|reply|response|"
    r"authors?\s+reply|comment|commentary|in reply|letter|re|editorial comment)\b)",
)


# Web of Science writes a correction as the corrected title plus a citation of the original:
# "... (vol 85, pg 553, 2010)"; EMBASE as "... (New England Journal of Medicine (2009) 360
# (542-544))". After normalisation these read "vol 85 pg 553 2010" and "... 2009 360 542 544".
_CITED_ORIGINAL = re.compile(r"(?:\bvol \d+ pg \d+(?: \d{4})?$|\b(?:19|20)\d\d \d+ \d+(?: \d+)?$)")


def strip_cited_original(normalised_title: str) -> str:
    """A correction's title without the citation of the corrected article."""
    return _CITED_ORIGINAL.sub("", normalised_title).strip()


# Embase indexes a letter and the replies printed with it as one record, marked in its title.
_LETTER_BUNDLE = re.compile(r"\(multiple letters\)", re.I)


def is_letter_bundle(title: str | None) -> bool:
    """Whether a raw title marks one record of a letter and its replies ("... (multiple letters)")."""
    return bool(title) and _LETTER_BUNDLE.search(str(title)) is not None


def notice_kind(normalised_title: str) -> str:
    """``"erratum"``, ``"reply"``... when the title marks a notice about another article, else ``""``."""
    match = _NOTICE.match(normalised_title)
    if not match:
        return "erratum" if _CITED_ORIGINAL.search(normalised_title) else ""
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


_ASCII_PUNCTUATION = str.maketrans("", "", "".join(
    chr(c) for c in range(128) if not chr(c).isalnum()
))


def _fold_name(text: str) -> str:
    if text.isascii():
        return text.lower().translate(_ASCII_PUNCTUATION)
    return _NON_ALNUM.sub("", ascii_fold(text))




_PLACEHOLDER_NAMES = re.compile(
    r"(?:,\s*)?\b(?:null|et al\.?|n/a|anonymous|anon\.?|unknown|no authorship indicated)(?=\s|,|$)",
    re.I,
)


# Word stems that may mark a placeholder or collective name. Substring tests on the lower-cased
# text are ten times faster than the word-bounded regular expressions; a hit only sends the
# name down the exact (slower) path, so a spurious hit costs time, never correctness.
_UNUSUAL_STEMS = (
    "null", "et al", "n/a", "anon", "unknown", "no authorship", "group", "consorti",
    "committee", "collaborat", "investigator", "societ", "associat", "organi", "network",
    "team", "council", "trial", "study", "working", "panel", "institut",
)


def _unusual_name(text: str) -> bool:
    lower = text.lower()
    return any(stem in lower for stem in _UNUSUAL_STEMS)


# Name particles shared by unrelated people ("de", "van"): not evidence of the same person.
_PARTICLES = frozenset("de da del della di van von der den le la du dos das el al bin ben mc st".split())


@lru_cache(maxsize=1 << 18)  # names recur across a corpus: most look-ups are repeats
def parse_author(author: str) -> tuple[str, tuple[str, ...], str]:
    """(surname, name words, initials) of one author string, folded.

    Handles ``Last, Given``, ``Last FG``, ``F. Last``, ``Given Last`` and collective names
    (kept whole as the surname). The name words are every folded word of two or more letters,
    plus the surname joined up, so that ``Le Quintrec, M.`` and ``Le, Quintrec M.`` share one.
    """
    if _unusual_name(author):
        author = _PLACEHOLDER_NAMES.sub("", author)
    author = author.strip().strip(".,;")
    if not author:
        return "", (), ""
    if _COLLECTIVE_WORDS.search(author):
        name = _fold_name(author)
        return name, (name,), ""
    if "," in author:
        family, given = author.split(",", 1)
        family_words = family.split()
        given_tokens = given.replace(".", ". ").split()
    else:
        tokens = author.replace(".", ". ").split()
        is_initial = [bool(_INITIALS.match(t)) for t in tokens]
        if len(tokens) > 1 and (is_initial[-1] or is_initial[0]):
            # "Lewis G. F." / "Lewis GF" / "G. F. Lewis": the initials are the given name
            family_words = [t for t, i in zip(tokens, is_initial) if not i]
            given_tokens = [t for t, i in zip(tokens, is_initial) if i]
        else:
            family_words, given_tokens = tokens[-1:], tokens[:-1]
    surname = _fold_name("".join(family_words))
    words = {_fold_name(w) for w in family_words}
    initials = ""
    for token in given_tokens:
        if _INITIALS.match(token):  # "G.", "GF", "J.-P."
            initials += _fold_name(token)
            continue
        words.add(_fold_name(token))
        initials += "".join(_fold_name(part)[:1] for part in token.split("-"))
    words = {w for w in words if len(w) >= 2 and w not in _PARTICLES}
    if surname in _PARTICLES and given_tokens:
        # "Le, Quintrec M.", "Del, Mistro A": an exporter split a compound surname at the comma
        words.add(surname + _fold_name(given_tokens[0]))
    if surname:
        words.add(surname)
    if not surname and words:
        surname = sorted(words)[0]
    return surname, tuple(sorted(words)), initials


def author_surname(author: str, plain: bool = False) -> str:
    """The surname of one author string, folded (``O'Dell, M. W.`` -> ``odell``).

    The same as ``parse_author(author)[0]``, faster for the common ``Last, Given`` form.
    ``plain=True`` says the caller has checked the name holds no placeholder or collective word.
    """
    family, comma, _given = author.partition(",")
    if comma and family.strip() and (plain or not _unusual_name(author)):
        return _fold_name(family)
    return parse_author(author)[0]


def _author_items(authors: list[str] | str | None, limit: int) -> list[str]:
    if not authors:
        return []
    if isinstance(authors, str):
        authors = split_authors(authors)
    return [a for a in authors if a and a.strip()][:limit]


def normalise_author_list(authors: list[str] | str | None, limit: int = 8) -> str:
    """Space-separated folded surnames of the first ``limit`` authors.

    Accepts a list (as ``Record.authors`` holds) or one raw field; idempotent on its own output.
    """
    if isinstance(authors, str) and _NORMALISED_AUTHORS.match(authors):
        return authors
    items = _author_items(authors, limit)
    plain = not _unusual_name("|".join(items))  # one test for the whole list
    surnames = [author_surname(a, plain) for a in items]
    return " ".join(s for s in surnames if s)


_NORMALISED_AUTHORS = re.compile(r"^[a-z0-9]+(?: [a-z0-9]+)*$")


def author_fields(authors: list[str] | str | None, limit: int = 8) -> tuple[str, str]:
    """``(normalise_author_list(authors), author_list(authors))`` in one pass."""
    items = _author_items(authors, limit)
    plain = not _unusual_name("|".join(items))
    surnames = " ".join(s for s in (author_surname(a, plain) for a in items) if s)
    return surnames, "|".join(a.replace("|", " ").replace("\n", " ").strip() for a in items)


def author_list(authors: list[str] | str | None, limit: int = 8) -> str:
    """The first ``limit`` authors as one string, ``|`` between authors, for
    ``author_list_similarity`` (which parses them only when a comparison needs it)."""
    return "|".join(
        a.replace("|", " ").replace("\n", " ").strip() for a in _author_items(authors, limit)
    )


_NAME_WORD = re.compile(r"[a-z0-9]{2,}")


def author_words(authors: str) -> str:
    """Every folded word of two or more letters in an ``author_list`` string, sorted.

    A cheap stand-in for the author list that a vectorised token-set comparison can screen
    pairs with before the exact (slow) list comparison.
    """
    return " ".join(sorted(set(_NAME_WORD.findall(ascii_fold(authors))) - _PARTICLES))


def _same_author(a: tuple[str, tuple[str, ...], str], b: tuple[str, tuple[str, ...], str]) -> float:
    surname_a, words_a, initials_a = a
    surname_b, words_b, initials_b = b
    if surname_a == surname_b or surname_a in words_b or surname_b in words_a:
        return 1.0
    if min(len(surname_a), len(surname_b)) >= 5 and fuzz.ratio(surname_a, surname_b) >= 88:
        return 1.0  # a typo or transliteration: "Jammal"/"Jamal", "Kroller"/"Kroeller"
    if initials_a and initials_b and surname_a[0] == initials_b[0] and surname_b[0] == initials_a[0]:
        return 0.5  # given and family name swapped, both abbreviated: "Tong, H" / "Hua, T"
    return 0.0


def _parse_list(authors: str) -> list[tuple[str, tuple[str, ...], str]]:
    parsed = [parse_author(a) for a in authors.split("|")]
    return [p for p in parsed if p[0]]


@lru_cache(maxsize=65536)
def author_list_similarity(a: str, b: str) -> float:
    """Share of the shorter author list found at the same place (give or take one) in the other.

    Tolerates what exports do to author lists: truncation (``Stringer, A. Y.`` against
    ``Stringer, A. Y.; Small, S. K.``), a collective author appended, a dropped author, given and
    family names swapped (``Ching-yi, Wu``), compound surnames split (``Le, Quintrec M.``).
    """
    if not a or not b:
        return 0.0
    list_a, list_b = _parse_list(a), _parse_list(b)
    if not list_a or not list_b:
        return 0.0
    if len(list_a) > len(list_b):
        list_a, list_b = list_b, list_a
    total = 0.0
    for position, author in enumerate(list_a):
        window = list_b[max(0, position - 1): position + 2]
        total += max(_same_author(author, other) for other in window)
    return total / len(list_a)


# ---------------------------------------------------------------- journal

_JOURNAL_STOP = frozenset(
    "the of and in for on de la le des du der und fur für et y a an".split()
)
# "Circulation. Conference: Resuscitation Science Symposium": the journal is before the dot.
_MEDIUM_NOTE = re.compile(r"\s*\[(?:electronic resource|internet|online|print)\]", re.I)
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
    text = _JOURNAL_NOISE.sub("", _MEDIUM_NOTE.sub("", text))
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
    if _is_acronym_of(wa, wb) or _is_acronym_of(wb, wa):
        return 0.9
    # One name inside the other: "japanese journal clinical hematology" within "rinsho ketsueki
    # japanese journal clinical hematology" (original title plus translation).
    short, long_ = (a, b) if len(wa) < len(wb) else (b, a)
    if len(short.split()) >= 2 and f" {short} " in f" {long_} ":
        return 0.9
    # Every word of one in the other, scattered: a meeting named with and without its journal
    # ("thrombosis haemostasis" in "congress international society thrombosis haemostasis").
    # Not enough to corroborate a match, enough not to contradict one.
    topic = set(short.split()) - _GENERIC_JOURNAL_WORDS
    if len(topic) >= 2 and topic <= set(long_.split()):
        return 0.8
    return 0.0


_GENERIC_JOURNAL_WORDS = frozenset(
    "journal j international int proceedings proc annals ann archives arch bulletin bull acta "
    "official conference congress meeting".split()
)


def _is_acronym_of(short: list[str], full: list[str]) -> bool:
    """Whether a word of ``short`` is an acronym of ``full`` ("amcis 2017 proceedings" against
    "americas conference information systems"): it holds the initials of every word of the full
    name, in order, and its letters run through the full name in order."""
    if len(full) < 3:
        return False
    initials, joined = "".join(w[0] for w in full), "".join(full)
    return any(
        3 <= len(word) <= 8 and word.isalpha() and _abbreviates(initials, word)
        and _abbreviates(word, joined)
        for word in short
    )


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
    text = str(value)
    if ")" in text and "(" not in text:
        return ""  # the tail of "(Suppl 1)" left in the field by a broken export
    match = _DIGITS.search(text)
    return str(int(match.group(0))) if match else ""


def normalise_number(value: object) -> str:
    """The issue as compared: digits with a supplement marker (``"3 SUPPL. 1"`` -> ``"3s1"``).

    Long numbers are accession numbers that some exporters put in this field, not issues: they
    become ``""`` so that they neither confirm nor contradict a match.
    """
    if value is None:
        return ""
    text = str(value).lower()
    compared = _COMPARED_NUMBER.fullmatch(text)
    if compared:  # already in the compared form (or a plain issue)
        issue, supplement = compared.group(1), compared.group(2)
        if len(issue) > 4:
            return ""
        return (str(int(issue)) if issue else "") + (supplement or "")
    at = text.find("suppl")
    if at < 0:
        numbers = _DIGITS.findall(text)
        return str(int(numbers[0])) if numbers and len(numbers[0]) <= 4 else ""
    before, after = _DIGITS.findall(text[:at]), _DIGITS.findall(text[at:])
    issue = str(int(before[0])) if before and len(before[0]) <= 4 else ""
    part = str(int(after[0])) if after and len(after[0]) <= 4 else ""
    return f"{issue}s{part}"


_COMPARED_NUMBER = re.compile(r"(\d*)(s\d*)?")


_PAGE = re.compile(r"^([a-z]*)(\d+)([a-z]*)$")
_PLAIN_RANGE = re.compile(r"^\s*([1-9]\d*)\s*(?:-+\s*([1-9]\d*))?\s*$")


def issue_part(number: str) -> str:
    """The issue of a normalised number without its supplement (``"3s1"`` -> ``"3"``)."""
    return number.split("s", 1)[0]


def normalise_pages(value: object) -> str:
    """Page range as ``first-last`` with the last page written out in full.

    ``"457-68"`` -> ``"457-468"``, ``"47--65"`` -> ``"47-65"``, ``"e1-e8"`` -> ``"e1-e8"``,
    ``"1899-1899"`` -> ``"1899"``, ``"532, 534-536, 538-540"`` -> ``"532-540"``; an article
    number stays as it is.
    """
    if value is None:
        return ""
    plain = _PLAIN_RANGE.match(str(value))
    if plain:  # the common "457-468" / "457-68" / "457", without the general machinery
        begin, finish = plain.group(1), plain.group(2)
        if not finish:
            return begin
        if len(finish) < len(begin):
            finish = begin[: len(begin) - len(finish)] + finish
        return begin if finish == begin else f"{begin}-{finish}"
    text = ascii_fold(str(value)).strip().replace(" ", "")
    text = re.sub(r"[-\u2013\u2014]+", "-", text)
    text = re.sub(r"^pp?\.(?=\w)", "", text).replace(".", "")  # "pp. 457-68"
    items = [item for item in re.split(r"[,;]", text) if item]
    if not items:
        return ""
    first = items[0].split("-")[0]
    last = items[-1].split("-")[-1] if ("-" in items[-1] or len(items) > 1) else ""
    if not first:
        return ""
    if not last or last == first:
        return first
    start, end = _PAGE.match(first), _PAGE.match(last)
    if start and end:
        head, begin, tail = start.groups()
        finish = end.group(2)
        if len(finish) < len(begin):
            finish = begin[: len(begin) - len(finish)] + finish
        last = (end.group(1) or head) + finish + (end.group(3) or tail)
    if last == first:
        return first
    return f"{first}-{last}"


def page_span(pages: str) -> tuple[str, int, int]:
    """(kind, first, last) of a normalised page range.

    ``kind`` is the letter prefix (``e``, ``s``, ``c``), ``""`` for plain numbers and ``"?"`` for
    a range that starts with no number (``"t-71"``, ``"suppl-41"``: mangled by an exporter);
    ``last`` is as written, so it may be below ``first`` in a mistyped range.
    """
    if not pages:
        return "", -1, -1
    first, _, last = pages.partition("-")
    start, end = _PAGE.match(first), _PAGE.match(last or first)
    if not start:
        return "?", -1, -1
    kind, begin = start.group(1), int(start.group(2)[:9])
    return kind, begin, int(end.group(2)[:9]) if end else begin


def first_page(pages: str) -> str:
    """The first page of a normalised page range; ``""`` when it holds no number."""
    first = pages.split("-", 1)[0]
    return first if _DIGITS.search(first) else ""
