"""The layout module: amounts and dates per language, fonts, letterhead,
metadata, tables that break across pages, and "page n / total" counted per
section."""

from __future__ import annotations

import gettext
from datetime import date

import pytest

from node.domain.registry import Address
from node.errors import InputError
from node.pdf import formats
from node.pdf.fonts import STANDARD, font_set_for, texts_of
from node.pdf.layout import Column, Kit, Recipient, Section, render, render_letter, render_letters
from tests.helpers import elsewhere
from tests.test_pdf_helpers import (
    MarkedTranslations,
    letterhead,
    notice,
    pages_text,
    plain,
    reader,
    recipient,
)

# -- amounts, numbers and dates: what Babel writes for each Belgian locale --


@pytest.mark.parametrize(
    ("language", "written"),
    [("fr", "1 234,56 €"), ("nl", "€ 1.234,56"), ("de", "1.234,56 €"), ("en", "€1,234.56")],
)
def test_amounts_per_language(language: str, written: str):
    text = formats.format_amount(123_456, language)
    assert plain(text) == written
    assert "\u202f" not in text  # Helvetica has no narrow no-break space
    assert " " not in text  # the figures and the sign never part at a line end


@pytest.mark.parametrize(
    ("language", "written"),
    [
        ("fr", "-1 234 567,80 €"),
        ("nl", "€ -1.234.567,80"),
        ("de", "-1.234.567,80 €"),
        ("en", "-€1,234,567.80"),
    ],
)
def test_negative_and_large_amounts(language: str, written: str):
    assert plain(formats.format_amount(-123_456_780, language)) == written


@pytest.mark.parametrize(
    ("language", "long", "numeric"),
    [
        ("fr", "15 avril 2027", "15/04/2027"),
        ("nl", "15 april 2027", "15/04/2027"),
        ("de", "15. April 2027", "15.04.2027"),
        ("en", "15 April 2027", "15/04/2027"),
    ],
)
def test_dates_per_language(language: str, long: str, numeric: str):
    assert formats.format_date(date(2027, 4, 15), language) == long
    assert formats.format_date(date(2027, 4, 15), language, "numeric") == numeric


@pytest.mark.parametrize(
    ("language", "first"),
    [
        ("fr", "1er mars 2026"),
        ("nl", "1 maart 2026"),
        ("de", "1. März 2026"),
        ("en", "1 March 2026"),
    ],
)
def test_the_first_of_the_month(language: str, first: str):
    assert formats.format_date(date(2026, 3, 1), language) == first


@pytest.mark.parametrize(
    ("language", "share", "weight"),
    [
        ("fr", "12,35 %", "1 235 / 10 000"),
        ("nl", "12,35%", "1.235 / 10.000"),
        ("de", "12,35 %", "1.235 / 10.000"),
        ("en", "12.35%", "1,235 / 10,000"),
    ],
)
def test_shares_and_weights_per_language(language: str, share: str, weight: str):
    assert plain(formats.format_share(1_235, 10_000, language)) == share
    assert plain(formats.format_weight(1_235, 10_000, language)) == weight


def test_bank_identifiers_on_paper():
    assert formats.format_iban("BE68539007547034") == "BE68 5390 0754 7034"
    assert formats.format_structured_reference("123456789002") == "+++123/4567/89002+++"
    assert formats.format_structured_reference("***012/3456/78939***") == "+++012/3456/78939+++"


# -- fonts -----------------------------------------------------------------


def test_french_dutch_and_german_print_with_the_standard_font():
    text = "Dœuvre, ÿ, Œ, Ÿ, € 5, Straße, l’Église, « gîte », Ijsselmeer, Müller"
    assert font_set_for([text]) is STANDARD
    assert STANDARD.printable(text) == text


def test_names_outside_windows_1252_never_print_as_boxes():
    assert STANDARD.printable("Łukasz Dvořák, Ștefan Țurcanu, Đorđe") == (
        "Lukasz Dvorák, Stefan Turcanu, Dorde"
    )
    fonts = font_set_for(["Łukasz Dvořák"])
    if fonts.embedded:
        assert fonts.printable("Łukasz Dvořák") == "Łukasz Dvořák"


