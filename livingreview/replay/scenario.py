"""Scenarios: the recorded corpus one replay server answers from.

A scenario is a directory of recorded responses. Every EFetch ``PubmedArticleSet`` file in it
(any depth) adds its articles to the PubMed corpus; every Crossref ``work-list`` or ``work`` answer
adds its work items to the Crossref corpus. Other recordings in the directory (error bodies,
ESearch answers) are ignored. Two scenarios have names:

* ``demo`` (``replay/demo/``, the default): the review's own field, peer-worker studies published
  after the review's cut-off, over the two monthly windows its ``scenario.toml`` names; what
  ``make demo`` runs (provenance in ``replay/demo/PROVENANCE.md``);
* ``recordings`` (``replay/recordings/``): every recorded fixture, parser edge cases included.

Tests build their own with :func:`build_scenario` from a list of recording names, so that what a
test's server knows is written in the test.

What makes an article or work fall into a harvest window is its creation date:

* PubMed: ``PubMedPubDate[@PubStatus="entrez"]``, which the PubMed DTD documents as the Create Date
  searched by ``[crdt]`` (``PubStatus="pubmed"`` is the Entry Date ``[edat]``; used only when a
  record has no ``entrez`` date); a ``[mhda]`` window looks at ``PubStatus="medline"``, the MeSH
  Date;
* Crossref: the item's ``created.date-time`` (what ``from-created-date`` filters on), with
  ``indexed.date-time`` and ``issued`` kept for the other filters;
* OpenAlex: the work's ``created_date`` (``from_created_date``), ``publication_date`` kept too;
* Europe PMC: the result's ``firstIndexDate`` (``FIRST_IDATE``), ``dateOfCreation``
  (``CREATION_DATE``) and ``firstPublicationDate`` (``FIRST_PDATE``) kept too.

OpenAlex ``/works`` answers (``meta`` + ``results``, or a single work) add their works, keyed by
OpenAlex id; Europe PMC ``/search`` JSON answers (``resultList.result``) add their results, keyed
by ``source:id``, where a ``core`` copy wins over a ``lite`` one (it carries the abstract).
"""

from __future__ import annotations

import json
import re
import shutil
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from lxml import etree

from livingreview.errors import ConfigError, InputError
from livingreview.replay.bodies import RECORDINGS_DIR

DEMO = "demo"
RECORDINGS = "recordings"
DEMO_DIR = Path(__file__).with_name("demo")
NAMED = {DEMO: DEMO_DIR, RECORDINGS: RECORDINGS_DIR}

# One article element, exactly as recorded. The articles in a PubmedArticleSet never nest, so a
# non-greedy match from the start tag to its own end tag is the element's bytes.
_ARTICLE_SPAN = re.compile(rb"<(PubmedArticle|PubmedBookArticle)\b[^>]*>.*?</\1>", re.DOTALL)
_XML_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=True)


@dataclass(frozen=True)
class DateRange:
    """An inclusive range of calendar days."""

    first: date
    last: date

    def __contains__(self, day: object) -> bool:
        return isinstance(day, date) and self.first <= day <= self.last

    def __str__(self) -> str:
        return f"{self.first.isoformat()} .. {self.last.isoformat()}"


@dataclass(frozen=True)
class RecordedArticle:
    """One PubMed article: its PMID, Create Date and the element's recorded bytes."""

    pmid: str
    created: date
    element: bytes
    source: Path
    # MeSH Date (``PubStatus="medline"``): when indexing finished; None while in process.
    mesh_dated: date | None = None


@dataclass(frozen=True)
class RecordedWork:
    """One Crossref work item and the dates the ``/works`` filters look at."""

    doi: str
    item: dict[str, Any] = field(repr=False)
    created: date
    indexed: date
    issued: date | None
    source: Path
    # The recorded ``/works/{doi}`` answer, sent byte for byte when the work is asked for alone.
    single_body: bytes | None = field(default=None, repr=False)

    @property
    def key(self) -> str:
        return self.doi.lower()


