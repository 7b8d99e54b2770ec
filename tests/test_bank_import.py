"""Importing CODA statements into the ledger (issue 4, point 6): all or
nothing, payments matched by structured communication, the rest queued for
the syndic, the same statement never twice."""

from __future__ import annotations

from datetime import date

import pytest

from node.domain.accounting.calls import Fund, Schedule
from node.domain.coda import CodaError
from node.errors import InputError
from node.first_run import create_demo
from node.services.ledger import InvoiceLine
from tests.coda_gen import Break, break_coda, movement, statement, write_coda
from tests.helpers import PASSPHRASE

ON = date(2027, 2, 10)


@pytest.fixture
def demo(tmp_path):
    session = create_demo(tmp_path / "demo", lambda _c: PASSPHRASE)
    session.ledger.generate_calls(
        2027, Fund.WORKING, Schedule.ONCE, amount=1_000_000, once_on=date(2027, 2, 1)
    )
    yield session
    session.close()


def shares(session):
    return session.ledger.calls(2027)["2027-working-01"]["shares"]


def of_distinct_owners(all_shares, n):
    """The first ``n`` shares of ``n`` different owners (an owner of several
    lots has several shares, in an order that follows random ids)."""
    chosen: dict[str, dict] = {}
    for share in all_shares:
        chosen.setdefault(share["person"], share)
    assert len(chosen) >= n
    return list(chosen.values())[:n]


def test_payments_are_matched_by_structured_communication(demo):
    # three owners: the first's balance below must owe nothing to the others' payments
    first, second, third = of_distinct_owners(shares(demo), 3)
    data = write_coda(
        [
            statement(
                [
                    movement(
                        1, first["amount"], reference=first["reference"], on=ON, name="LAMBERT"
                    ),
                    movement(
                        2, second["amount"] - 1_000, reference=second["reference"], on=ON
                    ),  # partial
                    movement(3, third["amount"] + 500, reference=third["reference"], on=ON),  # over
                    movement(4, 12_345, communication="loyer parking", on=ON, name="DUPONT"),
                    movement(5, -2_500, communication="frais bancaires", on=ON),
                ],
                old_date=ON,
                new_date=ON,
            )
        ]
    ).encode("latin-1")

    report = demo.bank.import_coda(data)

    assert (report.statements, report.movements, report.matched, report.queued) == (1, 5, 3, 2)
    balances = demo.ledger.owner_balances(2027)
    assert (
        balances[first["person"]]
        == sum(s["amount"] for s in shares(demo) if s["person"] == first["person"])
        - first["amount"]
    )
    view = demo.ledger.view(2027)
    assert view.is_balanced()
    assert (
        view.balance("550")
        == first["amount"] + second["amount"] - 1_000 + third["amount"] + 500 + 12_345 - 2_500
    )
    assert view.balance("499") == -12_345 + 2_500  # the two movements waiting for the syndic
    assert [q["amount"] for q in demo.bank.queue()] == [12_345, -2_500]


def test_the_syndic_resolves_the_queue(demo):
    invoice = demo.ledger.add_invoice(
        "Kone", "F9", date(2027, 2, 2), None, [InvoiceLine("611", 2_500)]
    )
    person = shares(demo)[5]["person"]
    demo.bank.import_coda(
        write_coda(
            [
                statement(
                    [
                        movement(1, 4_000, communication="appel fevrier", on=ON),
                        movement(2, -2_500, communication="KONE F9", on=ON),
                        movement(3, -150, communication="frais", on=ON),
                    ],
                    old_date=ON,
                    new_date=ON,
                )
            ]
        ).encode("latin-1")
    )
    owner, supplier, fees = demo.bank.queue()
    demo.bank.resolve(owner["id"], person=person)
    demo.bank.resolve(supplier["id"], invoice=invoice.record_id)
    demo.bank.resolve(fees["id"], account="650")
    view = demo.ledger.view(2027)
    assert demo.bank.queue() == [] and view.balance("499") == 0
    assert view.balance("4400") == 0 and view.balance("650") == 150
    assert demo.ledger.invoices(2027)[invoice.record_id]["paid_entry"]
    with pytest.raises(InputError, match="already matched"):
        demo.bank.resolve(owner["id"], person=person)