def test_the_strings_of_a_document_are_all_found():
    texts = set(texts_of(notice()))
    assert {"Madame Françoise Dœuvre-Müller", "Rue de l’Église 3 bte 2", "Ascenseur"} <= texts


def test_the_special_characters_come_back_out_of_the_pdf():
    name = "Mme Ÿvonne Dœuvre-Straße l’Œil"
    data = render_one(recipient=Recipient(name, Address("Rue du Bœuf 1", "1000", "Bruxelles")))
    first = pages_text(data)[0]
    assert name in first
    assert "Rue du Bœuf 1" in first
    fonts = {
        font.get_object()["/BaseFont"]
        for page in reader(data).pages
        for font in page["/Resources"]["/Font"].values()
    }
    assert fonts <= {"/Helvetica", "/Helvetica-Bold", "/Helvetica-Oblique"}


def test_a_name_outside_windows_1252_is_printed_whole_or_plain():
    data = render_one(
        recipient=Recipient("Łukasz Dvořák", Address("Rue Haute 1", "1000", "Bruxelles"))
    )
    first = pages_text(data)[0]
    fonts = font_set_for(["Łukasz Dvořák"])
    assert ("Łukasz Dvořák" if fonts.embedded else "Lukasz Dvorák") in first
    assert "■" not in first


# -- a generic document ----------------------------------------------------


def kit(language: str = "en", translations: object | None = None) -> Kit:
    return Kit(language, translations or gettext.NullTranslations(), STANDARD)  # type: ignore[arg-type]


def long_table_section(rows: int, the_kit: Kit | None = None, title: str = "Ledger") -> Section:
    the_kit = the_kit or kit()
    columns = (Column("Item", 60), Column("Date", 20, "right"), Column("Amount", 20, "right"))
    lines = [
        (f"Item {i}", the_kit.short_day(date(2027, 1, 1)), the_kit.money(i * 101))
        for i in range(rows)
    ]
    total = ("Total", "", the_kit.money(sum(i * 101 for i in range(rows))))
    return Section(
        kit=the_kit,
        title=title,
        dated=date(2027, 1, 31),
        story=(the_kit.table(columns, lines, total),),
        recipient=recipient(),
        details=(("Reference", "R-1"),),
        footer="Dœuvre",
    )


def render_one(recipient: Recipient | None = None, rows: int = 3) -> bytes:
    if recipient is None:
        section = long_table_section(rows)
    else:
        fonts = font_set_for([recipient.name])
        the_kit = Kit("en", gettext.NullTranslations(), fonts)
        section = Section(**{**vars(long_table_section(rows, the_kit)), "recipient": recipient})
    return render([section], letterhead=letterhead(), title="Ledger", made_on=date(2027, 2, 1))


def test_letterhead_address_window_and_footer():
    first = pages_text(render_one())[0]
    for expected in (
        "ACP Résidence Les Tilleuls",
        "Avenue des Tilleuls 12, 1180 Uccle",
        "Enterprise number 0403.170.701",
        "Syndic: Gestion Dupont SRL · Avenue Louise 54, 1050 Ixelles ·\n02 123 45 67",
        "Uccle, 31 January 2027",
        "Madame Françoise Dœuvre-Müller\nRue de l’Église 3 bte 2\n1000 Bruxelles",
        "Ledger — Dœuvre",
        "Page 1 / 1",
        "Made with KoproGo on 01/02/2027",
    ):
        assert expected in first


def test_a_foreign_address_ends_with_the_country_in_capitals():
    abroad = Recipient("Jean Martin", Address("12 rue de Rivoli", "75001", "Paris", "FR"))
    assert abroad.lines("nl")[-1] == "FRANKRIJK"
    assert abroad.lines("fr")[-1] == "FRANCE"
    assert Recipient("A", Address("Rue 1", "1000", "Bruxelles")).lines("fr") == [
        "A",
        "Rue 1",
        "1000 Bruxelles",
    ]


