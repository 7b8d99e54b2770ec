"""The one layout module for every KoproGo PDF (ARCHITECTURE §9).

A document is a list of :class:`Section` s — one per recipient — rendered
by :func:`render` into PDF bytes (it never writes a file). Each section
opens on a new A4 page with the association's letterhead, the recipient's
postal address where a right-hand window envelope shows it, the place and
date, and the title; its later pages carry a one-line running header; every
page ends with a footer giving "page n / total" *within the section* (so a
batch of notices printed as one PDF is numbered notice by notice) and the
date the document was made.

Type is set by a :class:`Kit`: one language, the translations of that
language (the recipient's, not the screen's), the fonts that can print the
document's names (:mod:`node.pdf.fonts`), the paragraph styles and the
formatting of amounts and dates (:mod:`node.pdf.formats`). Tables come
from :meth:`Kit.table`: a header row repeated after each page break,
right-aligned amounts, zebra rows and a totals row.
"""

from __future__ import annotations

import calendar
import io
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from functools import cached_property, partial
from typing import Literal, Protocol
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER, TA_LEFT, TA_RIGHT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import (
    BaseDocTemplate,
    Flowable,
    Frame,
    NextPageTemplate,
    PageBreak,
    PageTemplate,
    Paragraph,
    Table,
    TableStyle,
)

from ..domain.identifiers import format_bce
from ..domain.registry import Address, Association, Person
from ..errors import InputError
from ..i18n import LANGUAGES, _
from . import formats
from .fonts import FontSet

PAGE_WIDTH, PAGE_HEIGHT = A4
MARGIN_LEFT = 22 * mm
MARGIN_RIGHT = 18 * mm
MARGIN_TOP = 12 * mm
MARGIN_BOTTOM = 22 * mm
TEXT_WIDTH = PAGE_WIDTH - MARGIN_LEFT - MARGIN_RIGHT

WINDOW_LEFT = 110 * mm
WINDOW_TOP = 50 * mm
WINDOW_WIDTH = 85 * mm
WINDOW_HEIGHT = 35 * mm
"""Where the recipient's address is printed, measured from the sheet's
top-left corner: the window of a Belgian DL envelope (window on the right,
about 100 × 45 mm) once the A4 sheet is folded in three."""

FOLD_MARKS = (99 * mm, 198 * mm)
"""Folding marks in the left margin for a DL envelope (from the top)."""

_OPENING_HEIGHT = WINDOW_TOP + WINDOW_HEIGHT + 4 * mm - MARGIN_TOP
_LATER_TOP = 22 * mm

INK = colors.HexColor("#1b1b1b")
MUTED = colors.HexColor("#5c6168")
RULE = colors.HexColor("#8d949c")
ACCENT = colors.HexColor("#1f3550")
HEADER_FILL = colors.HexColor("#e4e7eb")
ZEBRA = colors.HexColor("#f4f5f7")

AUTHOR = "KoproGo"

Align = Literal["left", "right", "center"]
_ALIGNMENTS = {"left": TA_LEFT, "right": TA_RIGHT, "center": TA_CENTER}


class Translations(Protocol):
    """What a document needs from a gettext translation object."""

    def gettext(self, message: str, /) -> str: ...

    def ngettext(self, singular: str, plural: str, n: int, /) -> str: ...


Translate = Callable[[str], Translations]
"""Gives the translations of a language, like :func:`node.i18n.translator`."""


# -- who writes and who receives -------------------------------------------


@dataclass(frozen=True)
class Syndic:
    """The syndic, whose contact line closes the letterhead."""

    name: str
    address: Address = field(default_factory=Address)
    phone: str = ""
    email: str = ""

    def contact_line(self) -> str:
        """``Name · street, postal code city · phone · e-mail``; the phone
        number is kept on one line."""
        parts = (self.name, self.address.one_line(), self.phone.replace(" ", "\xa0"), self.email)
        return " · ".join(p for p in parts if p)


@dataclass(frozen=True)
class Letterhead:
    """What heads every first page: the association and its syndic."""

    association: Association
    syndic: Syndic | None = None


