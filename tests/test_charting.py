"""Charting: the scheme maps the seed's free text, and the CSV round trip checks every cell,
reports every bad one, and imports nothing from a file with one bad cell."""

from __future__ import annotations

import csv
from pathlib import Path

import pycountry
import pytest
from sqlalchemy import func, select

from livingreview.screening.charting import (
    ChartImportError,
    chart_columns,
    current_codes,
    export_charting,
    import_charting,
)
from livingreview.screening.scheme import (
    FIELDS,
    PUBLISHED_REGIONS,
    CodeError,
    check_value,
    involvement_from_phases,
    normalise_code,
    published_region,
    region_of,
)
from livingreview.baseline import SEED_FILE
from livingreview.screening.status import record_decision
from livingreview.store.database import session_scope
from livingreview.store.models import Candidate, ChartingCode, StoredRecord

SEED = SEED_FILE  # the repository's copy of the seed's references.csv


def test_seed_codings_map_onto_the_scheme():
    assert normalise_code("role_type", "pre-determined services | peer support") == \
        ["pre-determined services", "peer support"]
    assert normalise_code("design", "clinical trial or RCT (vs non-peer workers) | quantitative") \
        == ["RCT / clinical trial", "quantitative (survey / correlational / longitudinal / cohort)"]
    assert normalise_code("design", "qualitative (case study combining several perspectives)") == \
        ["case study"]
    assert normalise_code("service_context", "transition from hospital to community") == \
        ["transition hospital→community"]
    assert normalise_code("service_context",
                          "municipal services (care teams; service-level planning groups)") == \
        ["municipal services"]
    assert normalise_code("boundary_spanner", "linking; cultural broker (Discussion)") == ["explicit"]
    assert normalise_code("boundary_spanner", "implicit") == ["implicit"]
    assert normalise_code("boundary_spanner_descriptor",
                          "bridges; fluid group membership / knows the rules; cultural broker "
                          "(Discussion)") == ["bridge", "other", "cultural broker"]
    assert normalise_code("country", "US") == ["US"]
    assert normalise_code("country", "England | Australia") == ["GB", "AU"]
    assert normalise_code("identified_via", "scanning_2021") == ["scanning"]
    assert normalise_code("research_focus", "") == []
    with pytest.raises(CodeError, match="role_type"):
        normalise_code("role_type", "co-designer")


def test_every_coded_cell_of_the_seed_maps_to_allowed_values():
    columns = {"role_type": "role_type", "research_focus": "research_focus",
               "involvement": "involvement", "design": "design",
               "service_context": "service_context", "country": "country",
               "boundary_spanner": "boundary_spanner"}
    with open(SEED, newline="", encoding="utf-8") as handle:
        rows = [r for r in csv.DictReader(handle) if r["role"] == "included_study"]
    mapped = 0
    for row in rows:
        for column, field in columns.items():
            for value in normalise_code(field, row[column]):
                assert FIELDS[field].allows(value) or field == "country"
                mapped += 1
    assert mapped > 150


def test_regions_cover_every_inhabited_country_and_map_back_to_the_published_seven():
    uninhabited = {"AQ", "BV", "HM", "GS", "TF"}
    for country in pycountry.countries:
        if country.alpha_2 not in uninhabited:
            assert region_of(country.alpha_2)
    assert region_of("GB") == "Great Britain" and region_of("NO") == "Europe excluding Great Britain"
    assert region_of("IL") == "Middle East" and published_region("Middle East") == "Asia"
    assert published_region("Africa") is None
    assert {published_region(r) for r in PUBLISHED_REGIONS} == set(PUBLISHED_REGIONS)


def test_involvement_follows_the_operational_rule():
    assert involvement_from_phases({"design", "delivery"}) == "co-creation"
    assert involvement_from_phases({"delivery", "assessment"}) == "delivery+assessment"
    assert involvement_from_phases({"delivery"}) == "co-production"


def test_strict_check_forgives_case_and_dashes_only():
    assert check_value("design", "Pre-Post / Pilot / Feasibility") == "pre–post / pilot / feasibility"
    assert check_value("country", "norway") == "NO"
    with pytest.raises(CodeError):
        check_value("design", "qualitative")


