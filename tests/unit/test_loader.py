"""Load stage: content files become documents, and unreadable files become diagnostics."""

from __future__ import annotations

import os
import unicodedata
from pathlib import Path

import pytest

from dossier.content.documents import (
    MAX_FILE_BYTES,
    collection_files,
    is_ignored,
    load_document,
    load_documents,
    read_text,
    slugify,
    split_front_matter,
)
from dossier.core.diagnostics import Diagnostic, DossierError

RECORD = b"---\ntitel: Tussen In\nplaats: Utrecht\n---\n## Aanleiding\n\nTekst.\n"


def read(tmp_path: Path, data: bytes) -> str:
    file = tmp_path / "x.md"
    file.write_bytes(data)
    return read_text(file, "content/projecten/x.md")


def read_problem(tmp_path: Path, data: bytes) -> Diagnostic:
    with pytest.raises(DossierError) as caught:
        read(tmp_path, data)
    [problem] = caught.value.diagnostics
    return problem


def make_collection(site: Path, files: dict[str, bytes]) -> Path:
    folder = site / "content" / "projecten"
    folder.mkdir(parents=True)
    for name, data in files.items():
        (folder / name).write_bytes(data)
    return folder


def load(site: Path) -> tuple[list[str], list[Diagnostic]]:
    """Slugs of the loaded documents and the problems found."""
    problems: list[Diagnostic] = []
    documents, _ = load_documents(site, ["projecten"], problems)
    return [d.slug for d in documents], problems


# --- reading text -----------------------------------------------------------------------

def test_utf8_bom_is_accepted_and_dropped(tmp_path: Path) -> None:
    assert read(tmp_path, b"\xef\xbb\xbf" + RECORD) == RECORD.decode()


def test_crlf_line_ends_become_lf(tmp_path: Path) -> None:
    assert read(tmp_path, b"---\r\ntitel: x\r\n---\r\nTekst\r\n") == "---\ntitel: x\n---\nTekst\n"


def test_lone_cr_line_ends_become_lf(tmp_path: Path) -> None:
    assert read(tmp_path, b"---\rtitel: x\r---\rTekst") == "---\ntitel: x\n---\nTekst"


def test_non_utf8_byte_is_reported_with_line_and_column(tmp_path: Path) -> None:
    problem = read_problem(tmp_path, b"---\ntitel: Caf\xe9 Tussen In\n---\n")
    assert (problem.path, problem.line, problem.column) == ("content/projecten/x.md", 2, 11)
    assert problem.message == (
        "file is not UTF-8 (byte 0xe9, 'é' in Windows-1252 or Latin-1); save it as UTF-8")


def test_non_utf8_byte_on_first_line(tmp_path: Path) -> None:
    problem = read_problem(tmp_path, b"\xff---\n")
    assert (problem.line, problem.column) == (1, 1)


def test_non_utf8_after_crlf_lines_counts_lines(tmp_path: Path) -> None:
    problem = read_problem(tmp_path, b"---\r\ntitel: x\r\nplaats: \x96\r\n---\r\n")
    assert (problem.line, problem.column) == (3, 9)


def test_nul_byte_is_reported_with_its_line(tmp_path: Path) -> None:
    problem = read_problem(tmp_path, b"---\ntitel: x\n\x00\n---\n")
    assert problem.line == 3
    assert "NUL" in problem.message


def test_file_larger_than_the_limit_is_reported_not_read(tmp_path: Path) -> None:
    file = tmp_path / "groot.md"
    with open(file, "wb") as handle:
        handle.truncate(MAX_FILE_BYTES + 1)  # sparse: costs no disk
    with pytest.raises(DossierError) as caught:
        read_text(file, "content/projecten/groot.md")
    [problem] = caught.value.diagnostics
    assert (problem.path, problem.line) == ("content/projecten/groot.md", 1)
    assert f"at most {MAX_FILE_BYTES:,} bytes" in problem.message


def test_file_at_the_limit_is_read(tmp_path: Path) -> None:
    file = tmp_path / "x.md"
    file.write_bytes(b"a" * MAX_FILE_BYTES)
    assert len(read_text(file, "x.md")) == MAX_FILE_BYTES


# --- front matter -----------------------------------------------------------------------

def test_front_matter_and_body_are_split_with_the_body_line() -> None:
    front, body, body_line = split_front_matter(RECORD.decode(), "x.md")
    assert front == "titel: Tussen In\nplaats: Utrecht"
    assert body == "## Aanleiding\n\nTekst.\n"
    assert body_line == 5


def test_front_matter_may_end_with_three_dots() -> None:
    assert split_front_matter("---\ntitel: x\n...\nTekst", "x.md") == ("titel: x", "Tekst", 4)