@dataclass(frozen=True)
class Recipient:
    """A postal addressee: the name as it goes on the envelope (e.g.
    ``M. et Mme Dubois-Peeters``) and the postal address."""

    name: str
    address: Address = field(default_factory=Address)

    def __post_init__(self) -> None:
        if not self.name.strip():
            raise InputError(_("A document needs the name of its recipient."))

    @classmethod
    def from_person(cls, person: Person) -> Recipient:
        return cls(name=person.name, address=person.address)

    def lines(self, language: str) -> list[str]:
        """Name, street, postal code and city, and the country when it is
        not Belgium (in capitals, as bpost asks)."""
        city = f"{self.address.postal_code} {self.address.city}".strip()
        lines = [self.name, self.address.street, city]
        if self.address.country and self.address.country.upper() != "BE":
            lines.append(formats.country_name(self.address.country, language).upper())
        return [line for line in lines if line]


# -- setting type in one language ------------------------------------------


@dataclass(frozen=True)
class Column:
    """A table column: its header, its share of the table width and how
    its cells are aligned (amounts to the right)."""

    header: str
    width: float
    align: Align = "left"


@dataclass(frozen=True)
class Kit:
    """Everything needed to set a document in one language."""

    language: str
    translations: Translations
    fonts: FontSet

    def __post_init__(self) -> None:
        if self.language not in LANGUAGES:
            raise InputError(
                _("The language must be one of {choices}.").format(choices=", ".join(LANGUAGES))
            )

    # words and numbers

    def gettext(self, message: str) -> str:
        return self.translations.gettext(message)

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        return self.translations.ngettext(singular, plural, n)

    def lot_list(self, numbers: Sequence[str], limit: int = 6) -> str:
        """``A1, A2, C12`` — or ``14 lots`` when there are more than ``limit``."""
        unique = list(dict.fromkeys(numbers))
        if len(unique) <= limit:
            return ", ".join(unique)
        ngettext = self.ngettext
        return ngettext("{count} lot", "{count} lots", len(unique)).format(count=len(unique))

    def money(self, cents: int) -> str:
        return formats.format_amount(cents, self.language)

    def number(self, value: int) -> str:
        return formats.format_number(value, self.language)

    def day(self, value: date) -> str:
        return formats.format_date(value, self.language, "long")

    def short_day(self, value: date) -> str:
        return formats.format_date(value, self.language, "numeric")

    def share(self, weight: int, total: int) -> str:
        return formats.format_share(weight, total, self.language)

    def weight(self, weight: int, total: int) -> str:
        return formats.format_weight(weight, total, self.language)

    def period(self, start: date, end: date) -> str:
        _ = self.gettext
        return _("from {start} to {end}").format(start=self.day(start), end=self.day(end))

    # paragraphs

    @cached_property
    def styles(self) -> dict[str, ParagraphStyle]:
        f = self.fonts
        body = ParagraphStyle("body", fontName=f.regular, fontSize=9.5, leading=12.5, textColor=INK)
        return {
            "body": body,
            "small": ParagraphStyle("small", body, fontSize=8, leading=10),
            "muted": ParagraphStyle("muted", body, fontSize=7.5, leading=9.5, textColor=MUTED),
            "legal": ParagraphStyle(
                "legal", body, fontName=f.italic, fontSize=7.5, leading=9.5, textColor=MUTED
            ),
            "label": ParagraphStyle("label", body, fontSize=8, leading=10, textColor=MUTED),
            "strong": ParagraphStyle("strong", body, fontName=f.bold),
            "title": ParagraphStyle(
                "title",
                body,
                fontName=f.bold,
                fontSize=14,
                leading=17,
                textColor=ACCENT,
                spaceBefore=2 * mm,
                spaceAfter=4 * mm,
            ),
            "heading": ParagraphStyle(
                "heading",
                body,
                fontName=f.bold,
                fontSize=10.5,
                leading=13,
                textColor=ACCENT,
                spaceBefore=4 * mm,
                spaceAfter=1.5 * mm,
                keepWithNext=1,
            ),
            "subheading": ParagraphStyle(
                "subheading",
                body,
                fontName=f.bold,
                fontSize=9,
                leading=11.5,
                spaceBefore=2.5 * mm,
                spaceAfter=1 * mm,
                keepWithNext=1,
            ),
            "reference": ParagraphStyle(
                "reference", body, fontName=f.bold, fontSize=16, leading=20, textColor=INK
            ),
            "address": ParagraphStyle("address", body, fontSize=10, leading=12.5),
        }

    def markup(self, text: str) -> str:
        """Plain text made safe for a paragraph (escaped, printable)."""
        return escape(self.fonts.printable(text))

    def para(self, text: str, style: str = "body", *, align: Align | None = None) -> Paragraph:
        """A paragraph of plain ``text`` (never markup: names may hold ``<``)."""
        chosen = self.styles[style]
        if align is not None:
            chosen = ParagraphStyle(f"{style}-{align}", chosen, alignment=_ALIGNMENTS[align])
        return Paragraph(self.markup(text), chosen)

    # tables

    def table(
        self,
        columns: Sequence[Column],
        rows: Sequence[Sequence[str]],
        total: Sequence[str] | None = None,
        *,
        width: float = TEXT_WIDTH,
    ) -> Table:
        """A table with a header row (repeated on each page it runs onto),
        zebra rows, cells aligned per column and an optional totals row."""
        scale = width / sum(c.width for c in columns)
        header = [self._cell(c.header, c.align, bold=True) for c in columns]
        body = [self._row(row, columns) for row in rows]
        data = [header, *body]
        if total is not None:
            data.append(self._row(total, columns, bold=True))
        commands: list[tuple] = [
            ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ("LEFTPADDING", (0, 0), (-1, -1), 4),
            ("RIGHTPADDING", (0, 0), (-1, -1), 4),
            ("TOPPADDING", (0, 0), (-1, -1), 2.5),
            ("BOTTOMPADDING", (0, 0), (-1, -1), 2.5),
            ("BACKGROUND", (0, 0), (-1, 0), HEADER_FILL),
            ("LINEABOVE", (0, 0), (-1, 0), 0.6, INK),
            ("LINEBELOW", (0, 0), (-1, 0), 0.6, INK),
        ]
        if body:
            commands.append(("ROWBACKGROUNDS", (0, 1), (-1, len(body)), [colors.white, ZEBRA]))
        if total is not None:
            commands += [("LINEABOVE", (0, -1), (-1, -1), 0.6, INK)]
        commands.append(("LINEBELOW", (0, -1), (-1, -1), 0.6, INK))
        return self.grid(data, [c.width * scale for c in columns], commands, repeat_rows=1)

    def grid(
        self,
        data: Sequence[Sequence[object]],
        widths: Sequence[float],
        commands: Sequence[tuple],
        *,
        repeat_rows: int = 0,
    ) -> Table:
        """A reportlab table in this kit's fonts (reportlab would otherwise
        reference Helvetica for its empty cells, even in a Unicode document)."""
        style = TableStyle([("FONTNAME", (0, 0), (-1, -1), self.fonts.regular), *commands])
        return Table(
            data, colWidths=list(widths), repeatRows=repeat_rows, hAlign="LEFT", style=style
        )

    def _row(self, row: Sequence[str], columns: Sequence[Column], bold: bool = False) -> list:
        if len(row) != len(columns):
            raise ValueError(f"a row has {len(row)} cells for {len(columns)} columns")
        return [self._cell(text, c.align, bold=bold) for text, c in zip(row, columns, strict=True)]

    def _cell(self, text: str, align: Align, bold: bool = False) -> Paragraph:
        return self.para(text, "strong" if bold else "small", align=align)


