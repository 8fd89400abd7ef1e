"""Generate a synthetic dossier site for tests and benchmarks.

Every title says it is generated; nothing here describes a real project. The corpus is
deterministic: the same arguments give the same files. Two styles of body:

- `editor` (what `make bench` measures): bodies written the way editors write records:
  `##` sections, **bold** and *emphasis*, bulleted and numbered lists, links to other
  records and to outside sites, now and then a table or a quote, and in one project in 25 a
  photo in the record's folder shown in its text; lengths spread from about 0.5 to 10 KB
  (median about 4 KB);
- `plain`: five sections of plain sentences and one link at the end (the tests' corpus).

    python bench/corpus.py OUT --projects 1000 [--style editor]
"""

from __future__ import annotations

import argparse
import random
import shutil
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

PLACES = [
    ("Amsterdam", "noord-holland"), ("Rotterdam", "zuid-holland"), ("Den Haag", "zuid-holland"),
    ("Utrecht", "utrecht"), ("Eindhoven", "noord-brabant"), ("Groningen", "groningen"),
    ("Tilburg", "noord-brabant"), ("Almere", "flevoland"), ("Breda", "noord-brabant"),
    ("Nijmegen", "gelderland"), ("Arnhem", "gelderland"), ("Zaanstad", "noord-holland"),
    ("Enschede", "overijssel"), ("Zwolle", "overijssel"), ("Leeuwarden", "friesland"),
    ("Maastricht", "limburg"), ("Assen", "drenthe"), ("Middelburg", "zeeland"),
    ("Amersfoort", "utrecht"), ("Dordrecht", "zuid-holland"),
]
THEMA = ["opvoedingsondersteuning", "toegankelijkheid-jeugdvoorzieningen",
         "ouderbetrokkenheid-onderwijs", "jeugdzorg", "vrije-tijd-en-participatie",
         "gezondheid", "veiligheid"]
DOELGROEP = ["ouders", "moeders", "vaders", "kinderen", "jongeren", "professionals",
             "vrijwilligers", "sleutelfiguren", "migrantenorganisaties", "gemeenten"]
LEEFTIJD = ["-9m-0", "0-4", "4-12", "12-18", "18-23"]
HERKOMST = ["marokkaans", "turks", "surinaams", "antilliaans", "somalisch",
            "midden-en-oost-europees", "vluchtelingen", "divers"]
ORG_TYPES = ["migrantenorganisatie", "jeugdvoorziening", "cjg", "welzijn", "gemeente",
             "kennisinstituut", "onderwijs", "fonds", "overig"]
ROLES = ["trekker", "partner", "financier", "onderzoek"]
SECTIONS = ["Aanleiding", "Doel", "Aanpak", "Samenwerking", "Resultaten"]
WORDS = ("ouders gezinnen jongeren wijk school buurt vrijwilligers gemeente hulp opvoeding "  # noqa: SIM905
         "vertrouwen bereik samenwerking organisatie aanpak ervaring gesprek bijeenkomst taal "
         "netwerk huisbezoek begeleiding kennis deskundigheid aandacht kinderen moeders vaders "
         "professionals voorlichting ondersteuning activiteit toegang methode resultaat doel "
         "afspraak contact cursus training rolmodel sleutelfiguur zorg jeugdzorg onderwijs "
         "welzijn gezondheid veiligheid participatie gemeenschap dialoog").split()


def _pick(rng: random.Random, pool: list[str], low: int, high: int) -> list[str]:
    return sorted(rng.sample(pool, rng.randint(low, high)), key=pool.index)


def _sentence(rng: random.Random, n: int) -> str:
    words = [rng.choice(WORDS) for _ in range(n)]
    return " ".join(words).capitalize() + "."


def _paragraph(rng: random.Random, words: int) -> str:
    parts, total = [], 0
    while total < words:
        n = rng.randint(8, 16)
        parts.append(_sentence(rng, n))
        total += n
    return " ".join(parts)


def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def organisation(i: int, rng: random.Random) -> str:
    place, province = rng.choice(PLACES)
    return (f"---\nnaam: {_quote(f'Gegenereerde organisatie {i:04d}')}\n"
            f"type: {rng.choice(ORG_TYPES)}\nplaats: {place}\nprovincie: {province}\n---\n"
            f"{_paragraph(rng, 60)}\n")