@dataclass(frozen=True)
class RecordedOpenAlexWork:
    """One OpenAlex work and the dates its filters look at."""

    openalex_id: str  # "W2741809807"
    item: dict[str, Any] = field(repr=False)
    created: date
    published: date | None
    source: Path

    @property
    def doi(self) -> str | None:
        doi = self.item.get("doi") or (self.item.get("ids") or {}).get("doi")
        return doi.lower().removeprefix("https://doi.org/") if doi else None


@dataclass(frozen=True)
class RecordedEuropePMCResult:
    """One Europe PMC search result (``core`` where recorded) and its dates."""

    key: str  # "MED:12345"
    item: dict[str, Any] = field(repr=False)
    indexed: date | None  # firstIndexDate
    created: date | None  # dateOfCreation (core results only)
    published: date | None  # firstPublicationDate
    core: bool
    source: Path
    lite_item: dict[str, Any] | None = field(default=None, repr=False)


@dataclass(frozen=True)
class Scenario:
    """The corpus a replay server answers from."""

    name: str
    directory: Path
    articles: tuple[RecordedArticle, ...]  # PubMed's default order: newest Create Date first
    works: tuple[RecordedWork, ...]  # oldest created first, then DOI
    openalex_works: tuple[RecordedOpenAlexWork, ...] = ()  # oldest created first, then id
    europepmc_results: tuple[RecordedEuropePMCResult, ...] = ()  # newest index date first, then key

    def pubmed_created(self) -> DateRange | None:
        days = [a.created for a in self.articles]
        return DateRange(min(days), max(days)) if days else None

    def crossref_created(self) -> DateRange | None:
        days = [w.created for w in self.works]
        return DateRange(min(days), max(days)) if days else None

    def openalex_created(self) -> DateRange | None:
        days = [w.created for w in self.openalex_works]
        return DateRange(min(days), max(days)) if days else None

    def europepmc_indexed(self) -> DateRange | None:
        days = [r.indexed for r in self.europepmc_results if r.indexed]
        return DateRange(min(days), max(days)) if days else None

    def created_range(self) -> DateRange:
        """The days a harvest window must cover to see every article and work of the scenario."""
        ranges = [r for r in (self.pubmed_created(), self.crossref_created(), self.openalex_created(),
                              self.europepmc_indexed()) if r]
        if not ranges:
            raise ConfigError(
                f"scenario {self.name!r} ({self.directory}) holds no PubMed article and no "
                "Crossref work. Fix: add EFetch or Crossref works recordings to it"
            )
        return DateRange(min(r.first for r in ranges), max(r.last for r in ranges))

    def summary(self) -> dict[str, Any]:
        """Counts and creation-date ranges, for printing and for the control API."""
        pubmed, crossref = self.pubmed_created(), self.crossref_created()
        return {
            "scenario": self.name,
            "directory": str(self.directory),
            "pubmed_articles": len(self.articles),
            "pubmed_created": [pubmed.first.isoformat(), pubmed.last.isoformat()] if pubmed else None,
            "crossref_works": len(self.works),
            "crossref_created": (
                [crossref.first.isoformat(), crossref.last.isoformat()] if crossref else None
            ),
            "crossref_types": _count(w.item.get("type", "") for w in self.works),
            "openalex_works": len(self.openalex_works),
            "openalex_created": _span(self.openalex_created()),
            "europepmc_results": len(self.europepmc_results),
            "europepmc_indexed": _span(self.europepmc_indexed()),
        }


def _span(days: DateRange | None) -> list[str] | None:
    return [days.first.isoformat(), days.last.isoformat()] if days else None


def _count(values: Iterable[str]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for value in values:
        counts[value] = counts.get(value, 0) + 1
    return dict(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))