def test_a_statement_is_imported_once(demo):
    data = write_coda([statement([movement(1, 100, on=ON)], old_date=ON, new_date=ON)]).encode(
        "latin-1"
    )
    demo.bank.import_coda(data)
    before = demo.ledger.view(2027).entries
    with pytest.raises(InputError, match="already imported"):
        demo.bank.import_coda(data)
    assert demo.ledger.view(2027).entries == before


def test_a_statement_of_another_account_is_refused(demo):
    data = write_coda(
        [
            statement(
                [movement(1, 100, on=ON)], account="NL91ABNA0417164300", old_date=ON, new_date=ON
            )
        ]
    ).encode("latin-1")
    with pytest.raises(InputError, match="not one of the association's accounts"):
        demo.bank.import_coda(data)
    assert demo.ledger.view(2027).balance("550") == 0


@pytest.mark.parametrize(
    "how", [Break.SHORT_RECORD, Break.BAD_BALANCE, Break.TRUNCATED, Break.WRONG_TOTAL]
)
def test_a_malformed_file_imports_nothing(demo, how):
    good = statement(
        [movement(1, 5_000, communication="x" * 60, name="A", on=ON), movement(2, 7_000, on=ON)],
        old_date=ON,
        new_date=ON,
    )
    broken, line = break_coda(write_coda([good]), how)
    before = demo.ledger.view(2027).entries
    with pytest.raises(CodaError) as refused:
        demo.bank.import_coda(broken.encode("latin-1"))
    assert str(line) in str(refused.value)
    assert demo.ledger.view(2027).entries == before and demo.bank.queue() == []


def test_a_file_with_a_second_statement_already_imported_imports_nothing(demo):
    first = statement([movement(1, 100, on=ON)], number=1, old_date=ON, new_date=ON)
    second = statement(
        [movement(1, 200, on=ON)], number=2, old_balance=100, old_date=ON, new_date=ON
    )
    demo.bank.import_coda(write_coda([second]).encode("latin-1"))
    before = demo.ledger.view(2027).entries
    with pytest.raises(InputError, match="already imported"):
        demo.bank.import_coda(write_coda([first, second]).encode("latin-1"))
    assert demo.ledger.view(2027).entries == before  # the first was not taken either


def _supplier_movement(demo, amount: int, words: str) -> dict:
    demo.bank.import_coda(
        write_coda(
            [
                statement(
                    [movement(1, -amount, communication=words, on=ON)], old_date=ON, new_date=ON
                )
            ]
        ).encode("latin-1")
    )
    return demo.bank.queue()[-1]


def test_an_invoice_paid_or_cancelled_is_not_paid_again(demo):
    """Found by hand: a bank movement could be matched to an invoice already
    paid, and a reversed (cancelled) invoice could be paid: the books then
    showed the supplier paid twice, with no warning."""
    paid = demo.ledger.add_invoice("Kone", "F9", ON, None, [InvoiceLine("611", 2_500)]).record_id
    demo.ledger.pay_invoice(paid, ON)
    item = _supplier_movement(demo, 2_500, "KONE F9")
    with pytest.raises(InputError, match="already paid"):
        demo.bank.resolve(item["id"], invoice=paid)

    cancelled = demo.ledger.add_invoice("Ores", "7", ON, None, [InvoiceLine("612", 900)])
    entry = demo.ledger.invoices(2027)[cancelled.record_id]["entry"]
    demo.ledger.reverse(entry, ON)
    with pytest.raises(InputError, match="cancelled"):
        demo.ledger.pay_invoice(cancelled.record_id, ON)
    with pytest.raises(InputError, match="cancelled"):
        demo.bank.resolve(item["id"], invoice=cancelled.record_id)
    assert demo.bank.queue()[-1]["id"] == item["id"]  # still waiting, nothing posted
    assert demo.ledger.problems(2027) == []