# -- sections and pages ----------------------------------------------------


@dataclass(frozen=True)
class Section:
    """One document for one recipient inside a PDF: it starts on a new page
    with the letterhead and is numbered on its own ("page n / total").

    ``dated`` is the letter's date, printed after the association's city.
    ``details`` are a few short label/value lines printed left of the
    address window (reference, lots, due date; about five fit). ``footer``
    identifies its pages when many sections are printed together (usually
    the recipient's name). Its flowables are used up by one :func:`render`.
    """

    kit: Kit
    title: str
    dated: date
    story: tuple[Flowable, ...]
    recipient: Recipient | None = None
    details: tuple[tuple[str, str], ...] = ()
    footer: str = ""


class _Opening(Flowable):
    """The top of a section's first page, drawn at fixed places on the sheet:
    letterhead, folding marks, details and the address in the window.

    It is always the first flowable of the first-page frame, so its own
    origin tells where the sheet's top is."""

    def __init__(self, index: int, section: Section, letterhead: Letterhead, place_date: str):
        super().__init__()
        self.index = index
        self.section = section
        self.letterhead = letterhead
        self.place_date = place_date

    def wrap(self, available_width: float, available_height: float) -> tuple[float, float]:
        return available_width, _OPENING_HEIGHT

    def _top(self, from_sheet_top: float) -> float:
        """A y coordinate in this flowable for a distance from the sheet's top."""
        return _OPENING_HEIGHT - (from_sheet_top - MARGIN_TOP)

    def _left(self, from_sheet_left: float) -> float:
        return from_sheet_left - MARGIN_LEFT

    def draw(self) -> None:
        canvas = self.canv
        canvas.koprogo_section = self.index  # read by the running header and footer
        kit = self.section.kit
        self._draw_letterhead(kit)
        canvas.saveState()
        canvas.setStrokeColor(RULE)
        canvas.setLineWidth(0.3)
        for mark in FOLD_MARKS:
            y = self._top(mark)
            canvas.line(self._left(5 * mm), y, self._left(9 * mm), y)
        canvas.restoreState()
        self._draw_details(kit)
        if self.section.recipient is not None:
            lines = self.section.recipient.lines(kit.language)
            text = "<br/>".join(kit.markup(line) for line in lines)
            self._place(Paragraph(text, kit.styles["address"]), WINDOW_LEFT, WINDOW_TOP + 4 * mm)

    def _place(self, flowable: Flowable, left: float, top: float, width: float = 0) -> float:
        """Draw ``flowable`` with its top-left corner at (left, top) of the
        sheet; return the distance from the sheet's top to its bottom."""
        _, height = flowable.wrap(width or WINDOW_WIDTH, PAGE_HEIGHT)
        flowable.drawOn(self.canv, self._left(left), self._top(top) - height)
        return top + height

    def _draw_letterhead(self, kit: Kit) -> None:
        _ = kit.gettext
        association = self.letterhead.association
        width = WINDOW_LEFT - MARGIN_LEFT - 6 * mm
        top = self._place(kit.para(association.name, "heading"), MARGIN_LEFT, MARGIN_TOP, width)
        lines = [association.address.one_line()]
        if association.bce_number:
            lines.append(
                _("Enterprise number {number}").format(number=format_bce(association.bce_number))
            )
        text = "<br/>".join(kit.markup(line) for line in lines if line)
        top = self._place(Paragraph(text, kit.styles["small"]), MARGIN_LEFT, top, width)
        syndic = self.letterhead.syndic
        if syndic is not None:
            line = _("Syndic: {contact}").format(contact=syndic.contact_line())
            self._place(kit.para(line, "muted"), MARGIN_LEFT, top + 1 * mm, width)
        self.canv.saveState()
        self.canv.setStrokeColor(RULE)
        self.canv.setLineWidth(0.4)
        y = self._top(WINDOW_TOP - 7 * mm)
        self.canv.line(0, y, TEXT_WIDTH, y)
        self.canv.restoreState()

    def _draw_details(self, kit: Kit) -> None:
        width = WINDOW_LEFT - MARGIN_LEFT - 8 * mm
        top = self._place(kit.para(self.place_date), MARGIN_LEFT, WINDOW_TOP + 4 * mm, width)
        top += 2 * mm
        for label, value in self.section.details:
            table = kit.grid(
                [[kit.para(label, "label"), kit.para(value, "small")]],
                [width * 0.38, width * 0.62],
                [
                    ("LEFTPADDING", (0, 0), (-1, -1), 0),
                    ("RIGHTPADDING", (0, 0), (-1, -1), 2),
                    ("TOPPADDING", (0, 0), (-1, -1), 0.5),
                    ("BOTTOMPADDING", (0, 0), (-1, -1), 0.5),
                    ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ],
            )
            top = self._place(table, MARGIN_LEFT, top, width)