def test_metadata_title_author_language_and_date():
    data = render(
        [long_table_section(3, kit("nl"))],
        letterhead=letterhead(),
        title="Afrekening 2026",
        subject="Jan Peeters",
        made_on=date(2027, 2, 1),
    )
    pdf = reader(data)
    assert pdf.metadata.title == "Afrekening 2026"
    assert pdf.metadata.author == "KoproGo"
    assert pdf.metadata.subject == "Jan Peeters"
    assert pdf.trailer["/Root"]["/Lang"] == "nl-BE"
    assert pdf.metadata.creation_date.date() == date(2027, 2, 1)


def letter_section(name: str, dated: date) -> Section:
    return Section(**{**vars(long_table_section(2)), "recipient": recipient(name), "dated": dated})


def test_one_letter_is_about_its_recipient_and_many_about_their_association():
    """What the call, statement and convocation renderers share: one letter
    has its recipient as the PDF's subject and its own date; letters
    printed together have the association as subject and the latest date."""
    one = reader(render_letter(letterhead(), letter_section("Jan Peeters", date(2027, 1, 5))))
    assert one.metadata.subject == "Jan Peeters"
    assert one.metadata.creation_date.date() == date(2027, 1, 5)
    names = ["Jan Peeters", "Anne Dubois", "Karl Weber"]
    data = render_letters(
        [
            (letterhead(), letter_section(name, date(2027, 1, day)))
            for name, day in zip(names, [5, 9, 7], strict=True)
        ]
    )
    many = reader(data)
    assert many.metadata.subject == letterhead().association.name
    assert many.metadata.creation_date.date() == date(2027, 1, 9)
    pages = pages_text(data)
    assert len(pages) == 3
    assert [[name in page for name in names] for page in pages] == [
        [True, False, False],
        [False, True, False],
        [False, False, True],
    ]
    with pytest.raises(InputError, match="nothing to print"):
        render_letters([])


def test_the_same_input_gives_the_same_bytes():
    """In another process too, whose string hashing differs."""
    other = elsewhere(
        "import sys; from tests.test_pdf_layout import render_one; "
        "sys.stdout.buffer.write(render_one())"
    )
    assert render_one() == other


def test_a_long_table_breaks_with_its_header_repeated_and_pages_counted():
    pages = pages_text(render_one(rows=150))
    assert len(pages) >= 3
    for number, text in enumerate(pages, start=1):
        assert "Item\nDate\nAmount" in text.replace(" Date", "Date").replace(" Amount", "Amount")
        assert f"Page {number} / {len(pages)}" in text
    assert "Item 149" in pages[-1]
    assert "Total" in pages[-1]
    # later pages carry the running header, not the letterhead
    assert "ACP Résidence Les Tilleuls" in pages[1]
    assert "Enterprise number" not in pages[1]


def test_pages_are_counted_per_section():
    sections = [long_table_section(150), long_table_section(3, title="Short one")]
    pages = pages_text(
        render(sections, letterhead=letterhead(), title="Two", made_on=date(2027, 2, 1))
    )
    first_length = len(pages) - 1
    for number, text in enumerate(pages[:-1], start=1):
        assert f"Page {number} / {first_length}" in text
    assert "Short one" in pages[-1]
    assert "Page 1 / 1" in pages[-1]
    assert "Enterprise number" in pages[-1]  # a new section opens with the letterhead


def test_the_frame_text_goes_through_the_sections_translations():
    marked = kit("de", MarkedTranslations("de"))
    first = pages_text(
        render(
            [long_table_section(3, marked)],
            letterhead=letterhead(),
            title="x",
            made_on=date(2027, 2, 1),
        )
    )[0]
    # the messages are formatted after translation: placeholders filled in
    assert "«[de] Page 1 / 1»" in first
    assert "«[de] Enterprise number 0403.170.701»" in first
    assert "«[de] Uccle, 31. Januar 2027»" in first


def test_rows_must_match_the_columns():
    with pytest.raises(ValueError):
        kit().table((Column("A", 1),), [("a", "b")])


def test_nothing_to_print_and_unknown_language_are_refused():
    with pytest.raises(InputError):
        render([], letterhead=letterhead(), title="x", made_on=date(2027, 1, 1))
    with pytest.raises(InputError):
        kit("es")