def test_an_invoice_paid_on_two_devices_at_once_is_reported(demo, tmp_path):
    """One device pays the invoice while another matches the bank's
    movement to it; after the merge ``ledger check`` says so."""
    from tests.helpers import exchange_docs, replica_of

    invoice = demo.ledger.add_invoice("Kone", "F9", ON, None, [InvoiceLine("611", 2_500)])
    item = _supplier_movement(demo, 2_500, "KONE F9")
    docs = tuple(ref.doc_id for ref in demo.profile.store.documents())
    other = replica_of(demo, tmp_path / "other", docs=docs)
    try:
        demo.ledger.pay_invoice(invoice.record_id, ON)
        other.bank.resolve(item["id"], invoice=invoice.record_id)
        exchange_docs(demo, other, docs)
        for session in (demo, other):
            assert session.ledger.problems(2027) == [
                "Invoice F9 of Kone is paid twice; reverse the payment that is one too many."
            ]
    finally:
        other.close()


def _queued(session, *movements):
    session.bank.import_coda(
        write_coda([statement(list(movements), old_date=ON, new_date=ON)]).encode("latin-1")
    )
    return session.bank.queue()


def _owners_charges(session, account):
    from node.domain.accounting.statements import owners_in

    return {
        person: sum(
            x.own_share
            for lot in session.documents.charge_statement(person, 2027, "en").lots
            for x in lot.lines
            if x.account == account
        )
        for person in owners_in(session.registry.read())
    }


def test_a_charge_matched_from_the_bank_is_shared_between_the_owners(demo):
    """Found by hand: bank charges and a direct debit matched to charge
    accounts lowered the building's result but reached no owner's
    statement. Split by the quotas, or by the key the syndic names."""
    lift = next(k for k in demo.registry.read().keys if "Lift" in k.name)
    fees, lift_debit, interest = _queued(
        demo,
        movement(1, -1_503, communication="frais", on=ON, name="BANQUE"),
        movement(2, -36_001, communication="KONE domiciliation", on=ON, name="KONE"),
        movement(3, 250, communication="interets", on=ON),
    )
    demo.bank.resolve(fees["id"], account="650")
    demo.bank.resolve(lift_debit["id"], account="611", key=lift.id)
    with pytest.raises(InputError, match="Only a charge"):
        demo.bank.resolve(interest["id"], account="750", key=lift.id)
    demo.bank.resolve(interest["id"], account="750")

    on_650, on_611 = _owners_charges(demo, "650"), _owners_charges(demo, "611")
    assert sum(on_650.values()) == 1_503 and sum(on_611.values()) == 36_001
    owners_of = {o.person_id for o in demo.registry.read().ownerships if lift.weights.get(o.lot_id)}
    assert {p for p, v in on_611.items() if v} <= owners_of  # the lift key, not the quotas
    assert len([v for v in on_650.values() if v]) > len([v for v in on_611.values() if v])
    view = demo.ledger.view(2027)
    assert view.balance("650") == 1_503 and view.balance("611") == 36_001
    assert demo.ledger.problems(2027) == []


def test_a_reversed_match_can_be_matched_again(demo):
    """Found by hand: a payment matched to the wrong owner could be
    reversed, but the movement never came back to be matched again."""
    first, second = of_distinct_owners(shares(demo), 2)
    [item] = _queued(demo, movement(1, 40_000, communication="appel", on=ON))
    wrong = demo.bank.resolve(item["id"], person=first["person"]).record_id
    assert demo.bank.queue() == []
    with pytest.raises(InputError, match="already matched"):
        demo.bank.resolve(item["id"], person=second["person"])
    owed = demo.ledger.owner_balances(2027)
    demo.ledger.reverse(wrong, ON)
    assert [q["id"] for q in demo.bank.queue()] == [item["id"]]
    right = demo.bank.resolve(item["id"], person=second["person"]).record_id
    assert right != wrong and demo.bank.queue() == []
    balances = demo.ledger.owner_balances(2027)
    assert balances[first["person"]] == owed[first["person"]] + 40_000
    assert balances[second["person"]] == owed[second["person"]] - 40_000
    view = demo.ledger.view(2027)
    assert view.balance("499") == 0 and view.is_balanced()
    assert demo.ledger.problems(2027) == []  # no stale "matched differently"