def _included(url: str, n: int = 3) -> list[int]:
    ids = []
    with session_scope(url) as s:
        for i in range(n):
            row = StoredRecord(origin="pubmed", title=f"Peer workers {i}", year=2022 + i,
                               authors=[f"Author{i}, A."], study_id=f"author{i}2022")
            s.add(row)
            s.flush()
            s.add(Candidate(record_id=row.id))
            s.flush()
            record_decision(s, row.id, "title_abstract", "include", "ann")
            record_decision(s, row.id, "full_text", "include", "ann")
            ids.append(row.id)
        s.add(ChartingCode(record_id=ids[0], field="research_focus", value="outcomes",
                           coder="published-article"))
        s.add(ChartingCode(record_id=ids[0], field="country", value="US", coder="published-article"))
        s.add(ChartingCode(record_id=ids[0], field="country", value="CA", coder="published-article"))
    return ids


def _rows(path: Path) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8-sig") as handle:
        return list(csv.DictReader(handle))


def _write(path: Path, rows: list[dict[str, str]]) -> None:
    with open(path, "w", newline="", encoding="utf-8-sig") as handle:
        writer = csv.DictWriter(handle, fieldnames=chart_columns())
        writer.writeheader()
        writer.writerows(rows)


def test_export_then_unchanged_import_changes_nothing(store_url, tmp_path):
    ids = _included(store_url)
    sheet = tmp_path / "chart.csv"
    with session_scope(store_url) as s:
        assert export_charting(s, sheet) == 3
    rows = _rows(sheet)
    assert [int(r["record_id"]) for r in rows] == ids
    assert rows[0]["country"] == "US | CA" and rows[0]["research_focus"] == "outcomes"
    with session_scope(store_url) as s:
        result = import_charting(s, sheet, coder="bob")
    assert result.fields_changed == 0
    with session_scope(store_url) as s:
        coders = set(s.scalars(select(ChartingCode.coder)))
    assert coders == {"published-article"}


def test_import_writes_changed_fields_by_the_coder(store_url, tmp_path):
    ids = _included(store_url)
    sheet = tmp_path / "chart.csv"
    with session_scope(store_url) as s:
        export_charting(s, sheet)
    rows = _rows(sheet)
    rows[1]["role_type"] = "Peer Support"
    rows[1]["service_cycle_phases"] = "design | delivery"
    rows[1]["involvement"] = "co-creation"
    rows[1]["country"] = "England | norway"
    rows[0]["country"] = "US"
    _write(sheet, rows)
    with session_scope(store_url) as s:
        result = import_charting(s, sheet, coder="bob")
    assert result.changed_records == [ids[0], ids[1]]
    with session_scope(store_url) as s:
        codes = current_codes(s)
        assert codes[ids[1]]["role_type"] == ["peer support"]
        assert codes[ids[1]]["country"] == ["GB", "NO"]
        assert codes[ids[0]]["country"] == ["US"]
        assert codes[ids[0]]["research_focus"] == ["outcomes"]
        bob = s.scalar(select(ChartingCode).where(ChartingCode.record_id == ids[1],
                                                  ChartingCode.field == "involvement"))
        assert bob.coder == "bob"


def test_bad_cells_are_all_reported_and_nothing_is_imported(store_url, tmp_path):
    _included(store_url)
    sheet = tmp_path / "chart.csv"
    with session_scope(store_url) as s:
        export_charting(s, sheet)
        before = s.scalar(select(func.count()).select_from(ChartingCode))
    rows = _rows(sheet)
    rows[0]["design"] = "qualitative (interviews / focus groups / observation)"  # fine
    rows[1]["design"] = "ethnography"
    rows[1]["research_focus"] = "outcomes | qualities"
    rows[2]["country"] = "Atlantis"
    rows[2]["service_cycle_phases"] = "design"
    rows[2]["outcome_evidence"] = "qualitative"
    rows[2]["research_focus"] = "implementation"
    _write(sheet, rows)
    with session_scope(store_url) as s:
        with pytest.raises(ChartImportError) as caught:
            import_charting(s, sheet, coder="bob")
    problems = {(p.line, p.column) for p in caught.value.problems}
    assert problems == {(3, "design"), (3, "research_focus"), (4, "country"),
                        (4, "service_cycle_phases"), (4, "outcome_evidence")}
    message = str(caught.value)
    assert "line 3, column design 'ethnography'" in message and "Allowed values" in message
    with session_scope(store_url) as s:
        assert s.scalar(select(func.count()).select_from(ChartingCode)) == before


