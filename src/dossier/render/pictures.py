"""Images and documents in pages: the helpers templates call, and images in Markdown.

`image(record, value, sizes=…)` gives a `<picture>`: WebP variants for browsers that
have it, the fallback variants in the `<img>`, `width` and `height` (so nothing shifts
while it loads) and lazy loading unless the image is on the first screen. Images written in
Markdown get the same element: their converted `<img>` is replaced after sanitising, by
this trusted code, so the sanitiser never has to let `<picture>` or `srcset` through.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from markupsafe import Markup, escape

from dossier.content.records import Record
from dossier.content.schema import FILE_TITLE
from dossier.model.media import Media, MediaFile
from dossier.model.variants import Variant
from dossier.render.parts import ROOT

BODY_SIZES = "(max-width: 48rem) calc(100vw - 2rem), 45rem"  # images in Markdown text
DEFAULT_WIDTH = 960  # the fallback `src` for browsers without srcset: the variant up to this
_IMG = re.compile(r'<img\b([^>]*?)\s*/?>')
_ATTR = re.compile(r'\s([a-z-]+)="([^"]*)"')

Url = Callable[[str], str]


@dataclass(frozen=True)
class DocumentLink:
    """A document as a page lists it: where it is, its title, kind and size."""

    url: str
    address: str  # the absolute URL with base_url, else the path from the site root
    title: str
    kind: str  # in words: 'PDF', 'Word' (the interface text kind.<name>)
    size: str  # '1,2 MB'


def picture(media_file: MediaFile, url: Url, alt: str, sizes: str, lazy: bool = True,
            extra: str = "") -> Markup:
    """The element that shows an image; `alt` is text (escaped here), '' if decorative."""
    webp = [v for v in media_file.variants if v.format == "webp"]
    fallback = [v for v in media_file.variants if v.format != "webp"]
    default = max((v for v in fallback if v.width <= DEFAULT_WIDTH), default=fallback[0],
                  key=lambda v: v.width)
    largest = fallback[-1]
    attrs = [f'src="{escape(url(default.rel))}"']
    if len(fallback) > 1:
        attrs += [f'srcset="{_srcset(fallback, url)}"', f'sizes="{escape(sizes)}"']
    attrs += [f'width="{largest.width}"', f'height="{largest.height}"', f'alt="{escape(alt)}"']
    if lazy:
        attrs.append('loading="lazy"')
    attrs.append('decoding="async"')
    img = Markup(f"<img {' '.join(attrs)}{extra}>")
    if not webp:
        return img
    return Markup(f'<picture><source type="image/webp" srcset="{_srcset(webp, url)}" '
                  f'sizes="{escape(sizes)}">{img}</picture>')


def _srcset(variants: list[Variant], url: Url) -> Markup:
    return Markup(", ").join(Markup(f"{escape(url(v.rel))} {v.width}w") for v in variants)


def expand_images(html: str, media: Media, url: Url) -> str:
    """Markdown's `<img src="…">` of a published image (a link from the site root) → the
    full element, with variants, size and lazy loading."""
    if "<img" not in html:
        return html

    def expand(match: re.Match[str]) -> str:
        attrs = dict(_ATTR.findall(" " + match[1]))
        src = attrs.get("src", "")
        found = media.by_rel.get(src[len(ROOT):]) if src.startswith(ROOT) else None
        if found is None or not found.image:
            return match[0]
        title = f' title="{attrs["title"]}"' if "title" in attrs else ""
        # The alt and title come from sanitised HTML: already escaped, so marked safe.
        return str(picture(found, url, Markup(attrs.get("alt", "")), BODY_SIZES, True, title))

    return _IMG.sub(expand, html)


def media_helpers(media: Media, url: Url, site_url: Url, lang: str,
                  translate: Callable[[str], str]) -> dict[str, Any]:
    """The helpers templates get: `image`, `document`, `og_image` and `record_image`."""
    helpers = _Helpers(media, url, site_url, lang, translate)
    return {"image": helpers.image, "document": helpers.document, "og_image": helpers.og_image,
            "record_image": first_image}


class _Helpers:
    def __init__(self, media: Media, url: Url, site_url: Url, lang: str,
                 translate: Callable[[str], str]) -> None:
        self.media, self.url, self.site_url, self.lang = media, url, site_url, lang
        self.translate = translate

    def image(self, record: Record, value: Mapping[str, Any], sizes: str = "100vw",
              lazy: bool = True) -> Markup:
        """An image field's picture ('' if the file is not published)."""
        found = self._file(record, value)
        if found is None or not found.image:
            return Markup("")
        alt = "" if value.get("decoratief") is True else str(value.get("alt", ""))
        return picture(found, self.url, alt, sizes, lazy)

    def document(self, record: Record, value: Mapping[str, Any]) -> DocumentLink | None:
        """A file field's document as a page lists it (None if it is not published)."""
        found = self._file(record, value)
        if found is None:
            return None
        return DocumentLink(self.url(found.rel), self.site_url(found.rel) or found.rel,
                        str(value.get(FILE_TITLE, "")), self.translate(f"kind.{found.kind.name}"),
                        file_size(found.size, self.lang))

    def og_image(self, record: Record) -> dict[str, Any] | None:
        """The record's image (the field with the role `image`) for link previews
        (og:image needs an absolute URL)."""
        value = first_image(record)
        if value is None:
            return None
        found = self._file(record, value)
        absolute = self.site_url(found.rel) if found is not None else ""
        if found is None or not absolute or not found.image:
            return None
        variant = next(v for v in found.variants if v.rel == found.rel)
        return {"url": absolute, "width": variant.width, "height": variant.height,
                "alt": "" if value.get("decoratief") is True else value.get("alt", "")}

    def _file(self, record: Record, value: Any) -> MediaFile | None:
        if not isinstance(value, Mapping) or not isinstance(value.get("bestand"), str):
            return None
        return self.media.find(record.path, value["bestand"])


def first_image(record: Record) -> Mapping[str, Any] | None:
    """The value of the record's image: the field with the role `image` (its first item,
    if it is a list), or None."""
    value = record.role_value("image")
    if isinstance(value, list):
        value = value[0] if value else None
    return value if isinstance(value, Mapping) else None


def file_size(size: int, lang: str) -> str:
    """'1,2 MB', '340 kB' (decimal units; a comma in Dutch)."""
    if size < 1000:
        text = f"{size} bytes"
    elif size < 1_000_000:
        text = f"{round(size / 1000)} kB"
    else:
        text = f"{size / 1_000_000:.1f} MB"
    return text.replace(".", ",") if lang == "nl" else text