def test_missing_front_matter_is_reported() -> None:
    with pytest.raises(DossierError) as caught:
        split_front_matter("titel: x\n", "content/projecten/x.md")
    [problem] = caught.value.diagnostics
    assert (problem.line, problem.column) == (1, 1)
    assert "starts with a line '---'" in problem.message


def test_unclosed_front_matter_is_reported() -> None:
    with pytest.raises(DossierError) as caught:
        split_front_matter("---\ntitel: x\n## Aanleiding\n", "content/projecten/x.md")
    [problem] = caught.value.diagnostics
    assert "front matter is not closed" in problem.message


def test_markdown_record_positions_are_lines_of_the_file(tmp_path: Path) -> None:
    file = tmp_path / "tussen-in.md"
    file.write_bytes(RECORD)
    doc = load_document(file, "content/projecten/tussen-in.md", "projecten")
    assert (doc.collection, doc.slug) == ("projecten", "tussen-in")
    assert doc.tree.data == {"titel": "Tussen In", "plaats": "Utrecht"}
    assert doc.tree.positions[("plaats",)] == (3, 9)
    assert doc.body_line == 5


def test_yaml_error_in_front_matter_has_the_file_line(tmp_path: Path) -> None:
    file = tmp_path / "x.md"
    file.write_bytes(b"---\ntitel: x\nthema: [a\n---\n")
    with pytest.raises(DossierError) as caught:
        load_document(file, "content/projecten/x.md", "projecten")
    [problem] = caught.value.diagnostics
    assert problem.line == 4  # the closing '---' line, where the flow list ends unfinished


def test_yml_record_has_no_body(tmp_path: Path) -> None:
    file = tmp_path / "org-b.yml"
    file.write_bytes(b"naam: Organisatie B\nplaats: Zaandam\n")
    doc = load_document(file, "content/organisaties/org-b.yml", "organisaties")
    assert doc.body == ""
    assert doc.tree.data == {"naam": "Organisatie B", "plaats": "Zaandam"}
    assert doc.tree.positions[("plaats",)] == (2, 9)


def test_yml_record_is_not_split_on_dashes(tmp_path: Path) -> None:
    file = tmp_path / "org-b.yml"
    file.write_bytes(b"naam: Organisatie B\n")
    doc = load_document(file, "content/organisaties/org-b.yml", "organisaties")
    assert doc.tree.positions[("naam",)] == (1, 7)


# --- which files are content ------------------------------------------------------------

@pytest.mark.parametrize(
    "name", [".verborgen.md", "x.md~", ".#x.md", ".DS_Store", "#x#", "x.md.swp", "Thumbs.db"]
)
def test_hidden_backup_and_os_files_are_ignored(name: str) -> None:
    assert is_ignored(name)


@pytest.mark.parametrize("name", ["tussen-in.md", "org-b.yml", "x.yaml"])
def test_record_files_are_not_ignored(name: str) -> None:
    assert not is_ignored(name)


def test_ignored_files_are_not_loaded_even_when_broken(tmp_path: Path) -> None:
    make_collection(tmp_path, {
        "ok.md": RECORD,
        ".verborgen.md": b"kapot: [",
        "ok.md~": b"kapot: [",
        ".#ok.md": b"kapot: [",
        ".DS_Store": b"\x00\x01\xff",
        "#ok.md#": b"kapot: [",
    })
    assert load(tmp_path) == (["ok"], [])


def test_files_are_loaded_in_name_order(tmp_path: Path) -> None:
    make_collection(tmp_path, {"b.md": RECORD, "a.yml": b"titel: a\n", "c.yaml": b"titel: c\n"})
    assert load(tmp_path)[0] == ["a", "b", "c"]


def test_missing_collection_folder_gives_no_documents(tmp_path: Path) -> None:
    assert load(tmp_path) == ([], [])


def test_unreadable_record_is_reported_and_remembered(tmp_path: Path) -> None:
    make_collection(tmp_path, {"kapot.md": b"---\ntitel: [\n---\n", "ok.md": RECORD})
    problems: list[Diagnostic] = []
    documents, unreadable = load_documents(tmp_path, ["projecten"], problems)
    assert [d.slug for d in documents] == ["ok"]
    assert unreadable == {("projecten", "kapot")}
    assert [p.path for p in problems] == ["content/projecten/kapot.md"]


def test_symlink_pointing_outside_content_is_an_error_and_not_read(tmp_path: Path) -> None:
    folder = make_collection(tmp_path, {})
    secret = tmp_path / "geheim.md"
    secret.write_bytes(b"---\ntitel: [kapot\n---\n")  # would be a YAML error if read
    (folder / "lek.md").symlink_to(secret)
    slugs, problems = load(tmp_path)
    assert slugs == []
    [problem] = problems
    assert problem.path == "content/projecten/lek.md"
    assert problem.severity == "error"
    assert "outside the content folder" in problem.message