def _running_header(
    sections: Sequence[Section], letterhead: Letterhead, canvas: Canvas, _doc: object
) -> None:
    """The one-line header of a section's later pages."""
    section = sections[getattr(canvas, "koprogo_section", 0)]
    fonts = section.kit.fonts
    y = PAGE_HEIGHT - 14 * mm
    canvas.saveState()
    canvas.setFillColor(MUTED)
    canvas.setFont(fonts.regular, 7.5)
    canvas.drawString(MARGIN_LEFT, y, fonts.printable(letterhead.association.name))
    canvas.drawRightString(PAGE_WIDTH - MARGIN_RIGHT, y, fonts.printable(section.title))
    canvas.setStrokeColor(RULE)
    canvas.setLineWidth(0.4)
    canvas.line(MARGIN_LEFT, y - 2.5 * mm, PAGE_WIDTH - MARGIN_RIGHT, y - 2.5 * mm)
    canvas.restoreState()


def _footer(
    sections: Sequence[Section],
    made_on: date,
    canvas: Canvas,
    index: int,
    page: int,
    pages: int,
) -> None:
    section = sections[index]
    kit = section.kit
    _ = kit.gettext
    fonts = kit.fonts
    y = MARGIN_BOTTOM - 9 * mm
    canvas.saveState()
    canvas.setStrokeColor(RULE)
    canvas.setLineWidth(0.4)
    canvas.line(MARGIN_LEFT, y + 4 * mm, PAGE_WIDTH - MARGIN_RIGHT, y + 4 * mm)
    canvas.setFillColor(INK)
    canvas.setFont(fonts.regular, 7.5)
    label = " — ".join(p for p in (section.title, section.footer) if p)
    canvas.drawString(MARGIN_LEFT, y, fonts.printable(label))
    canvas.setFont(fonts.bold, 7.5)
    page_text = _("Page {page} / {pages}").format(page=page, pages=pages)
    canvas.drawRightString(PAGE_WIDTH - MARGIN_RIGHT, y, fonts.printable(page_text))
    canvas.setFillColor(MUTED)
    canvas.setFont(fonts.regular, 6.5)
    made = _("Made with KoproGo on {date}").format(date=kit.short_day(made_on))
    canvas.drawString(MARGIN_LEFT, y - 3.5 * mm, fonts.printable(made))
    canvas.restoreState()


