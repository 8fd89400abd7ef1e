"""`dossier import`: records from a spreadsheet, checked like content, all or nothing."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from dossier.build import BuildOptions, load_site
from dossier.cli import main

HEADER = ["titel", "samenvatting", "dossiers", "thema", "uitvoerder", "partners.organisatie",
          "partners.rol", "looptijd.start", "looptijd.eind"]


def _rows(n: int) -> list[list[str]]:
    """`n` valid project rows for the base test site."""
    return [[f"Geïmporteerd project {i:02d} (gegenereerd)", f"Gegenereerde samenvatting {i}.",
             "dossier-een", "jeugdzorg; gezondheid" if i % 2 else "veiligheid",
             "org-a" if i % 3 else "org-b", "org-b" if i % 4 == 0 else "",
             "partner" if i % 4 == 0 else "", "2010-01", "2011-06"]
            for i in range(1, n + 1)]


def _csv(path: Path, header: list[str], rows: list[list[str]], delimiter: str = ",",
         bom: bool = False) -> Path:
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(rows)
    path.write_text(("\ufeff" if bom else "") + buffer.getvalue(), encoding="utf-8")
    return path


def _import(site: Path, collection: str, file: Path, *more: str) -> Result:
    return CliRunner().invoke(main, ["import", collection, str(file), "--site", str(site),
                                     *more])


def _projects(site: Path) -> list[str]:
    return sorted(p.name for p in (site / "content" / "projecten").iterdir())


def test_forty_rows_with_two_bad_ones_write_nothing_and_name_both_rows(
    base_site: Path, tmp_path: Path
) -> None:
    rows = _rows(40)
    rows[6][HEADER.index("thema")] = "jeugdzorg; opvoedingsondersteunig"  # row 7: line 8
    rows[22][HEADER.index("uitvoerder")] = "org-aa"  # row 23: line 24
    sheet = _csv(tmp_path / "projecten.csv", HEADER, rows)
    before = _projects(base_site)

    result = _import(base_site, "projecten", sheet)
    assert result.exit_code == 1
    assert _projects(base_site) == before, "nothing is written"
    thema, uitvoerder = HEADER.index("thema") + 1, HEADER.index("uitvoerder") + 1
    assert result.stderr.splitlines() == [
        f"{sheet}:8:{thema}: error: thema: 'opvoedingsondersteunig' is not a known term; "
        "did you mean 'opvoedingsondersteuning'?",
        f"{sheet}:24:{uitvoerder}: error: uitvoerder: no record 'org-aa' in organisaties; "
        "did you mean 'org-a'?",
        "import refused, nothing written: 2 errors, 0 warnings",
    ]

    rows[6][HEADER.index("thema")] = "jeugdzorg; opvoedingsondersteuning"
    rows[22][HEADER.index("uitvoerder")] = "org-a"
    _csv(sheet, HEADER, rows)
    result = _import(base_site, "projecten", sheet)
    assert result.exit_code == 0, result.output
    assert "40 new, 0 updated" in result.stdout
    assert len(_projects(base_site)) == len(before) + 40

    built = CliRunner().invoke(main, ["build", str(base_site), "--quiet"])
    assert built.exit_code == 0, built.output
    pages = base_site / "build" / "projecten"
    assert (pages / "geimporteerd-project-07-gegenereerd" / "index.html").is_file()
    assert len([p for p in pages.glob("geimporteerd-project-*/index.html")]) == 40
    dossier = (base_site / "build" / "dossiers" / "dossier-een" / "index.html").read_text()
    assert "Geïmporteerd project 40 (gegenereerd)" in dossier


def test_rows_refer_to_each_other_and_to_existing_records(base_site: Path, tmp_path: Path) -> None:
    sheet = _csv(tmp_path / "org.csv", ["naam", "type", "slug"],
                 [["Organisatie C (gegenereerd)", "welzijn", "org-c"]])
    assert _import(base_site, "organisaties", sheet).exit_code == 0
    projects = _csv(tmp_path / "p.csv", ["titel", "samenvatting", "uitvoerder"],
                    [["Bij C (gegenereerd)", "Tekst.", "org-c"]])
    result = _import(base_site, "projecten", projects)
    assert result.exit_code == 0, result.output


def test_headers_may_be_dutch_labels_and_cells_may_use_semicolons(
    base_site: Path, tmp_path: Path
) -> None:
    sheet = _csv(tmp_path / "excel.csv",
                 ["Titel", "SAMENVATTING", "Thema", "Uitvoerder", "Looptijd.Start",
                  "looptijd.Einde", "Partners.Organisatie", "partners.rol", "bijgewerkt"],
                 [["Uit Excel (gegenereerd)", "Met een ; in de tekst.", "jeugdzorg;gezondheid",
                   "org-a", "2009-03", "2010-04", "org-b; org-a", "financier; ", "2012-06-14"]],
                 delimiter=";", bom=True)
    result = _import(base_site, "projecten", sheet)
    assert result.exit_code == 0, result.output
    site = load_site(base_site, BuildOptions(), [])
    data = site.get("projecten", "uit-excel-gegenereerd").data
    assert data["samenvatting"] == "Met een ; in de tekst."
    assert data["thema"] == ["jeugdzorg", "gezondheid"]
    assert data["looptijd"] == {"start": "2009-03", "eind": "2010-04"}
    assert data["partners"] == [{"organisatie": "org-b", "rol": "financier"},
                                {"organisatie": "org-a"}]
    assert data["bijgewerkt"] == "2012-06-14"


def test_an_unknown_column_is_named_with_a_suggestion(base_site: Path, tmp_path: Path) -> None:
    sheet = _csv(tmp_path / "p.csv", ["titel", "samenvating", "uitvoerder"],
                 [["X (gegenereerd)", "Tekst.", "org-a"]])
    result = _import(base_site, "projecten", sheet)
    assert result.exit_code == 1
    assert (f"{sheet}:1:2: error: column 'samenvating' is not a field of projecten; "
            "did you mean 'samenvatting'?") in result.stderr


def test_an_unquoted_separator_in_a_cell_is_named(base_site: Path, tmp_path: Path) -> None:
    sheet = tmp_path / "p.csv"
    sheet.write_text("titel,samenvatting,uitvoerder\nX (gegenereerd),Een, twee,org-a\n")
    result = _import(base_site, "projecten", sheet)
    assert result.exit_code == 1
    assert f"{sheet}:2:4: error: row has 4 cells but the header has 3 columns" in result.stderr


def test_existing_records_are_changed_only_with_update(base_site: Path, tmp_path: Path) -> None:
    record = base_site / "content" / "projecten" / "project-twee.md"
    before = record.read_text()
    sheet = _csv(tmp_path / "p.csv", ["slug", "status", "plaats", "samenvatting"],
                 [["project-twee", "afgerond", "", "Een nieuwe samenvatting."]])

    refused = _import(base_site, "projecten", sheet)
    assert refused.exit_code == 1
    assert "record 'project-twee' exists (content/projecten/project-twee.md); import with " \
           "--update to change it" in refused.stderr
    assert record.read_text() == before

    result = _import(base_site, "projecten", sheet, "--update")
    assert result.exit_code == 0, result.output
    assert "0 new, 1 updated" in result.stdout
    body = record.read_text().split("\n---\n", 1)[1]
    assert body == before.split("\n---\n", 1)[1], "the body is kept as it was"
    data = load_site(base_site, BuildOptions(), []).get("projecten", "project-twee").data
    assert data["status"] == "afgerond"
    assert data["samenvatting"] == "Een nieuwe samenvatting."
    assert data["plaats"] == "Zaandam", "an empty cell leaves a field as it was"


def test_the_open_data_csv_imports_back_into_the_same_records(
    base_site: Path, tmp_path: Path
) -> None:
    assert CliRunner().invoke(main, ["build", str(base_site), "--quiet"]).exit_code == 0
    before = load_site(base_site, BuildOptions(), [])
    exported = tmp_path / "projecten.csv"
    exported.write_bytes((base_site / "build" / "data" / "projecten.csv").read_bytes())

    unchanged = _import(base_site, "projecten", exported, "--update")
    assert unchanged.exit_code == 0, unchanged.output
    assert "0 new, 0 updated, 3 unchanged" in unchanged.stdout

    for record in (base_site / "content" / "projecten").iterdir():
        record.unlink()
    result = _import(base_site, "projecten", exported)
    assert result.exit_code == 0, result.output
    after = load_site(base_site, BuildOptions(), [])
    for old in before.records["projecten"]:
        new = after.get("projecten", old.slug)
        assert new.data == old.data
        assert new.body.strip() == old.body.strip()


@pytest.mark.parametrize("bad", [b"titel\n\xe9\n", b"\xff\xfet\x00i\x00"])
def test_a_file_that_is_not_utf8_is_an_error_not_a_traceback(
    base_site: Path, tmp_path: Path, bad: bytes
) -> None:
    sheet = tmp_path / "latin1.csv"
    sheet.write_bytes(bad)
    result = _import(base_site, "projecten", sheet)
    assert result.exit_code == 1
    assert "save it as UTF-8" in result.stderr
    assert "Traceback" not in result.output
