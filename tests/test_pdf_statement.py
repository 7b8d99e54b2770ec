"""The statement of charges: expenses by lot, key and account, the calls
paid, and the balance — due (with a payment QR code) or in the owner's
favour."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest

from node.errors import InputError
from node.pdf.charge_statement import (
    CallPaid,
    ChargeStatement,
    ExpenseLine,
    KeyCharges,
    LotCharges,
    charge_statement_section,
    render_charge_statement,
    render_charge_statements,
)
from node.pdf.epc_qr import epc_payload
from tests.test_pdf_helpers import (
    MarkedTranslations,
    decode_qr_in_pdf,
    letterhead,
    pages_text,
    payment,
    qr_tools,  # noqa: F401 (fixture)
    reader,
    recipient,
)

GENERAL = KeyCharges(
    245,
    10_000,
    (
        ExpenseLine("6100", "Électricité des communs", 412_350, 10_103),
        ExpenseLine("6120", "Assurance incendie", 326_712, 8_004),
    ),
)
HEATING = KeyCharges(
    820, 12_000, (ExpenseLine("6140", "Chauffage (gaz)", 1_823_400, 124_599),), "Chauffage"
)


def statement(language: str = "fr", **changes: object) -> ChargeStatement:
    """Lot A3 (general key and heating) and cellar C12 (part of the year):
    charges 1 427,06 € + 6,19 € = 1 433,25 €; calls paid 1 200,00 €;
    balance due 233,25 €."""
    values: dict[str, object] = {
        "letterhead": letterhead(),
        "language": language,
        "recipient": recipient(),
        "period_start": date(2026, 1, 1),
        "period_end": date(2026, 12, 31),
        "issued_on": date(2027, 3, 20),
        "lots": (
            LotCharges("A3", (GENERAL, HEATING)),
            LotCharges(
                "C12",
                (
                    KeyCharges(
                        15, 10_000, (ExpenseLine("6100", "Électricité des communs", 412_350, 619),)
                    ),
                ),
                held_from=date(2026, 3, 1),
            ),
        ),
        "calls": (
            CallPaid("Provision T1 2026", 40_000, 40_000, date(2026, 1, 15)),
            CallPaid("Provision T2 2026", 40_000, 40_000, date(2026, 4, 15)),
            CallPaid("Provision T3 2026", 40_000, 40_000, date(2026, 7, 15)),
        ),
        "payment": payment("+++012/3456/78939+++"),
        "due_date": date(2027, 4, 20),
        "period_label": "exercice 2026",
    }
    values.update(changes)
    return ChargeStatement(**values)  # type: ignore[arg-type]


def test_the_balance_is_the_share_of_expenses_minus_what_was_paid():
    s = statement()
    assert s.charges_cents == 10_103 + 8_004 + 124_599 + 619 == 143_325
    assert s.called_cents == s.paid_cents == 120_000
    assert s.balance_cents == 23_325


def test_what_the_owner_reads():
    text = "\n".join(pages_text(render_charge_statement(statement())))
    for expected in (
        "Décompte de charges — exercice 2026",
        "Madame Françoise Dœuvre-Müller",
        "Lot A3",
        "Quotes-parts générales — poids du lot 245 / 10 000 (2,45 %)",
        "6100\nÉlectricité des communs\n 4 123,50 €\n 245 / 10 000\n 101,03 €",
        "Chauffage — poids du lot 820 / 12 000 (6,83 %)",
        "6140\nChauffage (gaz)\n 18 234,00 €\n 820 / 12 000\n 1 245,99 €",
        "Charges du lot A3 : 1 427,06 €",
        "Lot C12",
        "Vous détenez ce lot depuis le 1er mars 2026.",
        "Charges du lot C12 : 6,19 €",
        "Provision T3 2026\n 15/07/2026\n 400,00 €\n 400,00 €\n 0,00 €",
        "Votre quote-part des dépenses\n 1 433,25 €",
        "Payé sur les appels de fonds de la période\n 1 200,00 €",
        "Solde à votre charge\n 233,25 €",
        "20 avril 2027",
        "+++012/3456/78939+++",
        "BE68 5390 0754 7034",
    ):
        assert expected in text


@pytest.mark.usefixtures("qr_tools")
def test_a_balance_due_comes_with_a_qr_code_for_exactly_that_balance(tmp_path: Path):
    s = statement()
    data = render_charge_statement(s)
    last_page = len(reader(data).pages)
    decoded = decode_qr_in_pdf(data, tmp_path, page=last_page)
    assert decoded == epc_payload(s.payment.transfer(23_325))
    assert "\nEUR233.25\n" in decoded
    assert decoded.endswith("\n012345678939")


def test_a_balance_in_the_owners_favour_has_no_payment_block():
    generous = statement(
        "en", calls=(CallPaid("Advances 2026", 200_000, 200_000),), payment=None, due_date=None
    )
    assert generous.balance_cents == -56_675
    text = "\n".join(pages_text(render_charge_statement(generous)))
    assert "Balance in your favour\n €566.75" in text
    assert "will be refunded to you" in text
    assert "Structured communication" not in text


@pytest.mark.usefixtures("qr_tools")
def test_what_was_owed_when_the_period_opened_is_part_of_the_balance(tmp_path: Path):
    """Found by hand: a statement that ignored last year's debt told an owner
    owing €1,740 that €180 was in their favour."""
    owing = statement("en", brought_forward_cents=174_000)
    assert owing.balance_cents == 174_000 + 23_325
    data = render_charge_statement(owing)
    text = "\n".join(pages_text(data))
    assert "Due by you from earlier periods\n €1,740.00" in text
    assert "Balance due by you\n €1,973.25" in text
    decoded = decode_qr_in_pdf(data, tmp_path, page=len(reader(data).pages))
    assert decoded == epc_payload(owing.payment.transfer(197_325))
    ahead = statement("en", brought_forward_cents=-30_000)
    text = "\n".join(pages_text(render_charge_statement(ahead)))
    assert "In your favour from earlier periods\n €300.00" in text
    assert "Balance in your favour\n €66.75" in text


@pytest.mark.parametrize(
    ("language", "balance", "held"),
    [
        ("fr", "233,25 €", "1er mars 2026"),
        ("nl", "€ 233,25", "1 maart 2026"),
        ("de", "233,25 €", "1. März 2026"),
        ("en", "€233.25", "1 March 2026"),
    ],
)
def test_amounts_and_dates_follow_the_owners_language(language: str, balance: str, held: str):
    data = render_charge_statement(statement(language))
    text = "\n".join(pages_text(data))
    assert balance in text
    assert held in text
    assert reader(data).trailer["/Root"]["/Lang"].startswith(language)


@pytest.mark.parametrize("language", ["fr", "nl", "de", "en"])
def test_the_title_is_written_by_the_owners_translations(language: str):
    data = render_charge_statement(statement(language), translate=MarkedTranslations)
    title = f"«[{language}] Statement of charges — {{period}}»".format(period="exercice 2026")
    assert title in pages_text(data)[0]
    assert reader(data).metadata.title == title


def test_a_long_statement_repeats_its_table_headers():
    many = KeyCharges(
        120,
        1_000,
        tuple(ExpenseLine(f"61{i:02d}", f"Dépense {i}", 10_000 + i, 1_200 + i) for i in range(90)),
    )
    pages = pages_text(render_charge_statement(statement(lots=(LotCharges("A3", (many,)),))))
    assert len(pages) >= 3
    for number, text in enumerate(pages, start=1):
        assert f"Page {number} / {len(pages)}" in text
    with_expenses = [t for t in pages if "Dépense" in t]
    assert len(with_expenses) >= 2
    for text in with_expenses:
        assert "Compte\nDépense\n Total de\nl’immeuble\n Poids du lot\n Votre\nquote-part" in text


def test_statements_printed_together_are_numbered_one_by_one():
    second = statement("nl", recipient=recipient("Jan Peeters"))
    pages = pages_text(render_charge_statements([statement(), second]))
    assert any("Jan Peeters" in p and "Pagina 1 /" in p for p in pages)  # the Dutch one
    assert sum(("Page 1 /" in p or "Pagina 1 /" in p) for p in pages) == 2


def test_the_details_beside_the_address():
    section = charge_statement_section(statement("en", reference="DC 2026"))
    assert section.details == (
        ("Reference", "DC 2026"),
        ("Period", "01/01/2026 – 31/12/2026"),
        ("Lots", "A3, C12"),
    )


@pytest.mark.parametrize(
    ("make", "words"),
    [
        (lambda: statement(lots=()), "at least one lot"),
        (lambda: statement(due_date=None), "due date"),
        (lambda: statement(period_end=date(2025, 1, 1)), "ends before it starts"),
        (lambda: KeyCharges(5, 4, ()), "weight of a lot"),
        (lambda: ExpenseLine("6100", "x", 1.5, 1), "whole cents"),  # type: ignore[arg-type]
        (lambda: CallPaid("T1", 100, None), "whole cents"),  # type: ignore[arg-type]
        (lambda: LotCharges(" ", ()), "needs a number"),
        (lambda: statement(language="it"), "language"),
    ],
)
def test_bad_input_is_refused_in_words(make, words: str):
    with pytest.raises(InputError, match=words):
        make()


def test_statements_of_two_associations_are_not_printed_together():
    s = statement()
    other = replace(
        s,
        letterhead=replace(
            s.letterhead, association=replace(s.letterhead.association, name="VME Ander")
        ),
    )
    with pytest.raises(InputError, match="one association"):
        render_charge_statements([s, other])