FooterDrawer = Callable[[Canvas, int, int, int], None]


class _NumberedCanvas(Canvas):
    """A canvas that holds its pages until the end, so that each footer can
    say "page n / total" counted within its own section."""

    def __init__(self, *args: object, footer: FooterDrawer, made_on: date, **kwargs: object):
        super().__init__(*args, **kwargs)
        self.koprogo_section = 0
        self._held_pages: list[dict] = []
        self._footer = footer
        self._stamp(made_on)

    def _stamp(self, made_on: date) -> None:
        # The PDF's creation date is the document's date, not the clock's,
        # so that the same input always gives the same bytes.
        stamp = getattr(getattr(self, "_doc", None), "_timeStamp", None)
        if stamp is None:
            return
        seconds = calendar.timegm(made_on.timetuple())
        stamp.t = seconds
        stamp.lt = time.gmtime(seconds)
        stamp.YMDhms = tuple(stamp.lt)[:6]
        stamp.dhh = stamp.dmm = 0
        stamp.tzname = "UTC"

    def showPage(self) -> None:
        self._held_pages.append(dict(self.__dict__))
        self._startPage()

    def save(self) -> None:
        totals = Counter(page["koprogo_section"] for page in self._held_pages)
        seen: Counter[int] = Counter()
        for page in self._held_pages:
            self.__dict__.update(page)
            index = self.koprogo_section
            seen[index] += 1
            self._footer(self, index, seen[index], totals[index])
            super().showPage()
        super().save()