def scenario_directory(scenario: str | Path) -> Path:
    """Where a scenario's recordings are: a named scenario's folder, or the directory itself."""
    if isinstance(scenario, str) and scenario in NAMED:
        return NAMED[scenario]
    directory = Path(scenario)
    if not directory.is_dir():
        raise ConfigError(
            f"replay scenario {str(scenario)!r} is neither one of {sorted(NAMED)} nor a directory. "
            f"Fix: pass {DEMO!r} or {RECORDINGS!r}, or a directory made with "
            "build_scenario(directory, files)"
        )
    return directory


def scenario_runs(scenario: str | Path = DEMO) -> list[date]:
    """The ``until`` day of each monthly update a scenario is meant to be run with, in order
    (``scenario.toml``: ``runs = [2024-03-31, 2024-04-30]``); empty when it names none."""
    path = scenario_directory(scenario) / "scenario.toml"
    if not path.is_file():
        return []
    try:
        runs = tomllib.loads(path.read_text(encoding="utf-8")).get("runs", [])
    except tomllib.TOMLDecodeError as exc:
        raise InputError(str(path), "scenario.toml", f"not valid TOML ({exc})",
                         "write runs = [YYYY-MM-DD, ...]") from exc
    if not isinstance(runs, list) or not all(isinstance(day, date) for day in runs) \
            or runs != sorted(runs):
        raise InputError(str(path), "runs", f"{runs!r} is not a list of dates in order",
                         "write runs = [2024-03-31, 2024-04-30] (TOML dates, oldest first)")
    return list(runs)


def load_scenario(scenario: str | Path | Scenario = DEMO) -> Scenario:
    """Read every recorded article and work in a scenario directory."""
    if isinstance(scenario, Scenario):
        return scenario
    directory = scenario_directory(scenario)
    articles: dict[str, RecordedArticle] = {}
    works: dict[str, RecordedWork] = {}
    openalex_works: dict[str, RecordedOpenAlexWork] = {}
    europepmc: dict[str, RecordedEuropePMCResult] = {}
    for path in sorted(directory.rglob("*")):
        if path.suffix == ".xml":
            for article in _articles_in(path):
                articles.setdefault(article.pmid, article)
        elif path.suffix == ".json":
            for work in _works_in(path):
                known = works.get(work.key)
                # A recorded single-work answer is the fuller copy: it wins over a list item.
                if known is None or (work.single_body and not known.single_body):
                    works[work.key] = work
            for alex in _openalex_in(path):
                openalex_works.setdefault(alex.openalex_id, alex)
            for result in _europepmc_in(path):
                known_result = europepmc.get(result.key)
                if known_result is None:
                    europepmc[result.key] = result
                elif result.core and not known_result.core:
                    europepmc[result.key] = _with_lite(result, known_result.item)
                elif known_result.core and not result.core and known_result.lite_item is None:
                    europepmc[result.key] = _with_lite(known_result, result.item)
    names = {folder.resolve(): name for name, folder in NAMED.items()}
    name = names.get(directory.resolve(), directory.name)
    return Scenario(
        name=name,
        directory=directory,
        articles=tuple(sorted(articles.values(), key=lambda a: (a.created, int(a.pmid)), reverse=True)),
        works=tuple(sorted(works.values(), key=lambda w: (w.item["created"]["date-time"], w.key))),
        openalex_works=tuple(sorted(openalex_works.values(), key=lambda w: (w.created, w.openalex_id))),
        europepmc_results=tuple(sorted(europepmc.values(),
                                       key=lambda r: (r.indexed or date.min, r.key), reverse=True)),
    )


def scenario_date_range(scenario: str | Path | Scenario = DEMO) -> DateRange:
    """The creation dates a scenario covers (both sources); a demo window must span them."""
    return load_scenario(scenario).created_range()


