"""Attack strings, a site full of them, and an audit of HTML for anything that could run.

Shared by test_attacks.py (parsing every output file) and test_attacks_browser.py (loading
the pages in Chromium).
"""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from pathlib import Path

from helpers import make_site

EVIL = "evil.example"  # a host no request may ever go to

# Raw HTML, attribute breakouts, script-data breakouts, URL schemes, CSS, SVG/MathML and
# mutation tricks. Each is put in every free-text field, in every Markdown text and body.
ATTACKS = [
    "<script>alert(1)</script>",
    "<img src=# onerror=alert(2)>",
    "<svg onload=alert(3)>",
    "<svg><script>alert(4)</script></svg>",
    '"><script>alert(5)</script>',
    "'><img src=# onerror=alert(6)>",
    "</script><script>alert(7)</script>",
    "</title><script>alert(8)</script>",
    "</textarea><script>alert(9)</script>",
    '<iframe src="javascript:alert(10)"></iframe>',
    '<a href="javascript:alert(11)">klik</a>',
    '<a href="JaVaScRiPt:alert(12)">klik</a>',
    '<a href="&#106;avascript:alert(13)">klik</a>',
    '<a href="\tjava\nscript:alert(14)">klik</a>',
    '<a href="data:text/html;base64,PHNjcmlwdD5hbGVydCgxNSk8L3NjcmlwdD4=">klik</a>',
    '<a href="vbscript:msgbox(16)">klik</a>',
    "<body onload=alert(17)>",
    '<div style="background:url(javascript:alert(18))">x</div>',
    '<div style="width: expression(alert(19))">x</div>',
    f"<style>@import 'https://{EVIL}/x.css'; body{{background:url(https://{EVIL}/b)}}</style>",
    f'<link rel="stylesheet" href="https://{EVIL}/x.css">',
    '<object data="javascript:alert(22)"></object>',
    f'<embed src="https://{EVIL}/x.swf">',
    f'<form action="https://{EVIL}/"><button formaction="javascript:alert(24)">v</button></form>',
    "<input autofocus onfocus=alert(25)>",
    "<details open ontoggle=alert(26)><summary>x</summary></details>",
    "<math><mtext><table><mglyph><style><img src=# onerror=alert(27)>",
    '<noscript><p title="</noscript><img src=# onerror=alert(28)>"></noscript>',
    '<meta http-equiv="refresh" content="0;url=javascript:alert(29)">',
    f'<base href="https://{EVIL}/">',
    f'<img src="https://{EVIL}/pixel.gif" srcset="https://{EVIL}/p.gif 2x">',
    '" onmouseover="alert(32)" x="',
    "' onmouseover='alert(33)' x='",
    "<scr<script>ipt>alert(34)</script>",
    "<svg><animate onbegin=alert(35) attributeName=x dur=1s>",
    "<x onclick=alert(36)>klik</x>",
    '<div class="skip-link site-header facts-panel">nep-interface</div>',
    "<!--<script>alert(38)</script>-->",
    "<![CDATA[<script>alert(39)</script>]]>",
    "{{ 7 * 7 }} {% raw %}{{ config }}",
    "\u2028\u2029</script>",
    "&lt;script&gt;alert(42)&lt;/script&gt;",
    # Entities become the characters they stand for in the search index's text, from which
    # Pagefind makes excerpts with <mark> around the words found (its own excerpt is HTML
    # with only < and > escaped); the search page must show them as text.
    "&lt;/mark&gt;&lt;img src=x onerror=alert(43)&gt;&lt;mark&gt;",
    "&amp;lt;img src=x onerror=alert(44)&amp;gt; &#60;img src=x onerror=alert(45)&#62;",
]

# Markdown that must not be accepted in a Markdown text: each is a diagnostic there.
MARKDOWN_ATTACKS = [
    "[klik](javascript:alert(101))",
    "[klik](data:text/html;base64,PHNjcmlwdD4=)",
    f"![pixel](https://{EVIL}/pixel.gif)",
    f"[klik](//{EVIL}/)",
]

EVERYTHING = " ".join(ATTACKS)


