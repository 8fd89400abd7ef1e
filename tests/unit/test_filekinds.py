"""What may be published is told by a file's content, not its name (filekinds.py, images.py)."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest
from PIL import Image, ImageCms

from dossier.model.filekinds import KINDS, Refused, sniff
from dossier.model.variants import Header, plan_variants
from dossier.outputs.images import make_variants
from dossier.render.renderer import load_messages


def _zip(path: Path, entries: dict[str, str]) -> Path:
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    return path


def _image(path: Path, fmt: str) -> Path:
    Image.new("RGB", (8, 8), (1, 2, 3)).save(path, fmt)
    return path


@pytest.mark.parametrize(("name", "make", "kind"), [
    ("a.jpg", lambda p: _image(p, "JPEG"), "jpeg"),
    ("a.png", lambda p: _image(p, "PNG"), "png"),
    ("a.gif", lambda p: _image(p, "GIF"), "gif"),
    ("a.webp", lambda p: _image(p, "WEBP"), "webp"),
    ("foto.jpg", lambda p: _image(p, "PNG"), "png"),  # the content decides, not the name
    ("a.pdf", lambda p: p.write_bytes(b"%PDF-1.7\n%%EOF\n"), "pdf"),
    ("a.odt", lambda p: _zip(p, {"mimetype": "application/vnd.oasis.opendocument.text",
                                 "content.xml": "<x/>"}), "odt"),
    ("a.docx", lambda p: _zip(p, {"[Content_Types].xml": "<T/>", "word/document.xml": "<d/>"}),
     "docx"),
    ("a.xlsx", lambda p: _zip(p, {"[Content_Types].xml": "<T/>", "xl/workbook.xml": "<w/>"}),
     "xlsx"),
    ("a.pptx", lambda p: _zip(p, {"[Content_Types].xml": "<T/>",
                                  "ppt/presentation.xml": "<p/>"}), "pptx"),
    ("a.csv", lambda p: p.write_text("jaar;aantal\n2012;31\n"), "csv"),
    ("a.txt", lambda p: p.write_text("Een gegenereerde tekst met één accent.\n"), "txt"),
])
def test_allowed_kinds_are_told_by_content(tmp_path: Path, name: str, make: object,
                                           kind: str) -> None:
    make(tmp_path / name)  # type: ignore[operator]
    assert sniff(tmp_path / name).name == kind


@pytest.mark.parametrize(("data", "why"), [
    (b"<html><body>x</body></html>", "HTML"),
    (b"  <?xml version='1.0'?><svg/>", "SVG"),
    (b"\x7fELF\x02\x01", "a program"),
    (b"#!/bin/sh\nrm -rf /\n", "a script"),
])
def test_what_a_browser_or_computer_would_run_is_refused(tmp_path: Path, data: bytes,
                                                         why: str) -> None:
    (tmp_path / "x.pdf").write_bytes(data)
    with pytest.raises(Refused, match=why):
        sniff(tmp_path / "x.pdf")


def test_every_kind_has_an_interface_text_in_both_languages() -> None:
    for lang in ("nl", "en"):
        messages = load_messages(lang)
        assert [k for k in KINDS if f"kind.{k}" not in messages] == [], lang


def test_a_colour_profile_is_converted_to_srgb_and_not_kept() -> None:
    srgb = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    source = io.BytesIO()
    Image.new("RGB", (600, 400), (200, 30, 30)).save(source, "JPEG", icc_profile=srgb)
    variants = plan_variants(Header(600, 400, False, False), "x/foto", "jpeg")
    for rel, data in make_variants(source.getvalue(), variants).items():
        with Image.open(io.BytesIO(data)) as image:
            assert "icc_profile" not in image.info, rel
            assert image.getpixel((10, 10))[0] > 150, rel  # still red


def test_variants_are_no_wider_than_the_original() -> None:
    small = plan_variants(Header(300, 200, False, False), "x/a", "jpeg")
    assert [(v.width, v.format) for v in small] == [(300, "webp"), (300, "jpeg")]
    wide = plan_variants(Header(4000, 3000, True, False), "x/b", "png")
    assert sorted({v.width for v in wide}) == [480, 960, 1440, 1920]
    assert {v.format for v in wide} == {"webp", "png"}
    assert all(v.height == round(v.width * 3 / 4) for v in wide)


def test_an_animated_gif_keeps_its_frames_and_loses_its_comment(tmp_path: Path) -> None:
    from dossier.model.variants import probe
    from dossier.outputs.images import metadata_blocks

    frames = [Image.new("RGB", (50, 40), (i * 80, 20, 200 - i * 60)) for i in range(3)]
    path = tmp_path / "a.gif"
    frames[0].save(path, "GIF", save_all=True, append_images=frames[1:], duration=200,
                   comment=b"een opmerking")
    assert metadata_blocks(path.read_bytes(), "gif") == ["comment"]
    [variant] = plan_variants(probe(path), "x/a", "gif")
    data = make_variants(path.read_bytes(), (variant,))[variant.rel]
    assert metadata_blocks(data, "gif") == [] and b"een opmerking" not in data
    with Image.open(io.BytesIO(data)) as image:
        assert image.n_frames == 3 and image.info["duration"] == 200