def build_scenario(directory: str | Path, files: Iterable[str | Path]) -> Path:
    """Make a scenario directory holding copies of the given recordings; returns the directory.

    ``files`` are names inside the package recordings (``"pubmed/efetch_pubmed_219391_...xml"``,
    ``"crossref/works_sample10.json"``) or paths to other recorded files. A recording's
    PROVENANCE.md is copied next to it.
    """
    target = Path(directory)
    target.mkdir(parents=True, exist_ok=True)
    for name in files:
        source = Path(name)
        if not source.is_absolute():
            source = RECORDINGS_DIR / source
        if not source.is_file():
            raise ConfigError(
                f"build_scenario: recording {str(name)!r} not found (looked at {source}). Fix: use a "
                f"name under {RECORDINGS_DIR} such as 'pubmed/<file>.xml' or an existing file path"
            )
        folder = target / source.parent.name
        folder.mkdir(exist_ok=True)
        shutil.copyfile(source, folder / source.name)
        provenance = source.parent / "PROVENANCE.md"
        if provenance.is_file() and not (folder / "PROVENANCE.md").exists():
            shutil.copyfile(provenance, folder / "PROVENANCE.md")
    return target


# --- reading recordings -------------------------------------------------------------------------


def _articles_in(path: Path) -> list[RecordedArticle]:
    raw = path.read_bytes()
    try:
        root = etree.fromstring(raw, _XML_PARSER)
    except etree.XMLSyntaxError as exc:
        if b"<PubmedArticleSet" not in raw:
            return []  # not an EFetch answer (e.g. the recorded ASN.1 page); not corpus
        raise InputError(
            str(path), f"line {exc.lineno}", f"EFetch recording is not well-formed XML ({exc.msg})",
            "replace it with an unedited EFetch response",
        ) from exc
    if root.tag != "PubmedArticleSet":
        return []
    spans = [m.group(0) for m in _ARTICLE_SPAN.finditer(raw)]
    if len(spans) != len(root):
        raise InputError(
            str(path), "PubmedArticleSet",
            f"found {len(spans)} article elements in the bytes but {len(root)} children in the tree",
            "keep one PubmedArticle/PubmedBookArticle per element, without nested copies",
        )
    articles = []
    for index, element_bytes in enumerate(spans, start=1):
        element = etree.fromstring(element_bytes, _XML_PARSER)
        pmid = (element.findtext("./MedlineCitation/PMID") or element.findtext("./BookDocument/PMID") or "").strip()
        if not pmid.isdigit():
            raise InputError(str(path), f"article {index}", "no PMID", "use a complete EFetch record")
        created = _history_date(element, "entrez") or _history_date(element, "pubmed")
        if created is None:
            raise InputError(
                str(path), f"PMID {pmid}",
                'no PubMedPubDate with PubStatus "entrez" or "pubmed", so no Create Date',
                "use an EFetch record that carries its History dates",
            )
        articles.append(RecordedArticle(pmid=pmid, created=created, element=element_bytes, source=path,
                                        mesh_dated=_history_date(element, "medline")))
    return articles


def _history_date(element: etree._Element, status: str) -> date | None:
    found = element.xpath("./*/History/PubMedPubDate[@PubStatus=$s]", s=status)
    if not found:
        return None
    node = found[0]
    return date(int(node.findtext("Year")), int(node.findtext("Month") or 1), int(node.findtext("Day") or 1))