def test_symlink_inside_content_is_read(tmp_path: Path) -> None:
    folder = make_collection(tmp_path, {"ok.md": RECORD})
    (folder / "alias.md").symlink_to(folder / "ok.md")
    assert load(tmp_path) == (["alias", "ok"], [])


def test_subfolder_is_a_warning(tmp_path: Path) -> None:
    folder = make_collection(tmp_path, {"ok.md": RECORD})
    (folder / "oud").mkdir()
    slugs, [problem] = load(tmp_path)
    assert slugs == ["ok"]
    assert (problem.path, problem.severity) == ("content/projecten/oud", "warning")


def test_invalid_file_name_gets_a_slug_suggestion(tmp_path: Path) -> None:
    make_collection(tmp_path, {"Tussen In.md": RECORD})
    slugs, [problem] = load(tmp_path)
    assert slugs == []
    assert str(problem) == (
        "content/projecten/Tussen In.md:1:1: error: file name must be lowercase letters, "
        "digits and '-'; did you mean 'tussen-in.md'?"
    )


def test_file_name_with_accent_suggests_the_plain_slug(tmp_path: Path) -> None:
    make_collection(tmp_path, {"Fryslân.yml": b"titel: x\n"})
    _, [problem] = load(tmp_path)
    assert problem.suggestion == "'fryslan.yml'"


def test_file_name_without_any_slug_letters_gets_no_suggestion(tmp_path: Path) -> None:
    make_collection(tmp_path, {"___.md": RECORD})
    _, [problem] = load(tmp_path)
    assert problem.suggestion == ""


def test_too_large_record_is_reported_by_load_documents(tmp_path: Path) -> None:
    folder = make_collection(tmp_path, {"ok.md": RECORD})
    with open(folder / "groot.md", "wb") as handle:
        handle.truncate(MAX_FILE_BYTES + 1)
    slugs, [problem] = load(tmp_path)
    assert slugs == ["ok"]
    assert problem.path == "content/projecten/groot.md"


def test_other_file_types_are_skipped_silently(tmp_path: Path) -> None:
    make_collection(tmp_path, {"ok.md": RECORD, "foto.jpg": b"\xff\xd8", "notities.txt": b""})
    assert load(tmp_path) == (["ok"], [])


# --- slugify ----------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("text", "slug"),
    [
        ("Den Haag", "den-haag"),
        ("Fryslân", "fryslan"),
        ("'s-Hertogenbosch", "s-hertogenbosch"),
        ("Café  --  Één!", "cafe-een"),
        ("  --  ", ""),
    ],
)
def test_slugify(text: str, slug: str) -> None:
    assert slugify(text) == slug


# --- hostile and odd files ---------------------------------------------------------------

def test_a_file_that_claims_to_be_small_is_read_only_up_to_the_limit(tmp_path: Path) -> None:
    with pytest.raises(DossierError) as caught:
        read_text(Path("/dev/zero"), "content/projecten/nul.md")  # endless, size 0
    [problem] = caught.value.diagnostics
    assert f"at most {MAX_FILE_BYTES:,} bytes" in problem.message


def test_utf16_with_bom_is_named_as_utf16(tmp_path: Path) -> None:
    for bom_and_text in (b"\xff\xfe" + "---\n".encode("utf-16-le"),
                         b"\xfe\xff" + "---\n".encode("utf-16-be")):
        problem = read_problem(tmp_path, bom_and_text)
        assert problem.message == ("file is saved as UTF-16 (it starts with a UTF-16 byte "
                                   "order mark); save it as UTF-8")


@pytest.mark.parametrize("data", [b"", b"   \n\n", b"\xef\xbb\xbf\r\n"])
@pytest.mark.parametrize("name", ["leeg.md", "leeg.yml"])
def test_an_empty_record_is_an_error(tmp_path: Path, data: bytes, name: str) -> None:
    make_collection(tmp_path, {"ok.md": RECORD, name: data})
    slugs, [problem] = load(tmp_path)
    assert slugs == ["ok"]
    assert str(problem) == (f"content/projecten/{name}:1:1: error: file is empty; fill it in "
                            "or remove it")


def test_mixed_line_ends_give_the_same_document_as_lf(tmp_path: Path) -> None:
    make_collection(tmp_path, {
        "lf.md": b"---\ntitel: x\nplaats: y\n---\n## Aanleiding\n\nTekst.\n",
        "mixed.md": b"---\r\ntitel: x\rplaats: y\n---\r\n## Aanleiding\r\rTekst.\r\n",
    })
    problems: list[Diagnostic] = []
    lf, mixed = load_documents(tmp_path, ["projecten"], problems)[0]
    assert problems == []
    assert (lf.tree.data, lf.body, lf.body_line) == (mixed.tree.data, mixed.body,
                                                     mixed.body_line)
    assert lf.tree.positions == mixed.tree.positions