def yaml_string(text: str) -> str:
    """A YAML double-quoted scalar (JSON's string syntax is a subset of YAML's); the Unicode
    line breaks YAML would obey are written as escapes."""
    return (json.dumps(text, ensure_ascii=False).replace("\u2028", "\\u2028")
            .replace("\u2029", "\\u2029").replace("\x85", "\\u0085"))


_q = yaml_string


def _labelled(schema: str) -> str:
    """schema.yml with an attack in every label of a field, term and collection."""
    count = iter(range(10_000))
    return re.sub(r"\{nl: ([^,}]+), en: ([^}]+)\}",
                  lambda m: "{nl: " + _q(m[1] + " " + ATTACKS[next(count) % len(ATTACKS)])
                  + ", en: " + m[2] + "}", schema)


def make_hostile_site(dest: Path) -> Path:
    """The base site with every attack in every free-text place: settings, labels, string
    and text fields, bodies; one project per attack, titled with it."""
    site = make_site("_base", dest)
    content = site / "content"
    schema = content / "schema.yml"
    schema.write_text(_labelled(schema.read_text()))
    (content / "site.yml").write_text(
        f"titel: {_q('Databank ' + EVERYTHING)}\n"
        f"beschrijving: {_q(EVERYTHING)}\n"
        "taal: nl\nbase_url: https://databank.example.org/test/\nuitgever: org-a\n"
        "introductie: over\nper_pagina: 10\n"
        f"menu:\n  - {{titel: {_q(ATTACKS[0])}, pad: projecten/}}\n"
        f"  - {{titel: {_q(ATTACKS[5])}, pad: over/}}\n")
    body = "\n\n".join(f"## Kop {attack}\n\n{attack}\n\n- {attack}\n\n> {attack}"
                       for attack in ATTACKS)
    table = "| a | b |\n|:--|--:|\n| " + " | ".join(ATTACKS[:2]) + " |\n"
    for i, attack in enumerate(ATTACKS):
        (content / "projecten" / f"aanval-{i:02d}.md").write_text(
            "---\n"
            f"titel: {_q(attack)}\n"
            f"samenvatting: {_q(attack + ' ' + EVERYTHING)}\n"
            "dossiers: [dossier-een]\nthema: [jeugdzorg]\n"
            f"plaats: {_q(attack)}\nprovincie: utrecht\nuitvoerder: org-a\n"
            f"programma: {_q(attack)}\n"
            f"contact: {{naam: {_q(attack)}, functie: {_q(attack)}, organisatie: org-a}}\n"
            f"bronnen:\n  - {{titel: {_q(attack)}, url: \"https://example.org/'x='{i}\"}}\n"
            "bijgewerkt: 2012-06-14\n---\n"
            + "".join(f"## {s}\n\nTekst.\n\n" for s in
                      ("Aanleiding", "Doel", "Aanpak", "Samenwerking", "Resultaten"))
            + body + "\n\n" + table)
    (content / "organisaties" / "org-aanval.md").write_text(
        f"---\nnaam: {_q(EVERYTHING)}\ntype: welzijn\nplaats: {_q(EVERYTHING)}\n"
        f"website: \"https://example.org/'onmouseover='alert(1)'\"\n---\n{body}\n")
    (content / "dossiers" / "dossier-aanval.md").write_text(
        f"---\ntitel: {_q(EVERYTHING)}\nsamenvatting: {_q(EVERYTHING)}\n"
        "publicaties:\n"
        f"  - {{titel: {_q(EVERYTHING)}, auteurs: {_q(ATTACKS[1])}, uitgever: {_q(ATTACKS[2])},"
        f" isbn: {_q(ATTACKS[3])}}}\n"
        f"links:\n  - {{titel: {_q(ATTACKS[4])}, url: \"https://example.org/\"}}\n"
        f"---\n{body}\n")
    (content / "paginas" / "aanval.md").write_text(f"---\ntitel: {_q(EVERYTHING)}\n---\n{body}\n")
    return site


# --- auditing HTML -----------------------------------------------------------------------

# What the theme itself writes in <head>; content can add nothing there.
_THEME_META = {"charset", "viewport", "description", "Content-Security-Policy",
               "x-dns-prefetch-control", "robots"}