def test_rows_for_unknown_or_not_included_records_and_unknown_columns_are_refused(store_url, tmp_path):
    ids = _included(store_url)
    with session_scope(store_url) as s:
        other = StoredRecord(origin="pubmed", title="Not included")
        s.add(other)
        s.flush()
        other_id = other.id
    sheet = tmp_path / "chart.csv"
    with open(sheet, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["record_id", "role_typ"])
        writer.writerow([other_id, ""])
        writer.writerow([ids[0], ""])
        writer.writerow([ids[0], ""])
        writer.writerow(["abc", ""])
    with session_scope(store_url) as s:
        with pytest.raises(ChartImportError) as caught:
            import_charting(s, sheet, coder="bob")
    text = str(caught.value)
    assert "role_typ" in text and "not an included study" in text
    assert "already on line 3" in text and "'abc'" in text


NELSON_ABSTRACT = (  # nelson2016's real abstract (tests/fixtures/included_studies)
    "Planning the implementation of evidence-based mental health services entails commitment to "
    "both rigour and community relevance. This research focused on collaboration among "
    "different stakeholders (e.g. researchers, service-providers, persons with lived experience "
    "[PWLE]) at five project sites across Canada in the planning of At Home/Chez Soi, a Housing "
    "First initiative for homeless people with mental health problems.")


def test_export_suggests_involvement_and_role_type_and_the_coder_always_wins(store_url,
                                                                            tmp_path):
    ids = _included(store_url)
    with session_scope(store_url) as s:
        nelson, trial, coded = (s.get(StoredRecord, i) for i in ids)
        nelson.title = ("Collaboration and involvement of persons with lived experience in "
                        "planning Canada's At Home/Chez Soi project")
        nelson.abstract = NELSON_ABSTRACT
        trial.abstract = ("Peer specialists were trained to deliver a manualised illness "
                          "management program with fidelity.")
        coded.abstract = "Peer workers on the planning group of the service planned new services."
        s.add(ChartingCode(record_id=ids[2], field="involvement", value="co-production",
                           coder="ann"))
    sheet = tmp_path / "chart.csv"
    with session_scope(store_url) as s:
        export_charting(s, sheet)
    rows = _rows(sheet)
    assert [(r["suggested_involvement"], r["suggested_role_type"]) for r in rows] == [
        ("co-creation", "partners in co-creation"),
        ("co-production", "pre-determined services"),
        ("", "partners in co-creation")]  # ann coded the involvement: no suggestion for it
    assert rows[0]["suggestion_evidence"].startswith(
        "[commissioning/actor: planning] Collaboration and involvement of persons with lived "
        "experience in planning Canada's At Home/Chez Soi project.")
    assert rows[1]["suggestion_evidence"] == (
        "[pre-determined services: trained to deliver] Peer specialists were trained to deliver "
        "a manualised illness management program with fidelity.")
    assert rows[0]["involvement"] == rows[0]["role_type"] == ""  # suggestions are not codes

    # Importing the sheet as exported codes nothing: a suggestion needs a coder to write it.
    with session_scope(store_url) as s:
        assert import_charting(s, sheet, coder="bob").values_written == 0
    rows[0]["involvement"] = "co-creation"  # bob takes the suggestion ...
    rows[1]["role_type"] = "peer support"   # ... and overrides another
    _write(sheet, rows)
    with session_scope(store_url) as s:
        result = import_charting(s, sheet, coder="bob")
        codes = current_codes(s)
    assert result.values_written == 2
    assert codes[ids[0]]["involvement"] == ["co-creation"] and "role_type" not in codes[ids[0]]
    assert codes[ids[1]]["role_type"] == ["peer support"]
    assert codes[ids[2]]["involvement"] == ["co-production"]
