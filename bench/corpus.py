"""Generate a synthetic dossier site for tests and benchmarks.

Every title says it is generated; nothing here describes a real project. The corpus is
deterministic: the same arguments give the same files.

    python bench/corpus.py OUT --projects 1000
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
            draft: bool) -> str:
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
    per_section = max(20, words // len(SECTIONS))
    for section in SECTIONS:
        lines += [f"## {section}", "", _paragraph(rng, per_section), ""]
    if n_orgs:
        lines.append(f"Zie ook [de uitvoerder](../organisaties/{orgs[0]}.md).")
    return "\n".join(lines) + "\n"


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
             words: int = 500, drafts: int = 0, seed: int = 2012, photos: int = 0) -> Path:
    """Write a complete site with `projects` projects (the last `drafts` are drafts); with
    `photos`, one project in that many is a folder with a generated photo beside it."""
    rng = random.Random(seed)
    n_orgs = organisations if organisations is not None else max(2, projects // 5)
    content = dest / "content"
    if content.exists():
        shutil.rmtree(content)
    for folder in ("projecten", "organisaties", "dossiers", "paginas"):
        (content / folder).mkdir(parents=True)
    shutil.copy(ROOT / "content" / "schema.yml", content / "schema.yml")
    (content / "site.yml").write_text(
        "# Generated test corpus: no real projects.\n"
        f"titel: Gegenereerde databank ({projects} projecten)\n"
        "beschrijving: Een gegenereerde databank voor tests en metingen.\n"
        "taal: nl\nbase_url: https://databank.example.org/gegenereerd/\n"
        "uitgever: org-0000\nper_pagina: 20\n"
        "menu:\n  - {titel: Projecten, pad: projecten/}\n  - {titel: Over, pad: over/}\n",
        encoding="utf-8")
    (content / "paginas" / "over.md").write_text(
        "---\ntitel: Over deze gegenereerde databank\n---\n"
        "Alle records in deze databank zijn gegenereerd voor tests en metingen.\n")
    for i in range(n_orgs):
        (content / "organisaties" / f"org-{i:04d}.md").write_text(organisation(i, rng))
    for i in range(dossiers):
        (content / "dossiers" / f"dossier-{i:02d}.md").write_text(dossier(i, rng))
    for i in range(projects):
        text = project(i, rng, n_orgs, dossiers, words, draft=i >= projects - drafts)
        if photos and i % photos == 0:
            folder = content / "projecten" / f"project-{i:05d}"
            folder.mkdir()
            photo(folder / "foto.jpg", random.Random(seed + i))
            text = text.replace("\n---\n", "\nfoto:\n  bestand: foto.jpg\n  alt: Een "
                                "gegenereerde foto (geen echte foto; gemaakt voor metingen)\n"
                                "---\n", 1).replace("](../", "](../../")
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
    args = parser.parse_args()
    generate(args.dest, args.projects, args.organisations, dossiers=args.dossiers,
             words=args.words, drafts=args.drafts, seed=args.seed, photos=args.photos)


if __name__ == "__main__":
    main()