def test_a_reversed_charge_from_the_bank_leaves_the_statements(demo):
    [fees] = _queued(demo, movement(1, -1_503, communication="frais", on=ON))
    entry = demo.bank.resolve(fees["id"], account="650").record_id
    assert sum(_owners_charges(demo, "650").values()) == 1_503
    demo.ledger.reverse(entry, ON)
    assert sum(_owners_charges(demo, "650").values()) == 0
    demo.bank.resolve(fees["id"], account="650")
    assert sum(_owners_charges(demo, "650").values()) == 1_503


def test_a_payment_quoting_a_charge_statement_is_the_owners(demo):
    """Found by hand: the statement says that quoting its structured
    communication lets the payment be matched automatically, and the
    payment waited in the queue."""
    from node.domain.accounting.calls import STATEMENT_CALL_NUMBER, statement_payers
    from node.domain.accounting.statements import owners_in
    from node.domain.payments import call_reference
    from tests.test_pdf_helpers import pages_text

    demo.ledger.add_invoice("Kone", "F1", ON, None, [InvoiceLine("611", 2_000_000)])
    owners = owners_in(demo.registry.read())
    debtor = next(p for p in owners if demo.documents.charge_statement(p, 2027, "en").balance > 0)
    index = statement_payers(demo.ledger.calls(2027), owners)[debtor]
    reference = call_reference(2027, STATEMENT_CALL_NUMBER, index)
    text = "\n".join(pages_text(demo.documents.charge_statement_pdf(debtor, 2027)))
    assert reference in text  # what the owner reads and quotes
    owed = demo.ledger.owner_balances(2027)[debtor]
    report = demo.bank.import_coda(
        write_coda(
            [statement([movement(1, 12_345, reference=reference, on=ON)], old_date=ON, new_date=ON)]
        ).encode("latin-1")
    )
    assert (report.matched, report.queued) == (1, 0) and demo.bank.queue() == []
    assert demo.ledger.owner_balances(2027)[debtor] == owed - 12_345


def test_a_statements_reference_does_not_move_when_an_owner_leaves():
    from node.domain.accounting.calls import statement_payers

    calls = {
        "2027-working-01": {"fund": "working", "shares": [{"person": "B"}, {"person": "D"}]},
        "2027-reserve-51": {"fund": "reserve", "shares": [{"person": "A"}]},
    }
    before = statement_payers(calls, ["A", "B", "C", "D"])
    assert before == {"B": 1, "D": 2, "A": 3, "C": 4}
    after = statement_payers(calls, ["B", "C", "D", "E"])  # A sold to E
    assert {p: after[p] for p in ("B", "D")} == {"B": 1, "D": 2}


def test_a_match_or_a_reversal_cut_off_midway_leaves_nothing_half_done(demo, monkeypatch):
    """A failure between the writes of a match (the disk full, the process
    killed) used to leave the entry posted without its charge's split, or
    a reversal without its movement back in the queue."""
    from node.services.bank import BankService
    from node.services.ledger import LedgerService

    [fees] = _queued(demo, movement(1, -1_503, communication="frais", on=ON))
    before = demo.ledger.view(2027).entries

    def full(*_args, **_kw):  # type: ignore[no-untyped-def]
        raise OSError(28, "No space left on device")

    with monkeypatch.context() as patch:
        patch.setattr(BankService, "_record_charge", full)
        with pytest.raises(OSError, match="No space"):
            demo.bank.resolve(fees["id"], account="650")
    assert demo.ledger.view(2027).entries == before
    assert [q["id"] for q in demo.bank.queue()] == [fees["id"]]
    entry = demo.bank.resolve(fees["id"], account="650").record_id
    assert sum(_owners_charges(demo, "650").values()) == 1_503

    with monkeypatch.context() as patch:
        patch.setattr(LedgerService, "_reopen_movements", full)
        with pytest.raises(OSError, match="No space"):
            demo.ledger.reverse(entry, ON)
    assert not any(e.reverses == entry for e in demo.ledger.view(2027).entries)
    assert demo.bank.queue() == [] and demo.ledger.problems(2027) == []
    demo.ledger.reverse(entry, ON)
    assert [q["id"] for q in demo.bank.queue()] == [fees["id"]]
