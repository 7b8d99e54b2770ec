"""The call-for-funds notice: what an owner reads on it, in the owner's
language, and a QR code that pays exactly the total with the structured
communication."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest

from node.errors import InputError
from node.pdf.call_for_funds import (
    Fund,
    NoticeLine,
    call_notice_section,
    render_call_notice,
    render_call_notices,
)
from node.pdf.epc_qr import epc_payload
from node.pdf.payment import PaymentDetails
from tests.test_pdf_helpers import (
    IBAN,
    MarkedTranslations,
    decode_qr_in_pdf,
    notice,
    pages_text,
    qr_tools,  # noqa: F401 (fixture)
    reader,
    recipient,
)


def test_what_the_owner_reads():
    (page,) = pages_text(render_call_notice(notice()))
    for expected in (
        "Madame Françoise Dœuvre-Müller\nRue de l’Église 3 bte 2\n1000 Bruxelles",
        "ACP Résidence Les Tilleuls",
        "0403.170.701",
        "A3\nQuotes-parts générales\n 945 / 10 000\n 9,45 %\n 1 234,56 €",
        "C12\nAscenseur\n 53 / 10 000\n 0,53 %\n 65,44 €",
        "Total\n 1 300,00 €",
        "15 avril 2027",  # due date, in French
        "BE68 5390 0754 7034",
        "GKCCBEBB",
        "+++123/4567/89002+++",
        "Page 1 / 1",
    ):
        assert expected in page


@pytest.mark.parametrize(
    ("language", "total", "due", "lang_tag"),
    [
        ("fr", "1 300,00 €", "15 avril 2027", "fr-BE"),
        ("nl", "€ 1.300,00", "15 april 2027", "nl-BE"),
        ("de", "1.300,00 €", "15. April 2027", "de-BE"),
        ("en", "€1,300.00", "15 April 2027", "en-GB"),
    ],
)
def test_amounts_and_dates_follow_the_owners_language(
    language: str, total: str, due: str, lang_tag: str
):
    data = render_call_notice(notice(language))
    text = "\n".join(pages_text(data))
    assert total in text
    assert due in text
    assert reader(data).trailer["/Root"]["/Lang"] == lang_tag


@pytest.mark.parametrize("language", ["fr", "nl", "de", "en"])
def test_the_title_is_written_by_the_owners_translations(language: str):
    data = render_call_notice(notice(language), translate=MarkedTranslations)
    fund = f"«[{language}] working fund»"
    title = f"«[{language}] Call for funds — {fund} — 2e trimestre 2027»"
    (page,) = pages_text(data)
    assert title in page
    assert reader(data).metadata.title == title


def test_the_english_title_and_period_from_dates():
    data = render_call_notice(notice("en", period_label=""))
    title = "Call for funds — working fund — from 1 April 2027 to 30 June 2027"
    assert title in pages_text(data)[0]
    assert reader(data).metadata.title == title


def test_reserve_fund_title_and_legal_line():
    text = pages_text(render_call_notice(notice("en", fund=Fund.RESERVE)))[0]
    assert "Call for funds — reserve fund — 2e trimestre 2027" in text
    assert "Reserve fund (Civil Code, art. 3.86 §3)" in text
    assert "Working fund (Civil Code" not in text


@pytest.mark.usefixtures("qr_tools")
def test_the_qr_code_pays_the_total_with_the_structured_communication(tmp_path: Path):
    the_notice = notice()
    decoded = decode_qr_in_pdf(render_call_notice(the_notice), tmp_path)
    assert decoded == epc_payload(the_notice.payment.transfer(130_000))
    assert decoded == (
        "BCD\n002\n1\nSCT\nGKCCBEBB\nACP Résidence Les Tilleuls\nBE68539007547034\n"
        "EUR1300.00\n\n123456789002"
    )


def sixty_lots() -> tuple[NoticeLine, ...]:
    return tuple(NoticeLine(f"P{i:02d}", 10 + i, 10_000, 1_000 + i) for i in range(60))


def test_sixty_lots_run_over_pages_with_headers_and_page_numbers():
    pages = pages_text(render_call_notice(notice("en", lines=sixty_lots())))
    count = len(pages)
    assert count >= 2
    for number, text in enumerate(pages, start=1):
        assert f"Page {number} / {count}" in text
    with_rows = [text for text in pages if "P" in text and "General quotas" in text]
    assert len(with_rows) >= 2
    for text in with_rows:
        assert "Lot\nDistribution key\n Weight\n Share\n Amount" in text
    everything = "\n".join(pages)
    assert all(f"P{i:02d}\n" in everything for i in range(60))
    assert "Total\n €617.70" in everything  # 60 × 10.00 + (0 + … + 59) cents
    assert "+++123/4567/89002+++" in everything


def test_many_lots_are_summed_up_beside_the_address():
    text = pages_text(render_call_notice(notice("en", lines=sixty_lots())))[0]
    assert "Lots\n60 lots" in text


def test_notices_printed_together_are_numbered_notice_by_notice():
    long_one = notice("fr", lines=sixty_lots())
    short_one = notice(
        "nl",
        recipient=recipient("Jan Peeters"),
        payment=PaymentDetails(IBAN, "VME Residentie De Linde", "+++012/3456/78939+++"),
    )
    pages = pages_text(render_call_notices([long_one, short_one]))
    first_count = len(pages) - 1
    for number, text in enumerate(pages[:-1], start=1):
        assert f"Page {number} / {first_count}" in text
        assert "Madame Françoise Dœuvre-Müller" in text
    last = pages[-1]
    assert "Pagina 1 / 1" in last  # the Dutch notice
    assert "Jan Peeters" in last
    assert "+++012/3456/78939+++" in last
    assert "€ 1.300,00" in last


def test_notices_of_two_associations_are_not_printed_together():
    other = notice()
    other = replace(
        other,
        letterhead=replace(
            other.letterhead, association=replace(other.letterhead.association, name="ACP Autre")
        ),
    )
    with pytest.raises(InputError, match="one association"):
        render_call_notices([notice(), other])


def test_the_section_gives_the_owner_details():
    section = call_notice_section(notice("en"))
    assert section.details == (
        ("Reference", "AF 2027/2"),
        ("Lots", "A3, C12"),
        ("Due date", "15 April 2027"),
    )
    assert section.footer == "Madame Françoise Dœuvre-Müller"


@pytest.mark.parametrize(
    ("make", "words"),
    [
        (lambda: PaymentDetails("BE68 5390 0754 7035", "ACP", "+++123/4567/89002+++"), "IBAN"),
        (lambda: PaymentDetails(IBAN, "ACP", "+++123/4567/89003+++"), "structured communication"),
        (lambda: PaymentDetails(IBAN, " ", "+++123/4567/89002+++"), "beneficiary"),
        (lambda: PaymentDetails(IBAN, "ACP", "+++123/4567/89002+++", bic="XX"), "BIC"),
        (lambda: NoticeLine("A3", 11, 10, 100), "weight of lot A3"),
        (lambda: NoticeLine("A3", 1, 10, -1), "amount of lot A3"),
        (lambda: notice(lines=()), "at least one lot"),
        (lambda: notice(lines=(NoticeLine("A3", 1, 10, 0),)), "above zero"),
        (lambda: notice(language="es"), "language"),
        (lambda: notice(period_end=date(2027, 3, 1)), "ends before it starts"),
    ],
)
def test_bad_input_is_refused_in_words(make, words: str):
    with pytest.raises(InputError, match=words):
        make()


def test_a_payment_accepts_the_usual_writings_and_an_unknown_bank_code():
    # DOMAIN §8: bank code 539 is unknown to some registries; only the
    # checksum is checked.
    details = PaymentDetails("be68 5390 0754 7034", "ACP", "***012/3456/78939***")
    assert details.transfer(100).reference == "***012/3456/78939***"
