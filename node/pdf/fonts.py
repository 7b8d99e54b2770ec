"""Which fonts a document is set in.

The standard PDF font Helvetica (Windows-1252 encoding) prints every
character French, Dutch and German need — é, è, ë, ç, œ, ÿ, ß, €, ’, « » —
and needs no file, so a notice looks the same on every machine. Owners'
names are not always that kind: Łukasz, Dvořák or Ștefan fall outside
Windows-1252 and would print as black boxes. For such a document only, a
Unicode TrueType font already installed on the machine (DejaVu Sans,
Liberation Sans, Arial) is embedded instead; KoproGo bundles no font. On a
machine with none of them, the letters are written without their accents
(``Ł`` → ``L``, ``ř`` → ``r``) rather than as boxes.
"""

from __future__ import annotations

import dataclasses
import os
import unicodedata
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFError, TTFont

_STANDARD_ENCODING = "cp1252"

# Characters without a decomposition that still have an obvious plain form.
_PLAIN = str.maketrans(
    {
        "\u202f": "\xa0",
        "\u2009": " ",
        "\u2011": "-",
        "\u2212": "-",
        "ł": "l",
        "Ł": "L",
        "đ": "d",
        "Đ": "D",
        "ı": "i",
        "ħ": "h",
        "Ħ": "H",
        "ŀ": "l",
        "Ŀ": "L",
    }
)


def _encodable(text: str) -> bool:
    try:
        text.encode(_STANDARD_ENCODING)
    except UnicodeEncodeError:
        return False
    return True


@dataclass(frozen=True)
class FontSet:
    """A family of fonts a document is set in."""

    regular: str
    bold: str
    italic: str
    embedded: bool
    """True when the fonts are TrueType files embedded in the PDF."""

    def printable(self, text: str) -> str:
        """``text`` as these fonts can print it: unchanged for an embedded
        Unicode font; otherwise each character outside Windows-1252 loses
        its accent (``ř`` → ``r``), and is ``?`` when it has no plain form."""
        if self.embedded or _encodable(text):
            return text
        out = []
        for char in text.translate(_PLAIN):
            if _encodable(char):
                out.append(char)
                continue
            plain = "".join(
                c for c in unicodedata.normalize("NFKD", char) if not unicodedata.combining(c)
            )
            out.append(plain if plain and _encodable(plain) else "?")
        return "".join(out)


STANDARD = FontSet("Helvetica", "Helvetica-Bold", "Helvetica-Oblique", embedded=False)


def _candidates() -> Iterator[tuple[str, Path, Path, Path]]:
    """Unicode sans-serif fonts commonly installed: (name, regular, bold, italic)."""
    linux = Path("/usr/share/fonts/truetype")
    yield (
        "KoproGo-DejaVuSans",
        linux / "dejavu/DejaVuSans.ttf",
        linux / "dejavu/DejaVuSans-Bold.ttf",
        linux / "dejavu/DejaVuSans-Oblique.ttf",
    )
    yield (
        "KoproGo-LiberationSans",
        linux / "liberation/LiberationSans-Regular.ttf",
        linux / "liberation/LiberationSans-Bold.ttf",
        linux / "liberation/LiberationSans-Italic.ttf",
    )
    windows = Path(os.environ.get("WINDIR", r"C:\Windows")) / "Fonts"
    yield "KoproGo-Arial", windows / "arial.ttf", windows / "arialbd.ttf", windows / "ariali.ttf"
    mac = Path("/System/Library/Fonts/Supplemental")
    yield (
        "KoproGo-ArialMac",
        mac / "Arial.ttf",
        mac / "Arial Bold.ttf",
        mac / "Arial Italic.ttf",
    )


@cache
def _registered(
    name: str, regular: Path, bold: Path, italic: Path
) -> tuple[FontSet, frozenset[int]]:
    """Register one family with reportlab (once per process) and return it
    with the characters its regular face covers."""
    fonts = FontSet(name, f"{name}-Bold", f"{name}-Italic", embedded=True)
    faces = {fonts.regular: regular, fonts.bold: bold, fonts.italic: italic}
    for font_name, path in faces.items():
        pdfmetrics.registerFont(TTFont(font_name, str(path if path.exists() else regular)))
    pdfmetrics.registerFontFamily(
        name, normal=fonts.regular, bold=fonts.bold, italic=fonts.italic, boldItalic=fonts.bold
    )
    covered = frozenset(pdfmetrics.getFont(fonts.regular).face.charToGlyph)
    return fonts, covered


def _unicode_font(needed: set[str]) -> FontSet | None:
    for name, regular, bold, italic in _candidates():
        if not regular.exists():
            continue
        try:
            fonts, covered = _registered(name, regular, bold, italic)
        except (TTFError, OSError):
            continue
        if all(ord(c) in covered for c in needed):
            return fonts
    return None


def font_set_for(texts: Iterable[str]) -> FontSet:
    """The fonts for a document holding ``texts``: Helvetica when it can
    print them all, else an installed Unicode font that can, else
    Helvetica with accents dropped where needed (:meth:`FontSet.printable`)."""
    needed = {c for text in texts for c in text if not _encodable(c)}
    needed -= {"\u202f", "\u2009", "\u2011", "\u2212"}  # replaced by printable()
    if not needed:
        return STANDARD
    return _unicode_font(needed) or STANDARD


def texts_of(value: Any) -> Iterator[str]:
    """Every string inside a document's input (dataclasses, tuples,
    mappings), to choose its fonts before setting any type."""
    if isinstance(value, str):
        yield value
    elif dataclasses.is_dataclass(value) and not isinstance(value, type):
        for field in dataclasses.fields(value):
            yield from texts_of(getattr(value, field.name))
    elif isinstance(value, Mapping):
        for item in value.values():
            yield from texts_of(item)
    elif isinstance(value, (tuple, list, frozenset, set)):
        for item in value:
            yield from texts_of(item)