_THEME_LINKS = {"stylesheet", "canonical", "prev", "next", "alternate", "icon"}
# The theme's own search script, and its search forms (header and search page): content
# cannot write these (the sanitiser drops script, form, input and button), so they are the
# only ones allowed.
_THEME_SCRIPT = re.compile(r"^((\.\./)*|/[^:]*/)static/zoeken(\.[0-9a-f]{8})?\.js$")
_THEME_FORMS = {"site-search", "search"}
_FORBIDDEN_TAGS = {"script", "style", "iframe", "object", "embed", "form", "input", "button",
                   "textarea", "svg", "math", "base", "frame", "frameset", "applet", "noscript",
                   "template", "video", "audio", "source", "mglyph", "animate", "x"}
_URL_ATTRS = {"href", "src", "action", "formaction", "data", "poster", "background",
              "xlink:href", "srcset", "ping", "manifest", "codebase", "cite"}


def _scheme(url: str) -> str:
    """The scheme a browser would see: control characters and spaces are dropped."""
    cleaned = re.sub(r"[\x00-\x20]", "", url).lower()
    match = re.match(r"^([a-z][a-z0-9+.-]*):", cleaned)
    return match[1] if match else ""


class Audit(HTMLParser):
    """Collects everything in one HTML page that could run or load something from outside."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.problems: list[str] = []
        self.ld_json: list[str] = []
        self.skip_links = 0
        self._in_ld = False
        self._theme_form = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name: value or "" for name, value in attrs}
        if tag == "script" and list(values.items()) == [("type", "application/ld+json")]:
            self._in_ld = True
            self.ld_json.append("")
            return
        if tag == "script" and set(values) == {"type", "src"} and values["type"] == "module" \
                and _THEME_SCRIPT.match(values["src"]):
            return
        if tag == "form" and values.get("class") in _THEME_FORMS and \
                not _scheme(values.get("action", "")) and values.get("method") == "get":
            self._theme_form += 1
        elif tag in ("input", "button") and self._theme_form:
            pass
        elif tag in _FORBIDDEN_TAGS:
            self.problems.append(f"<{tag}> element")
        if tag == "meta" and not (set(values) & {"charset", "name", "http-equiv"}):
            self.problems.append(f"<meta {values}>")
        if tag == "meta" and (values.get("name") or values.get("http-equiv")
                              or "charset") not in _THEME_META and "charset" not in values:
            self.problems.append(f"<meta {values}>")
        if tag == "link" and values.get("rel") not in _THEME_LINKS:
            self.problems.append(f"<link {values}>")
        if "skip-link" in values.get("class", "").split():
            self.skip_links += 1
        for name, value in values.items():
            if name.startswith("on"):
                self.problems.append(f"<{tag} {name}=...>: an event handler")
            if name == "style":
                self.problems.append(f"<{tag} style=...>")
            if name in _URL_ATTRS:
                for url in (value.split(",") if name == "srcset" else [value]):
                    scheme = _scheme(url.strip().split(" ")[0] if name == "srcset" else url)
                    if scheme not in ("", "http", "https", "mailto", "tel"):
                        self.problems.append(f"<{tag} {name}={value!r}>: {scheme}: URL")
                    if tag in ("img", "link") and (scheme or value.startswith("//")) and \
                            not (tag == "link" and values.get("rel") in ("canonical",
                                                                          "alternate")):
                        self.problems.append(f"<{tag} {name}={value!r}>: loads from outside")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._in_ld = False
        if tag == "form" and self._theme_form:
            self._theme_form -= 1

    def handle_data(self, data: str) -> None:
        if self._in_ld:
            self.ld_json[-1] += data


def audit(html: str) -> Audit:
    """Parse one page; its `problems` list what could run or load from outside."""
    parser = Audit()
    parser.feed(html)
    parser.close()
    if parser.skip_links != 1:
        parser.problems.append(f"{parser.skip_links} skip links (the theme has one)")
    for block in parser.ld_json:
        try:
            json.loads(block)
        except ValueError as exc:
            parser.problems.append(f"JSON-LD is not valid JSON: {exc}")
    return parser
