"""Make the example's image and document again: a diagram and a one-page factsheet.

Both were made for the example dossier, from the findings of June 2012 as CONTENT-MODEL.md
records them (the success factors bereik, kwaliteit and samenwerking), and each says so.
They are written into the bundle of the project that describes those findings:

    .venv/bin/python docs/voorbeeldbestanden.py

Needs Pillow (a dependency of dossier). The PDF is written by hand, in plain PDF syntax
with the standard Helvetica font, so its text can be selected and read aloud.
"""

from __future__ import annotations

from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

ROOT = Path(__file__).resolve().parent.parent
BUNDLE = ROOT / "content" / "projecten" / "opbrengsten-lokale-initiatieven"
NOTE = "Gemaakt voor het voorbeeld van dossier, naar de bevindingen van juni 2012."
FACTORS = [
    ("Bereik", ["naar mensen toe gaan", "een integrale aanpak, geen spreekuren",
                "vertrouwen winnen", "rolmodellen en positieve aandacht",
                "de taal van de doelgroep spreken"]),
    ("Kwaliteit", ["professionals leren van de werkwijzen van migrantenorganisaties",
                   "duo-coaching", "methoden beschrijven"]),
    ("Samenwerking", ["heldere, geformaliseerde afspraken", "een vaste contactpersoon",
                      "doorverwijzen naar bekende mensen", "steun op leidinggevend niveau"]),
]
COLOURS = ["#0b5394", "#2f7d32", "#8a4b08"]


def diagram(path: Path) -> None:
    """Three columns, one per success factor, with what belongs to it."""
    width, height = 1600, 900
    image = Image.new("RGB", (width, height), "#ffffff")
    draw = ImageDraw.Draw(image)
    title = ImageFont.load_default(size=52)
    heading = ImageFont.load_default(size=44)
    text = ImageFont.load_default(size=28)
    small = ImageFont.load_default(size=26)
    draw.text((80, 60), "Succesfactoren: bereik, kwaliteit en samenwerking", "#1b1b1b", title)
    column = (width - 2 * 80 - 2 * 40) // 3
    for i, ((name, points), colour) in enumerate(zip(FACTORS, COLOURS, strict=True)):
        left = 80 + i * (column + 40)
        draw.rounded_rectangle((left, 170, left + column, 760), 24, outline=colour, width=6)
        draw.rounded_rectangle((left, 170, left + column, 270), 24, fill=colour)
        draw.text((left + 30, 195), name, "#ffffff", heading)
        y = 305
        for point in points:
            draw.ellipse((left + 32, y + 13, left + 44, y + 25), fill=colour)
            for line in _wrap(draw, point, text, column - 90):
                draw.text((left + 58, y), line, "#1b1b1b", text)
                y += 40
            y += 22
    draw.text((80, 810), NOTE, "#4a4a4a", small)
    image.save(path, optimize=True)


def _wrap(draw: ImageDraw.ImageDraw, text: str, font: ImageFont.FreeTypeFont,
          width: int) -> list[str]:
    """`text` in lines no wider than `width` pixels."""
    lines = [""]
    for word in text.split():
        candidate = f"{lines[-1]} {word}".strip()
        if draw.textlength(candidate, font=font) <= width or not lines[-1]:
            lines[-1] = candidate
        else:
            lines.append(word)
    return lines


def _pdf_text(value: str) -> bytes:
    """A PDF string in WinAnsiEncoding, with its special characters escaped."""
    escaped = value.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
    return b"(" + escaped.encode("cp1252") + b")"


def factsheet(path: Path) -> None:
    """One A4 page: what was found, the three success factors, where to read more."""
    lines: list[tuple[int, int, str]] = [
        (16, 0, "Factsheet: succesfactoren voor het bereik van migrantengezinnen")]
    lines += [(11, 0, NOTE), (11, 0, ""),
              (11, 0, "Analyse van de 31 lokale initiatieven en participatieprojecten uit het"),
              (11, 0, "ZonMw-programma Diversiteit in het Jeugdbeleid (2009-2011)."), (11, 0, "")]
    lines += [(11, 0, "Migrantengezinnen worden laat bereikt en doen te weinig mee.")]
    lines += [(11, 0, "")]
    for name, points in FACTORS:
        lines.append((14, 0, name))
        lines += [(11, 12, f"- {p}") for p in points]
        lines.append((11, 0, ""))
    lines += [(11, 0, "Bron: De Gruijter, M. en C. Harreveld (2012). Opbrengsten lokale"),
              (11, 0, "initiatieven en participatieprojecten. Verwey-Jonker Instituut."),
              (11, 0, "ISBN 978-90-5830-493-3.")]
    stream = [b"BT"]
    y = 780
    for size, indent, text in lines:
        stream.append(b"/F1 %d Tf 1 0 0 1 %d %d Tm " % (size, 60 + indent, y) + _pdf_text(text)
                      + b" Tj")
        y -= int(size * 1.6)
    stream.append(b"ET")
    content = b"\n".join(stream)
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R /Lang (nl) >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] "
        b"/Resources << /Font << /F1 5 0 R >> >> /Contents 4 0 R >>",
        b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
        b"<< /Title " + _pdf_text("Factsheet succesfactoren (gemaakt voor het voorbeeld)")
        + b" /Producer (dossier docs/voorbeeldbestanden.py) >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += (b"trailer\n<< /Size %d /Root 1 0 R /Info 6 0 R >>\nstartxref\n%d\n%%%%EOF\n"
            % (len(objects) + 1, xref))
    path.write_bytes(bytes(out))


if __name__ == "__main__":
    BUNDLE.mkdir(parents=True, exist_ok=True)
    diagram(BUNDLE / "succesfactoren.png")
    factsheet(BUNDLE / "factsheet.pdf")
    print(f"wrote {BUNDLE.relative_to(ROOT)}/succesfactoren.png and factsheet.pdf")