def _works_in(path: Path) -> list[RecordedWork]:
    raw = path.read_bytes()
    try:
        answer = json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InputError(
            str(path), f"byte {getattr(exc, 'pos', 0)}", f"Crossref recording is not JSON ({exc})",
            "replace it with an unedited Crossref response body",
        ) from exc
    if not isinstance(answer, dict) or answer.get("status") != "ok":
        return []  # an error body or a transform, not corpus
    kind = answer.get("message-type")
    if kind == "work-list":
        items, single = answer["message"].get("items", []), None
    elif kind == "work":
        items, single = [answer["message"]], raw
    else:
        return []
    works = []
    for position, item in enumerate(items):
        if "created" not in item or "indexed" not in item:
            continue  # an item cut down by select=: a partial copy that cannot be dated
        try:
            works.append(RecordedWork(
                doi=item["DOI"],
                item=item,
                created=_iso_day(item["created"]["date-time"]),
                indexed=_iso_day(item["indexed"]["date-time"]),
                issued=_parts_day(item.get("issued")),
                source=path,
                single_body=single,
            ))
        except (KeyError, TypeError, ValueError) as exc:
            raise InputError(
                str(path), f"item {position}", f"work item lacks a usable DOI or date ({exc!r})",
                "use an unedited Crossref work item",
            ) from exc
    return works


def _iso_day(stamp: str) -> date:
    return datetime.fromisoformat(stamp.replace("Z", "+00:00")).date()


def _parts_day(value: dict[str, Any] | None) -> date | None:
    """A Crossref ``{"date-parts": [[Y, M, D]]}``; a partial date is its earliest day."""
    if not value:
        return None
    parts = (value.get("date-parts") or [[None]])[0]
    if not parts or parts[0] is None:
        return None
    year, month, day = (list(parts) + [1, 1])[:3]
    return date(int(year), int(month or 1), int(day or 1))


def _json_answer(path: Path) -> Any:
    try:
        return json.loads(path.read_bytes())
    except (json.JSONDecodeError, UnicodeDecodeError):
        return None  # _works_in has already refused a broken JSON recording


def _openalex_in(path: Path) -> list[RecordedOpenAlexWork]:
    answer = _json_answer(path)
    if not isinstance(answer, dict):
        return []
    if isinstance(answer.get("results"), list) and isinstance(answer.get("meta"), dict):
        items = answer["results"]
    elif str(answer.get("id", "")).startswith("https://openalex.org/W"):
        items = [answer]
    else:
        return []
    works = []
    for position, item in enumerate(items):
        try:
            works.append(RecordedOpenAlexWork(
                openalex_id=item["id"].rsplit("/", 1)[-1],
                item=item,
                created=date.fromisoformat(item["created_date"][:10]),
                published=date.fromisoformat(item["publication_date"]) if item.get("publication_date") else None,
                source=path,
            ))
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise InputError(
                str(path), f"result {position}", f"OpenAlex work lacks a usable id or created_date ({exc!r})",
                "use an unedited OpenAlex /works response",
            ) from exc
    return works


def _optional_day(value: Any) -> date | None:
    return date.fromisoformat(value[:10]) if isinstance(value, str) and value else None


def _europepmc_in(path: Path) -> list[RecordedEuropePMCResult]:
    answer = _json_answer(path)
    if not isinstance(answer, dict) or not isinstance((answer.get("resultList") or {}).get("result"), list):
        return []
    result_type = (answer.get("request") or {}).get("resultType", "lite")
    if result_type == "idlist":
        return []  # ids only: nothing a search could answer with
    results = []
    for position, item in enumerate(answer["resultList"]["result"]):
        try:
            results.append(RecordedEuropePMCResult(
                key=f"{item['source']}:{item['id']}",
                item=item,
                indexed=_optional_day(item.get("firstIndexDate")),
                created=_optional_day(item.get("dateOfCreation")),
                published=_optional_day(item.get("firstPublicationDate")),
                core=result_type == "core",
                source=path,
            ))
        except (KeyError, TypeError, ValueError) as exc:
            raise InputError(
                str(path), f"result {position}", f"Europe PMC result lacks a source, id or usable date ({exc!r})",
                "use an unedited Europe PMC search response (format=json)",
            ) from exc
    return results


def _with_lite(core: RecordedEuropePMCResult, lite_item: dict[str, Any]) -> RecordedEuropePMCResult:
    return RecordedEuropePMCResult(core.key, core.item, core.indexed, core.created, core.published,
                                   True, core.source, lite_item)
