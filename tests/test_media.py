"""Photos and documents with records (issue 15): bundles, shared folders, images, limits.

Scenario sites under tests/sites/media-*/ hold the diagnostics that need no generated
file; the ones here need a file made by the test (a symbolic link, a file of 26 MB, a
photo with a GPS position).
"""

from __future__ import annotations

import io
import json
import os
import re
import shutil
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from PIL import ExifTags, Image

from dossier.build import BuildOptions, build, load_site
from dossier.cli import main
from dossier.model.variants import image_key
from dossier.outputs import images

Factory = Callable[[str], Path]
GPS = ExifTags.IFD.GPSInfo
SAFE_NAME = re.compile(r"^[a-z0-9-]+/([a-z0-9-]+/)*[a-z0-9]+(-[a-z0-9]+)*\.(webp|jpg|png|gif|pdf)$")


def photo(path: Path, size: tuple[int, int] = (2400, 1600), gps: bool = True,
          orientation: int = 1) -> Path:
    """A generated JPEG, with the EXIF a phone writes: a GPS position and an orientation."""
    image = Image.new("RGB", size, (200, 120, 40))
    for x in range(0, size[0], 100):  # something for the encoder to keep
        image.paste((20, 90, 160), (x, 0, x + 50, size[1] // 2))
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "Gegenereerde camera"
    exif[ExifTags.Base.Orientation] = orientation
    if gps:
        exif[GPS] = {ExifTags.GPS.GPSLatitudeRef: "N", ExifTags.GPS.GPSLatitude: (52.0, 5.0, 30.0),
                     ExifTags.GPS.GPSLongitudeRef: "E", ExifTags.GPS.GPSLongitude: (5.0, 7.0, 9.0)}
    path.parent.mkdir(parents=True, exist_ok=True)
    image.save(path, "JPEG", exif=exif, quality=90)
    return path


def bundle(site: Path, slug: str = "project-vier", fields: str = "", body: str = "") -> Path:
    """A project in a folder of its own (content/projecten/<slug>/index.md)."""
    folder = site / "content" / "projecten" / slug
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "index.md").write_text(
        "---\ntitel: Project vier (gegenereerd)\nsamenvatting: Een gegenereerd project.\n"
        f"dossiers: [dossier-een]\nuitvoerder: org-a\n{fields}---\n"
        f"## Aanleiding\n\n{body}\n\n## Doel\n## Aanpak\n## Samenwerking\n## Resultaten\n")
    return folder


def check(site: Path) -> tuple[int, list[str]]:
    result = CliRunner().invoke(main, ["check", str(site)])
    assert "Traceback" not in result.output
    lines = result.stderr.splitlines()
    return result.exit_code, [ln for ln in lines if not ln.startswith("check ")]


def published(site: Path, folder: str) -> dict[str, bytes]:
    root = site / "build" / folder
    return {p.relative_to(site / "build").as_posix(): p.read_bytes()
            for p in sorted(root.iterdir()) if p.is_file() and p.name != "index.html"
            and p.name != "index.json"}


PHOTO = "foto:\n  bestand: foto.jpg\n  alt: Een gegenereerde foto van gekleurde banen.\n"


# --- scope 1: files beside records, and where they may be --------------------------------

def test_a_symbolic_link_out_of_content_is_an_error_at_the_reference(base_site: Path,
                                                                     tmp_path: Path) -> None:
    secret = tmp_path / "geheim.pdf"
    secret.write_bytes(b"%PDF-1.4\n% a file outside the site\n")
    folder = bundle(base_site, fields="documenten:\n  - {bestand: rapport.pdf, titel: Rapport}\n",
                    body="Zie [het rapport](rapport.pdf).")
    (folder / "rapport.pdf").symlink_to(secret)
    code, lines = check(base_site)
    assert code == 1
    message = "'rapport.pdf' is a symbolic link that points outside the content folder; " \
              "it is not read"
    assert lines == [
        f"content/projecten/project-vier/index.md:7:15: error: documenten.bestand: {message}",
        f"content/projecten/project-vier/index.md:11:19: error: body: {message}",
    ]


def test_what_a_reference_leads_to_through_folders_and_links_is_what_is_judged(
        base_site: Path, tmp_path: Path) -> None:
    """Each folder on a reference's way is looked at: a link to a file inside content is
    published like the file, a folder that is a link out of content is refused, and a
    folder, a link that leads nowhere and a file that is missing each get their own error."""
    outside = tmp_path / "buiten"
    outside.mkdir()
    (outside / "geheim.pdf").write_bytes(b"%PDF-1.4\n% outside the site\n")
    folder = bundle(base_site, fields="documenten:\n"
                    "  - {bestand: alias.pdf, titel: Alias}\n"
                    "  - {bestand: uit/geheim.pdf, titel: Uit}\n"
                    "  - {bestand: bijlagen, titel: Map}\n"
                    "  - {bestand: weg.pdf, titel: Weg}\n"
                    "  - {bestand: bijlagen/nergens.pdf, titel: Nergens}\n")
    (folder / "bijlagen").mkdir()
    (folder / "bijlagen" / "echt.pdf").write_bytes(b"%PDF-1.4\n% inside the site\n")
    (folder / "alias.pdf").symlink_to("bijlagen/echt.pdf")
    (folder / "uit").symlink_to(outside, target_is_directory=True)
    (folder / "weg.pdf").symlink_to("verdwenen.pdf")
    code, lines = check(base_site)
    assert code == 1
    where = "content/projecten/project-vier/index.md"
    assert lines == [
        f"{where}:8:15: error: documenten.bestand: 'uit/geheim.pdf' is a symbolic link that "
        "points outside the content folder; it is not read",
        f"{where}:9:15: error: documenten.bestand: 'bijlagen' is a folder, not a file",
        f"{where}:10:15: error: documenten.bestand: 'weg.pdf' is not a regular file; it is "
        "not read",
        f"{where}:11:15: error: documenten.bestand: 'bijlagen/nergens.pdf' does not exist "
        "(content/projecten/project-vier/bijlagen/nergens.pdf)",
    ]


def test_a_document_over_25_mb_is_an_error(base_site: Path) -> None:
    folder = bundle(base_site, fields="documenten:\n  - {bestand: groot.pdf, titel: Groot}\n")
    with open(folder / "groot.pdf", "wb") as handle:
        handle.write(b"%PDF-1.4\n")
        handle.truncate(26_000_000)  # sparse: costs no disk
    assert check(base_site) == (1, [
        "content/projecten/project-vier/index.md:7:15: error: documenten.bestand: 'groot.pdf' "
        "has 26.0 MB; a file may have at most 25.0 MB"])


def test_an_image_over_5_mb_is_a_warning(base_site: Path) -> None:
    folder = bundle(base_site, fields=PHOTO.replace("foto.jpg", "groot.png"))
    noise = Image.frombytes("RGB", (1600, 1200), os.urandom(1600 * 1200 * 3))
    noise.save(folder / "groot.png", compress_level=0)
    code, lines = check(base_site)
    assert code == 0
    assert lines == [
        "content/projecten/project-vier/index.md:7:12: warning: foto.bestand: 'groot.png' has "
        "5.8 MB; it is published resized, but an original this big slows every build down: "
        "save it at most 1920 pixels wide"]


def test_files_in_a_shared_folder_work_as_a_new_user_first_tries(base_site: Path) -> None:
    """The issue's first attempt: a PNG and a PDF in content/bestanden/, linked from a body."""
    shared = base_site / "content" / "bestanden"
    photo(shared / "foto.jpg")
    (shared / "rapport.pdf").write_bytes(b"%PDF-1.4\n% generated\n%%EOF\n")
    project = base_site / "content" / "projecten" / "project-een.md"
    project.write_text(project.read_text().replace(
        "## Doel\n", "![Foto van een bijeenkomst](../bestanden/foto.jpg) en "
        "[Het rapport (pdf)](../bestanden/rapport.pdf)\n\n## Doel\n"))
    build(base_site)
    page = (base_site / "build" / "projecten" / "project-een" / "index.html").read_text()
    files = published(base_site, "bestanden")
    assert sorted(files) == sorted([
        *(f"bestanden/foto-{image_key(_digest(shared / 'foto.jpg'))[:8]}-{w}.{ext}"
          for ext in ("jpg", "webp") for w in (480, 960, 1440, 1920)),
        f"bestanden/rapport-{_digest(shared / 'rapport.pdf')[:8]}.pdf"])
    assert '<a href="../../bestanden/rapport-' in page
    assert '<picture><source type="image/webp"' in page and 'alt="Foto van een bijeenkomst"' in page


def _digest(path: Path) -> str:
    import hashlib
    return hashlib.blake2b(path.read_bytes(), digest_size=16).hexdigest()


def test_a_bundle_publishes_its_files_beside_its_page_and_they_move_with_it(
        base_site: Path) -> None:
    folder = bundle(base_site, fields=PHOTO + "documenten:\n  - {bestand: rapport.pdf, "
                    "titel: Het eindrapport}\n")
    photo(folder / "foto.jpg")
    (folder / "rapport.pdf").write_bytes(b"%PDF-1.4\n% generated\n%%EOF\n")
    build(base_site)
    before = published(base_site, "projecten/project-vier")
    assert len(before) == 9 and all(SAFE_NAME.match(rel) for rel in before), sorted(before)
    folder.rename(folder.with_name("project-vijf"))
    build(base_site)
    assert not (base_site / "build" / "projecten" / "project-vier").exists()
    after = published(base_site, "projecten/project-vijf")
    assert sorted(after) == sorted(r.replace("project-vier", "project-vijf") for r in before)
    assert list(after.values()) == list(before.values())


# --- scope 3: images done properly --------------------------------------------------------

def test_no_published_variant_of_a_photo_keeps_its_gps_position(base_site: Path) -> None:
    folder = bundle(base_site, fields=PHOTO)
    original = photo(folder / "foto.jpg")
    with Image.open(original) as image:
        assert image.getexif().get_ifd(GPS), "the test photo must have a GPS position"
    build(base_site)
    variants = published(base_site, "projecten/project-vier")
    assert {rel.rsplit(".", 1)[1] for rel in variants} == {"webp", "jpg"} and len(variants) == 8
    for rel, data in variants.items():
        with Image.open(io.BytesIO(data)) as image:
            assert not image.getexif(), rel
            assert not image.getexif().get_ifd(GPS), rel
            assert "exif" not in image.info and "xmp" not in image.info, rel
        assert b"Exif\x00\x00" not in data and b"Gegenereerde camera" not in data, rel
        assert images.metadata_blocks(data, "webp" if rel.endswith("webp") else "jpeg") == []


def test_a_photo_is_turned_upright_and_its_size_is_on_the_img(base_site: Path) -> None:
    folder = bundle(base_site, fields=PHOTO)
    photo(folder / "foto.jpg", size=(1200, 800), orientation=6)  # taken holding the phone up
    build(base_site)
    page = (base_site / "build" / "projecten" / "project-vier" / "index.html").read_text()
    img = re.search(r"<img [^>]*>", page.split('class="record-image"')[1])
    assert img is not None
    assert 'width="800" height="1200"' in img[0] and "loading=" not in img[0]  # first screen
    largest = next(d for r, d in published(base_site, "projecten/project-vier").items()
                   if r.endswith("-800.jpg"))
    with Image.open(io.BytesIO(largest)) as image:
        assert image.size == (800, 1200)


def test_images_in_markdown_get_variants_size_and_lazy_loading(base_site: Path) -> None:
    folder = bundle(base_site, body="![Een gegenereerde tekening](tekening.png) en "
                    "![](rand.png){: decoratief}")
    Image.new("RGBA", (600, 300), (10, 120, 60, 128)).save(folder / "tekening.png")
    Image.new("RGB", (300, 20), (10, 10, 10)).save(folder / "rand.png")
    build(base_site)
    page = (base_site / "build" / "projecten" / "project-vier" / "index.html").read_text()
    pictures = re.findall(r"<picture>.*?</picture>", page)
    assert len(pictures) == 2
    assert 'alt="Een gegenereerde tekening"' in pictures[0] and 'alt=""' in pictures[1]
    assert all('loading="lazy"' in p and "width=" in p and "height=" in p for p in pictures)
    assert '-480.png 480w' in pictures[0] and '-600.png 600w' in pictures[0]  # with alpha: PNG


SPECIAL_BLOCKS = {  # a block whose meaning depends on another, and the image it shows
    "plain": ("", []),
    "indented": ("- Een punt\n\n    ![Ingesprongen tekening](twee.png)", ["Ingesprongen tekening"]),
    "footnote": ("Zie de noot.[^1]\n\n[^1]: Een voetnoot met ![Noottekening](twee.png).",
                 ["Noottekening"]),
    "reference": ("![Een kaart][kaart]\n\n[kaart]: twee.png", ["Een kaart"]),
}


@pytest.mark.parametrize("special", SPECIAL_BLOCKS)
def test_images_in_a_long_body_are_found_in_every_kind_of_block(base_site: Path,
                                                                 special: str) -> None:
    """Only the blocks that name a file are read for its links (a long body is not
    converted whole while planning), so each kind of block must still give its image, and
    a problem its place in the file."""
    text = "Een **gegenereerde** zin met [een link](https://example.org/). " * 20
    block, alts = SPECIAL_BLOCKS[special]
    body = (f"{text}\n\n![Eerste tekening](een.png)\n\n{block}\n\n"
            f"> ![Geciteerde tekening](drie.png)\n\n{text}\n\n"
            "| kop | beeld |\n| --- | --- |\n| cel | ![In een tabel](vier.png) |\n\n"
            "`![geen beeld](code.png)` en ![](zonder-alt.png)")
    folder = bundle(base_site, body=body)
    for name in ("een", "twee", "drie", "vier", "zonder-alt"):
        Image.new("RGB", (300, 200), (10, 120, 60)).save(folder / f"{name}.png")
    code, lines = check(base_site)
    index = (folder / "index.md").read_text()
    row = next(n for n, ln in enumerate(index.splitlines(), 1) if "zonder-alt.png" in ln)
    assert code == 1
    assert [ln.split(": error: ")[0] for ln in lines if "no alternative text" in ln] == [
        f"content/projecten/project-vier/index.md:{row}:"
        f"{index.splitlines()[row - 1].index('zonder-alt.png') + 1}"]
    (folder / "index.md").write_text(index.replace("![](zonder", "![Laatste](zonder"))
    build(base_site)
    page = (base_site / "build" / "projecten" / "project-vier" / "index.html").read_text()
    shown = re.findall(r'<picture>.*?alt="([^"]*)".*?</picture>', page)
    assert sorted(shown) == sorted(["Eerste tekening", "Geciteerde tekening", "In een tabel",
                                    "Laatste", *alts])
    assert "code.png" not in str(published(base_site, "projecten/project-vier"))


def test_a_second_build_takes_images_from_the_cache_and_rewrites_nothing(
        base_site: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = bundle(base_site, fields=PHOTO)
    photo(folder / "foto.jpg", size=(1000, 700))
    build(base_site, BuildOptions(jobs=1))
    first = {p: p.stat().st_mtime_ns for p in (base_site / "build").rglob("*.webp")}
    shutil.rmtree(base_site / "build")

    def never(*args: object) -> object:
        raise AssertionError("an image was made again")

    monkeypatch.setattr("dossier.outputs.publish.make_variants", never)
    build(base_site, BuildOptions(jobs=1))  # a fresh output folder: from the cache
    build(base_site, BuildOptions(jobs=1))
    assert sorted(p.name for p in first) == sorted(
        p.name for p in (base_site / "build").rglob("*.webp"))


def test_a_build_reads_only_the_records_and_files_that_changed_since_the_last(
        base_site: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Which files a record names, and what those files are, is kept in the build cache:
    a build after an edit looks again only at the edited record, and at a file whose
    stat changed."""
    import dossier.model.media as media

    folder = bundle(base_site, fields=PHOTO, body="![Een tweede foto](foto.jpg)")
    photo(folder / "foto.jpg", size=(1000, 700))
    build(base_site, BuildOptions(jobs=1))
    looked_at: list[str] = []
    probed: list[str] = []
    references, probe = media.references, media.probe

    def counting_references(record: Any, markdown: Any) -> Any:
        looked_at.append(record.path)
        return references(record, markdown)

    def counting_probe(file: Path) -> Any:
        probed.append(file.name)
        return probe(file)

    monkeypatch.setattr(media, "references", counting_references)
    monkeypatch.setattr(media, "probe", counting_probe)
    edited = base_site / "content" / "projecten" / "project-een.md"
    edited.write_text(edited.read_text().replace("## Aanpak", "## Aanpak\n\nBewerkt.", 1))
    build(base_site, BuildOptions(jobs=1))
    assert (looked_at, probed) == (["content/projecten/project-een.md"], [])

    looked_at.clear()
    photo(folder / "foto.jpg", size=(1000, 600))  # the same name, other pixels
    build(base_site, BuildOptions(jobs=1))
    assert (looked_at, probed) == ([], ["foto.jpg"])
    page = (base_site / "build" / "projecten" / "project-vier" / "index.html").read_text()
    assert page.count('width="1000" height="600"') == 2
    assert 'height="700"' not in page


def test_a_damaged_media_row_in_the_cache_is_read_again(base_site: Path) -> None:
    folder = bundle(base_site, fields=PHOTO, body="![Een tweede foto](foto.jpg)")
    photo(folder / "foto.jpg", size=(1000, 700))
    build(base_site, BuildOptions(jobs=1))
    before = (base_site / "build" / "projecten" / "project-vier" / "index.html").read_bytes()
    cache = sqlite3.connect(next((base_site / ".dossier-cache").glob("cache-*.sqlite")))
    with cache:
        rows = dict(cache.execute("SELECT key, value FROM media"))
        assert "f:content/projecten/project-vier/foto.jpg" in rows
        damaged = {"f:content/projecten/project-vier/foto.jpg": '["jpeg", 1, "x", [5000]]',
                   "r:content/projecten/project-vier/index.md": '[["body", 7]]'}
        for key, value in damaged.items():
            cache.execute("UPDATE media SET value = ? WHERE key = ?", (value, key))
    cache.close()
    shutil.rmtree(base_site / "build")
    build(base_site, BuildOptions(jobs=1))
    after = (base_site / "build" / "projecten" / "project-vier" / "index.html").read_bytes()
    assert after == before


def test_a_planted_cache_file_is_not_published(base_site: Path, tmp_path: Path) -> None:
    folder = bundle(base_site, fields=PHOTO)
    photo(folder / "foto.jpg", size=(1000, 700))
    build(base_site, BuildOptions(jobs=1))
    cached = next((base_site / ".dossier-cache" / "images").rglob("480.jpeg"))
    photo(tmp_path / "planted.jpg", size=(480, 336))  # right size, but with GPS
    cached.write_bytes((tmp_path / "planted.jpg").read_bytes())
    shutil.rmtree(base_site / "build")
    build(base_site, BuildOptions(jobs=1))
    for rel, data in published(base_site, "projecten/project-vier").items():
        assert b"Exif\x00\x00" not in data, rel


def test_an_image_changed_gets_new_names_and_pages_that_show_it(base_site: Path) -> None:
    folder = bundle(base_site, fields=PHOTO)
    photo(folder / "foto.jpg", size=(1000, 700))
    build(base_site)
    photo(folder / "foto.jpg", size=(1000, 600))
    build(base_site)
    page = (base_site / "build" / "projecten" / "project-vier" / "index.html").read_text()
    assert 'width="1000" height="600"' in page
    names = [re.sub(r"-\d+\.\w+$", "", r) for r in published(base_site, "projecten/project-vier")]
    assert len(set(names)) == 1, "the old variants are gone"
    listing = (base_site / "build" / "organisaties" / "org-a" / "index.html").read_text()
    assert names[0].rsplit("/", 1)[1] in listing, "the card shows the new image"


# --- scope 2 and 5: schema, pages, exports, search -------------------------------------------

@pytest.fixture
def documented(base_site: Path) -> Path:
    folder = bundle(base_site, fields=PHOTO + "documenten:\n  - {bestand: rapport.pdf, "
                    "titel: Het eindrapport}\n  - {bestand: cijfers.csv, titel: De cijfers}\n")
    photo(folder / "foto.jpg", size=(1000, 700))
    (folder / "rapport.pdf").write_bytes(b"%PDF-1.4\n" + b"%" * 1_234_000 + b"\n%%EOF\n")
    (folder / "cijfers.csv").write_text("jaar;aantal\n2012;31\n")
    return base_site


def test_documents_are_listed_with_title_kind_and_size(documented: Path) -> None:
    build(documented)
    page = (documented / "build" / "projecten" / "project-vier" / "index.html").read_text()
    items = re.findall(r'<li><a href="([^"]+)">([^<]+)</a> <span class="document-meta">'
                       r'\(([^)]+)\)</span></li>', page)
    assert [(title, meta) for _, title, meta in items] == [
        ("Het eindrapport", "PDF, 1,2 MB"), ("De cijfers", "CSV, 20 bytes")]
    target = documented / "build" / "projecten" / "project-vier" / items[0][0].rsplit("/", 1)[1]
    assert target.read_bytes() == (documented / "content" / "projecten" / "project-vier" /
                                   "rapport.pdf").read_bytes()


def test_exports_json_ld_and_og_image_give_the_image_as_an_address(documented: Path) -> None:
    build(documented)
    out = documented / "build" / "projecten" / "project-vier"
    record = json.loads((out / "index.json").read_text())
    base = "https://databank.example.org/test/projecten/project-vier/"
    assert record["foto"] == {"url": f"{base}{_link(out)}", "alt": "Een gegenereerde foto van "
                              "gekleurde banen."}
    assert record["documenten"][0]["url"].startswith(f"{base}rapport-")
    assert record["documenten"][0]["mediatype"] == "application/pdf"
    page = (out / "index.html").read_text()
    assert f'<meta property="og:image" content="{base}{_link(out)}">' in page
    assert f'"image": "{base}{_link(out)}"' in page
    header = (documented / "build" / "data" / "projecten.csv").read_text("utf-8-sig")
    assert "foto.url,foto.alt,documenten.url,documenten.titel" in header.split("\n")[0]


def _link(out: Path) -> str:
    return max((p.name for p in out.glob("foto-*.jpg")), key=lambda n: int(n.split("-")[-1][:-4]))


def test_document_titles_are_searchable_and_files_are_not_indexed(documented: Path) -> None:
    from dossier.search.entries import entries

    site = load_site(documented, BuildOptions(), [])
    found = {e.url: e for e in entries(site, lambda r: "")}
    assert "Het eindrapport" in found["projecten/project-vier/"].content
    assert all(url.endswith("/") for url in found), "only pages are results"


def test_the_printable_dossier_shows_images_and_full_document_addresses(
        documented: Path) -> None:
    build(documented)
    page = (documented / "build" / "dossiers" / "dossier-een" / "afdrukken" /
            "index.html").read_text()
    article = page.split('id="project-project-vier"')[1].split("</article>")[0]
    assert "<picture>" in article and 'loading="lazy"' not in article
    assert re.search(r'document-address">https://databank\.example\.org/test/projecten/'
                     r'project-vier/rapport-[0-9a-f]{8}\.pdf<', article)


def test_dossier_new_writes_a_bundle_with_the_image_fields(base_site: Path) -> None:
    result = CliRunner().invoke(main, ["new", "projecten", "met-foto", "--bundel",
                                       "--site", str(base_site)])
    assert result.exit_code == 0, result.output
    text = (base_site / "content" / "projecten" / "met-foto" / "index.md").read_text()
    assert "# foto:" in text and "#   bestand:" in text and "#   alt:" in text
    assert "#   - bestand:" in text and "#     titel:" in text  # documenten, a list
    assert "$schema=../../../.schemas/projecten.json" in text
