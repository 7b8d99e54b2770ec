"""Accounting PDFs made from the ledger, parsed back (issue 4, points 5, 7, 10)."""

from __future__ import annotations

import io
from datetime import date

import pytest
from pypdf import PdfReader

from node.domain.accounting.calls import BudgetKind, Fund, Schedule
from node.domain.payments import format_eur
from node.first_run import create_demo
from node.services.ledger import InvoiceLine
from tests.helpers import PASSPHRASE


def text_of(pdf: bytes) -> str:
    """The PDF's text, with every kind of space written as a plain space."""
    text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)
    return plain(text)


def plain(text: str) -> str:
    return text.replace("\u202f", " ").replace("\xa0", " ")


@pytest.fixture
def demo(tmp_path):
    session = create_demo(tmp_path / "demo", lambda _c: PASSPHRASE)
    session.ledger.set_budget(2027, BudgetKind.ORDINARY, {"611": 2_400_000, "612": 1_600_000})
    session.ledger.generate_calls(2027, Fund.WORKING, Schedule.QUARTERLY)
    yield session
    session.close()


def test_every_owner_gets_a_notice_with_their_amount_and_communication(demo):
    call = demo.ledger.calls(2027)["2027-working-01"]
    notices = demo.documents.call_notices("2027-working-01")
    assert {p for p, _n in notices} == {s["person"] for s in call["shares"]}
    marie = next(p.id for p in demo.registry.read().persons if p.name == "Marie Lambert")
    shares = [s for s in call["shares"] if s["person"] == marie]
    text = text_of(demo.documents.call_notice_pdf("2027-working-01", marie))
    assert shares[0]["reference"] in text.replace(" ", "")
    assert plain(format_eur(sum(s["amount"] for s in shares), "fr")) in text
    assert "BE68 5390 0754 7034" in text
    assert "Marie Lambert" in text and "A1.1" in text and "A6.1" in text


def test_all_notices_of_a_call_in_one_pdf(demo):
    pdf = demo.documents.call_notices_pdf("2027-working-02")
    reader = PdfReader(io.BytesIO(pdf))
    owners = {s["person"] for s in demo.ledger.calls(2027)["2027-working-02"]["shares"]}
    assert len(reader.pages) >= len(owners)


def test_charge_statement_pdf(demo):
    lift = next(k for k in demo.registry.read().keys if "Lift" in k.name)
    demo.ledger.add_invoice(
        "Kone", "1", date(2027, 2, 1), None, [InvoiceLine("611", 333_333, lift.id)]
    )
    demo.ledger.add_invoice("Engie", "2", date(2027, 3, 1), None, [InvoiceLine("612", 777_777)])
    klaus = next(p for p in demo.registry.read().persons if p.name == "Klaus Becker")
    statement = demo.documents.charge_statement(klaus.id, 2027, "de")
    text = text_of(demo.documents.charge_statement_pdf(klaus.id, 2027))
    assert "Klaus Becker" in text and "A3.1" in text and "A7.1" in text
    assert plain(format_eur(statement.charges, "de")) in text


def test_calls_and_statements_reach_each_owners_inbox_in_their_language(demo):
    delivered = demo.documents.deliver_calls(2027)
    owners = {s["person"] for c in demo.ledger.calls(2027).values() for s in c["shares"]}
    assert delivered == 4 * len(owners)
    assert demo.documents.deliver_calls(2027) == delivered  # again: the same items, updated
    klaus = next(p for p in demo.registry.read().persons if p.name == "Klaus Becker")
    items = demo.inbox.items(klaus.id)
    assert [i.kind for i in items] == ["call"] * 4
    assert "+++" in items[0].text and "BE68 5390 0754 7034" in items[0].text
    demo.documents.deliver_statements(2027)
    assert [i.kind for i in demo.inbox.items(klaus.id)].count("statement") == 1


def test_call_titles_are_in_the_owners_language_whatever_the_screens(tmp_path):
    """Found by hand: a call's default title was stored in the syndic's
    screen language, so a German owner's statement listed "Appel de fonds —
    fonds de roulement", and notices showed the internal id as reference."""
    from node import i18n

    session = create_demo(tmp_path / "demo", lambda _c: PASSPHRASE)
    try:
        i18n.set_language("fr")
        session.ledger.set_budget(2027, BudgetKind.ORDINARY, {"611": 2_400_000})
        session.ledger.generate_calls(2027, Fund.WORKING, Schedule.QUARTERLY)
        session.ledger.add_invoice(
            "Engie", "2", date(2027, 3, 1), None, [InvoiceLine("612", 777_777)]
        )
        klaus = next(p for p in session.registry.read().persons if p.name == "Klaus Becker")
        statement = " ".join(
            text_of(session.documents.charge_statement_pdf(klaus.id, 2027)).split()
        )
        notice = " ".join(
            text_of(session.documents.call_notice_pdf("2027-working-01", klaus.id)).split()
        )
    finally:
        i18n.set_language("en")
        session.close()
    assert "Vorschussanforderung — Betriebsmittelfonds — Nr. 1" in statement
    assert "Appel de fonds" not in statement
    assert "Vorschussanforderung — Betriebsmittelfonds — Nr. 1" in notice
    assert "2027-working-01" not in notice