def render_letter(letterhead: Letterhead, section: Section) -> bytes:
    """One letter to one recipient as PDF bytes: its title, its recipient's
    name as the subject, made on its date."""
    return render(
        [section],
        letterhead=letterhead,
        title=section.title,
        subject=section.recipient.name if section.recipient is not None else "",
        made_on=section.dated,
    )


def render_letters(letters: Sequence[tuple[Letterhead, Section]]) -> bytes:
    """Many letters of one association in one PDF for printing: each starts
    on a new page, in its recipient's language, and is numbered on its own;
    the association's name is the subject, made on the latest letter's date.
    Refuses an empty list and letters of different associations."""
    if not letters:
        raise InputError(_("There is nothing to print."))
    letterhead = letters[0][0]
    if any(other.association != letterhead.association for other, _section in letters):
        raise InputError(_("The documents printed together must be from one association."))
    sections = [section for _letterhead, section in letters]
    return render(
        sections,
        letterhead=letterhead,
        title=sections[0].title,
        subject=letterhead.association.name,
        made_on=max(section.dated for section in sections),
    )


def render(
    sections: Sequence[Section],
    *,
    letterhead: Letterhead,
    title: str,
    made_on: date,
    subject: str = "",
) -> bytes:
    """Typeset ``sections`` into one A4 PDF and return its bytes.

    ``title`` and ``subject`` go into the PDF's metadata, with the author
    "KoproGo" and the language of the first section; ``made_on`` is the
    date printed in the footers and stored as the creation date (the caller
    reads the clock, not this module)."""
    if not sections:
        raise InputError(_("There is nothing to print."))
    buffer = io.BytesIO()
    first = sections[0].kit
    document = BaseDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=MARGIN_LEFT,
        rightMargin=MARGIN_RIGHT,
        topMargin=MARGIN_TOP,
        bottomMargin=MARGIN_BOTTOM,
        title=first.fonts.printable(title),
        author=AUTHOR,
        creator=AUTHOR,
        producer=AUTHOR,
        subject=first.fonts.printable(subject),
        lang=formats.PDF_LANGUAGE_TAGS[first.language],
        initialFontName=first.fonts.regular,
        invariant=1,
    )
    frame_height = PAGE_HEIGHT - MARGIN_TOP - MARGIN_BOTTOM
    first_frame = Frame(
        MARGIN_LEFT, MARGIN_BOTTOM, TEXT_WIDTH, frame_height, 0, 0, 0, 0, id="first"
    )
    later_frame = Frame(
        MARGIN_LEFT,
        MARGIN_BOTTOM,
        TEXT_WIDTH,
        PAGE_HEIGHT - _LATER_TOP - MARGIN_BOTTOM,
        0,
        0,
        0,
        0,
        id="later",
    )
    document.addPageTemplates(
        [
            PageTemplate("first", [first_frame], autoNextPageTemplate="later"),
            PageTemplate(
                "later", [later_frame], onPage=partial(_running_header, sections, letterhead)
            ),
        ]
    )
    story: list[Flowable] = []
    for index, section in enumerate(sections):
        if index:
            story += [NextPageTemplate("first"), PageBreak()]
        story += _opening(index, section, letterhead)
        story += section.story
    footer = partial(_footer, sections, made_on)
    document.build(story, canvasmaker=partial(_NumberedCanvas, footer=footer, made_on=made_on))
    return buffer.getvalue()


def _opening(index: int, section: Section, letterhead: Letterhead) -> list[Flowable]:
    kit = section.kit
    _ = kit.gettext
    city = letterhead.association.address.city
    day = kit.day(section.dated)
    place_date = _("{city}, {date}").format(city=city, date=day) if city else day
    return [
        _Opening(index, section, letterhead, place_date),
        kit.para(section.title, "title"),
    ]