@pytest.mark.parametrize("name", ["project.MD", "project.Md", "project.YML", "project.markdown"])
def test_a_record_with_an_odd_suffix_is_named_not_silently_skipped(
    tmp_path: Path, name: str
) -> None:
    make_collection(tmp_path, {name: RECORD})
    slugs, [problem] = load(tmp_path)
    assert slugs == []
    assert problem.severity == "warning"
    assert "record files end in .md, .yml or .yaml" in problem.message


def test_a_symlinked_collection_folder_outside_content_is_not_read(tmp_path: Path) -> None:
    elsewhere = tmp_path / "elders"
    elsewhere.mkdir()
    (elsewhere / "geheim.md").write_bytes(RECORD)
    (tmp_path / "content").mkdir()
    (tmp_path / "content" / "projecten").symlink_to(elsewhere, target_is_directory=True)
    slugs, [problem] = load(tmp_path)
    assert slugs == []
    assert str(problem) == ("content/projecten:1:1: error: symbolic link points outside the "
                            "content folder; it is not read")


def test_a_symlinked_collection_folder_inside_content_is_read(tmp_path: Path) -> None:
    make_collection(tmp_path, {"ok.md": RECORD})
    (tmp_path / "content" / "oude-projecten").symlink_to("projecten")
    problems: list[Diagnostic] = []
    documents, _ = load_documents(tmp_path, ["oude-projecten"], problems)
    assert [d.slug for d in documents] == ["ok"]


def test_a_symlinked_subfolder_pointing_outside_is_an_error(tmp_path: Path) -> None:
    folder = make_collection(tmp_path, {"ok.md": RECORD})
    (folder / "archief").symlink_to("/etc", target_is_directory=True)
    slugs, [problem] = load(tmp_path)
    assert slugs == ["ok"]
    assert (problem.path, problem.severity) == ("content/projecten/archief", "error")


def test_a_named_pipe_is_not_opened(tmp_path: Path) -> None:
    folder = make_collection(tmp_path, {"ok.md": RECORD})
    os.mkfifo(folder / "pijp.md")  # opening it would wait for a writer forever
    slugs, [problem] = load(tmp_path)
    assert slugs == ["ok"]
    assert str(problem) == ("content/projecten/pijp.md:1:1: error: not a regular file; "
                            "it is not read")


def test_names_that_differ_only_in_capitals_are_a_duplicate_slug(tmp_path: Path) -> None:
    make_collection(tmp_path, {"project.md": RECORD, "Project.md": RECORD})
    slugs, [problem] = load(tmp_path)
    assert slugs == ["project"]
    assert str(problem) == (
        "content/projecten/Project.md:1:1: error: duplicate slug 'project': "
        "content/projecten/project.md has the same name apart from capitals; "
        "keep one of the two files")


def test_names_that_differ_only_in_unicode_normalisation_are_a_duplicate(
    tmp_path: Path
) -> None:
    nfc, nfd = (unicodedata.normalize(form, "café") for form in ("NFC", "NFD"))
    assert nfc != nfd
    make_collection(tmp_path, {f"{nfc}.md": RECORD, f"{nfd}.md": RECORD})
    slugs, problems = load(tmp_path)
    assert slugs == []
    first, second = sorted(problems, key=lambda p: p.message)
    assert "how its accents are encoded (Unicode NFC or NFD)" in first.message
    assert first.message.startswith("duplicate slug 'cafe'")
    assert second.message == "file name must be lowercase letters, digits and '-'"


def test_a_file_name_that_is_not_utf8_is_reported_and_can_be_printed(tmp_path: Path) -> None:
    folder = make_collection(tmp_path, {})
    (folder / os.fsdecode(b"caf\xe9.md")).write_bytes(RECORD)
    slugs, [problem] = load(tmp_path)
    assert slugs == []
    assert str(problem).encode("utf-8").startswith(b"content/projecten/caf\\udce9.md:1:1: error")


def test_skipped_files_are_not_even_looked_at(tmp_path: Path) -> None:
    folder = make_collection(tmp_path, {"ok.md": RECORD})
    for name in ("notities.txt", "foto.jpg", "x.md.swp", "x.md~"):
        (folder / name).symlink_to("verdwenen")  # a dangling link: opening it would fail
    problems: list[Diagnostic] = []
    assert [rel for _, rel in collection_files(tmp_path / "content", "projecten", problems)] \
        == ["content/projecten/ok.md"]
    assert problems == []