def project(i: int, rng: random.Random, n_orgs: int, n_dossiers: int, words: int,
            draft: bool, writer: Writer | None = None, photo: str | None = None) -> str:
    place, province = rng.choice(PLACES)
    orgs = [f"org-{k:04d}" for k in rng.sample(range(n_orgs), min(n_orgs, 4))]
    start_year = rng.randint(2005, 2012)
    start = f"{start_year}-{rng.randint(1, 12):02d}"
    end = f"{start_year + rng.randint(1, 3)}-{rng.randint(1, 12):02d}"
    lines = [
        "---",
        f"titel: {_quote(f'Gegenereerd project {i:05d}: ' + _sentence(rng, 3)[:-1])}",
        f"samenvatting: {_quote(_sentence(rng, 14) + ' ' + _sentence(rng, 12))}",
        f"dossiers: [dossier-{rng.randrange(n_dossiers):02d}]",
        f"thema: [{', '.join(_pick(rng, THEMA, 1, 2))}]",
        f"doelgroep: [{', '.join(_pick(rng, DOELGROEP, 1, 3))}]",
        f"leeftijd: [{', '.join(_quote(x) for x in _pick(rng, LEEFTIJD, 1, 2))}]",
        f"herkomst: [{', '.join(_pick(rng, HERKOMST, 1, 2))}]",
        f"plaats: {place}",
        f"provincie: {province}",
        f"uitvoerder: {orgs[0]}",
        "partners:",
        *(f"  - {{organisatie: {o}, rol: {rng.choice(ROLES)}}}" for o in orgs[1:rng.randint(1, 4)]),
        "programma: Gegenereerd programma " + rng.choice("ABC"),
        f"looptijd: {{start: {_quote(start)}, eind: {_quote(end)}}}",
        f"status: {rng.choice(['lopend', 'afgerond'])}",
        f"bijgewerkt: {rng.randint(2009, 2013)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}",
    ]
    if lines[11] == "partners:" and not lines[12].startswith("  -"):
        lines.pop(11)
    if draft:
        lines.append("concept: true")
    lines.append("---")
    if writer is not None:
        sections = list(SECTIONS)
        if rng.random() < 0.4:
            sections.insert(rng.randrange(1, len(sections) + 1), rng.choice(EXTRA_SECTIONS))
        return "\n".join(lines) + "\n" + writer.body(body_size(rng), photo, sections)
    per_section = max(20, words // len(SECTIONS))
    for section in SECTIONS:
        lines += [f"## {section}", "", _paragraph(rng, per_section), ""]
    if n_orgs:
        lines.append(f"Zie ook [de uitvoerder](../organisaties/{orgs[0]}.md).")
    return "\n".join(lines) + "\n"


STYLES = ("editor", "plain")
# A project has the sections the schema expects (SECTIONS), and now and then one more.
EXTRA_SECTIONS = ["Doelgroep", "Werkwijze", "Ervaringen", "Lessen en aanbevelingen", "Borging",
                  "Meer informatie"]
OUTSIDE = ["https://www.example.nl/projecten/", "https://gemeente.example.org/jeugd/",
           "https://www.example.com/publicaties/", "https://kennisbank.example.net/artikel/"]


class Writer:
    """Markdown as editors write it, for one record: inline emphasis and links among the
    sentences, and blocks (paragraphs, lists, tables, quotes) under `##` sections."""

    def __init__(self, rng: random.Random, n_projects: int, n_orgs: int, n_dossiers: int,
                 up: str, photos: int) -> None:
        self.rng, self.up = rng, up  # up: from the record's file to content/ ("../" or "../../")
        self.n_projects, self.n_orgs, self.n_dossiers = n_projects, n_orgs, n_dossiers
        self.photos = photos  # one project in this many is a folder (index.md and its photo)

    def link(self) -> str:
        rng = self.rng
        kind = rng.random()
        words = " ".join(rng.choice(WORDS) for _ in range(rng.randint(1, 4)))
        if kind < 0.35 and self.n_projects > 1:
            k = rng.randrange(self.n_projects)
            path = f"project-{k:05d}/index.md" if self.photos and k % self.photos == 0 \
                else f"project-{k:05d}.md"
            return f"[{words}]({self.up}projecten/{path})"
        if kind < 0.65 and self.n_orgs:
            return f"[{words}]({self.up}organisaties/org-{rng.randrange(self.n_orgs):04d}.md)"
        if kind < 0.72:
            return f"[{words}]({self.up}dossiers/dossier-{rng.randrange(self.n_dossiers):02d}.md)"
        return f"[{words}]({rng.choice(OUTSIDE)}{rng.randrange(10_000)})"

    def phrase(self) -> str:
        rng = self.rng
        words = " ".join(rng.choice(WORDS) for _ in range(rng.randint(1, 4)))
        kind = rng.random()
        if kind < 0.35:
            return f"**{words}**"
        if kind < 0.75:
            return f"*{words}*"
        return self.link()

    def sentence(self, n: int) -> str:
        words = [self.rng.choice(WORDS) for _ in range(n)]
        if self.rng.random() < 0.3:
            words.insert(self.rng.randrange(1, n), self.phrase())
        return " ".join(words).capitalize() + "."

    def paragraph(self, words: int) -> str:
        parts, total = [], 0
        while total < words:
            n = self.rng.randint(7, 18)
            parts.append(self.sentence(n))
            total += n
        return " ".join(parts)

    def bullets(self) -> str:
        rng = self.rng
        marker = "1." if rng.random() < 0.3 else "-"
        return "\n".join(f"{marker} {self.sentence(rng.randint(3, 12))}"
                         for _ in range(rng.randint(3, 7)))

    def table(self) -> str:
        rng = self.rng
        rows = [f"| {2005 + k} | {rng.randint(5, 400)} | {rng.randint(1, 30)} |"
                for k in range(rng.randint(2, 6))]
        return "\n".join(["| Jaar | Deelnemers | Bijeenkomsten |", "| --- | ---: | ---: |", *rows])

    def quote(self) -> str:
        return "> " + self.sentence(self.rng.randint(10, 22))

    def body(self, size: int, photo: str | None = None, sections: list[str] | None = None) -> str:
        """About `size` characters of blocks under `sections` (by default one or two from
        EXTRA_SECTIONS, or none if short); `photo` is shown in the text."""
        rng = self.rng
        if sections is None:
            sections = rng.sample(EXTRA_SECTIONS, min(2, size // 1000))
        blocks: list[str] = []
        if photo:
            blocks.append(f"![{photo}](foto.jpg)")
        length, s = 0, 0
        while length < size or s < len(sections):
            if s < len(sections) and (length >= size * s / len(sections)):
                blocks.append(f"## {sections[s]}")
                s += 1
            kind = rng.random()
            if kind < 0.62:
                block = self.paragraph(rng.randint(30, 110))
            elif kind < 0.88:
                block = self.bullets()
            elif kind < 0.94:
                block = self.quote()
            else:
                block = self.table()
            blocks.append(block)
            length += len(block)
        return "\n\n".join(blocks) + "\n"


def body_size(rng: random.Random) -> int:
    """A body's length in characters: most about 4 KB, a few short, a few long (0.5–10 KB)."""
    return int(min(10_000, max(500, rng.lognormvariate(8.2, 0.55))))


def dossier(i: int, rng: random.Random) -> str:
    return (f"---\ntitel: {_quote(f'Gegenereerd dossier {i:02d}')}\n"
            f"samenvatting: {_quote(_sentence(rng, 15))}\n---\n## Inleiding\n\n"
            f"{_paragraph(rng, 120)}\n")


def photo(path: Path, rng: random.Random, size: tuple[int, int] = (2000, 1333)) -> None:
    """A generated 'photo' (bands of colour with some noise), as a phone's JPEG would be."""
    from PIL import Image, ImageDraw, ImageFilter

    image = Image.new("RGB", size, tuple(rng.randrange(256) for _ in range(3)))
    draw = ImageDraw.Draw(image)
    for _ in range(40):
        x, y = rng.randrange(size[0]), rng.randrange(size[1])
        draw.ellipse((x, y, x + rng.randint(80, 600), y + rng.randint(80, 600)),
                     fill=tuple(rng.randrange(256) for _ in range(3)))
    noise = Image.effect_noise(size, 40).convert("RGB")
    Image.blend(image.filter(ImageFilter.GaussianBlur(3)), noise, 0.15).save(
        path, "JPEG", quality=88)


def generate(dest: Path, projects: int, organisations: int | None = None, dossiers: int = 5,
             words: int = 500, drafts: int = 0, seed: int = 2012, photos: int = 0,
             style: str = "plain") -> Path:
    """Write a complete site with `projects` projects (the last `drafts` are drafts); with
    `photos`, one project in that many is a folder with a generated photo beside it. The
    `editor` style writes bodies like editors' records (and `words` does not apply); it
    puts a photo in one project in 25 unless `photos` says otherwise."""
    if style not in STYLES:
        raise ValueError(f"style: expected one of {', '.join(STYLES)}, got {style!r}")
    rng = random.Random(seed)
    editor = style == "editor"
    photos = photos or (25 if editor else 0)
    n_orgs = organisations if organisations is not None else max(2, projects // 5)
    content = dest / "content"
    if content.exists():
        shutil.rmtree(content)
    for folder in ("projecten", "organisaties", "dossiers", "paginas"):
        (content / folder).mkdir(parents=True)
    shutil.copy(ROOT / "content" / "schema.yml", content / "schema.yml")
    (content / "site.yml").write_text(
        f"# Generated test corpus ({style} style): no real projects.\n"
        f"titel: Gegenereerde databank ({projects} projecten)\n"
        "beschrijving: Een gegenereerde databank voor tests en metingen.\n"
        "taal: nl\nbase_url: https://databank.example.org/gegenereerd/\n"
        "uitgever: org-0000\nper_pagina: 20\n"
        "menu:\n  - {titel: Projecten, pad: projecten/}\n  - {titel: Over, pad: over/}\n",
        encoding="utf-8")
    (content / "paginas" / "over.md").write_text(
        "---\ntitel: Over deze gegenereerde databank\n---\n"
        "Alle records in deze databank zijn gegenereerd voor tests en metingen.\n")

    def writer(up: str) -> Writer | None:
        return Writer(rng, projects, n_orgs, dossiers, up, photos) if editor else None

    for i in range(n_orgs):
        text = organisation(i, rng)
        if editor:  # a short description, now and then with a section or two
            text = text[:text.index("---\n", 4) + 4] + writer("../").body(
                int(min(2500, max(300, rng.lognormvariate(6.6, 0.5)))))
        (content / "organisaties" / f"org-{i:04d}.md").write_text(text)
    for i in range(dossiers):
        text = dossier(i, rng)
        if editor:
            text = text[:text.index("---\n", 4) + 4] + writer("../").body(
                int(min(8000, max(1500, rng.lognormvariate(8.0, 0.4)))), sections=["Inleiding"])
        (content / "dossiers" / f"dossier-{i:02d}.md").write_text(text)
    for i in range(projects):
        bundle = bool(photos) and i % photos == 0
        alt = "Een gegenereerde foto (geen echte foto; gemaakt voor metingen)"
        text = project(i, rng, n_orgs, dossiers, words, draft=i >= projects - drafts,
                       writer=writer("../../" if bundle else "../"),
                       photo=alt if bundle and editor else None)
        if bundle:
            folder = content / "projecten" / f"project-{i:05d}"
            folder.mkdir()
            # An editor's photo is resized before it is shown; the plain corpus keeps a
            # phone's full size for the image benchmarks.
            photo(folder / "foto.jpg", random.Random(seed + i),
                  (1200, 800) if editor else (2000, 1333))
            text = text.replace("\n---\n", f"\nfoto:\n  bestand: foto.jpg\n  alt: {alt}\n"
                                "---\n", 1)
            if not editor:
                text = text.replace("](../", "](../../")
            (folder / "index.md").write_text(text)
        else:
            (content / "projecten" / f"project-{i:05d}.md").write_text(text)
    return dest


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("dest", type=Path)
    parser.add_argument("--projects", type=int, default=1000)
    parser.add_argument("--organisations", type=int)
    parser.add_argument("--words", type=int, default=500)
    parser.add_argument("--dossiers", type=int, default=5)
    parser.add_argument("--drafts", type=int, default=0)
    parser.add_argument("--seed", type=int, default=2012)
    parser.add_argument("--photos", type=int, default=0, metavar="N",
                        help="give one project in N a generated photo (in a folder of its own)")
    parser.add_argument("--style", choices=STYLES, default="editor",
                        help="bodies as editors write them (default) or plain sentences")
    args = parser.parse_args()
    generate(args.dest, args.projects, args.organisations, dossiers=args.dossiers,
             words=args.words, drafts=args.drafts, seed=args.seed, photos=args.photos,
             style=args.style)


if __name__ == "__main__":
    main()
