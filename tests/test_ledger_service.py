"""Accounting through the services, on the demo building (issue 4)."""

from __future__ import annotations

from datetime import date

import pytest
from stdnum.be import ogm_vcs

from node.domain.accounting.calls import BudgetKind, Fund, Schedule
from node.errors import InputError
from node.first_run import create_demo
from node.services.ledger import InvoiceLine
from tests.helpers import PASSPHRASE, clock_at, reopen


@pytest.fixture
def demo(tmp_path):
    session = create_demo(tmp_path / "demo", lambda _c: PASSPHRASE)
    yield session
    session.close()


def lift_key(session):
    return next(k for k in session.registry.read().keys if "Lift" in k.name)


def test_an_invoice_is_split_by_its_key_to_the_cent(demo):
    lift = lift_key(demo)
    change = demo.ledger.add_invoice(
        "Kone SA",
        "F-2027-118",
        date(2027, 3, 3),
        date(2027, 4, 2),
        [
            InvoiceLine("611", 123_457, lift.id, "Entretien ascenseur"),
            InvoiceLine("612", 45_678, "general", "Électricité"),
        ],
    )
    invoice = demo.ledger.invoices(2027)[change.record_id]
    lift_part, general_part = demo.ledger.allocation(change.record_id)
    assert invoice["lines"][0]["weights"] != invoice["lines"][1]["weights"]  # two keys
    assert sum(lift_part.values()) == 123_457 and set(lift_part) <= set(lift.weights)
    assert sum(general_part.values()) == 45_678 and len(general_part) == 24
    view = demo.ledger.view(2027)
    assert view.is_balanced() and view.balance("4400") == -(123_457 + 45_678)
    demo.ledger.pay_invoice(change.record_id, date(2027, 4, 1))
    assert demo.ledger.view(2027).balance("4400") == 0
    with pytest.raises(InputError, match="already paid"):
        demo.ledger.pay_invoice(change.record_id, date(2027, 4, 2))


def test_invoice_lines_go_to_charge_accounts(demo):
    with pytest.raises(InputError, match="charge accounts"):
        demo.ledger.add_invoice("X", "1", date(2027, 1, 1), None, [InvoiceLine("700", 100)])
    assert demo.ledger.view(2027).entries == ()


def test_quarterly_calls_from_the_budget(demo):
    demo.ledger.set_budget(2027, BudgetKind.ORDINARY, {"611": 2_400_000, "612": 1_600_001})
    made = demo.ledger.generate_calls(2027, Fund.WORKING, Schedule.QUARTERLY)
    assert made == [f"2027-working-0{n}" for n in (1, 2, 3, 4)]
    calls = demo.ledger.calls(2027)
    assert sum(c["amount"] for c in calls.values()) == 4_000_001
    first = calls["2027-working-01"]
    assert sum(s["amount"] for s in first["shares"]) == first["amount"] == 1_000_001
    by_person = {}
    for share in first["shares"]:
        by_person.setdefault(share["person"], set()).add(share["reference"])
    assert all(len(refs) == 1 for refs in by_person.values())  # one transfer per owner
    refs = [next(iter(r)) for r in by_person.values()]
    assert len(set(refs)) == len(refs)  # and a different one for each owner
    assert all(ogm_vcs.is_valid(r) for r in refs)
    # the usufructuary of A2.3 pays the working fund, not the bare owners
    a23 = demo.registry.find_lot("A2.3").id
    payers = {s["person"] for s in first["shares"] if s["lot"] == a23}
    assert [demo.registry.find_person(p).name for p in payers] == ["Hélène Verstraete"]
    view = demo.ledger.view(2027)
    assert view.is_balanced() and view.balance("700") == -4_000_001
    assert sum(view.owner_balances().values()) == 4_000_001
    # generating again changes nothing (and on another device would write the same ids)
    assert demo.ledger.generate_calls(2027, Fund.WORKING, Schedule.QUARTERLY) == []
    assert len(demo.ledger.view(2027).entries) == 4


def test_payments_partial_and_over_are_kept_per_owner(demo):
    demo.ledger.generate_calls(
        2027, Fund.RESERVE, Schedule.ONCE, amount=1_000_000, once_on=date(2027, 2, 1)
    )
    call = demo.ledger.calls(2027)["2027-reserve-01"]
    person = call["shares"][0]["person"]
    due = sum(s["amount"] for s in call["shares"] if s["person"] == person)
    share = {"amount": due}  # what this owner owes for all their lots
    demo.ledger.record_payment(
        person, share["amount"] - 100, date(2027, 2, 10), "CODA-1", Fund.RESERVE
    )
    assert demo.ledger.owner_balances(2027)[person] == 100  # still owes one euro
    demo.ledger.record_payment(person, 500, date(2027, 2, 11), "CODA-2", Fund.RESERVE)
    assert demo.ledger.owner_balances(2027)[person] == -400  # paid four euros in advance
    view = demo.ledger.view(2027)
    assert view.is_balanced() and view.balance("551") == share["amount"] + 400


def test_closing_a_year_freezes_it_and_opens_the_next(demo, tmp_path, monkeypatch):
    clock_at(monkeypatch, date(2028, 1, 15))
    demo.ledger.set_budget(2027, BudgetKind.ORDINARY, {"611": 100_000})
    demo.ledger.generate_calls(2027, Fund.WORKING, Schedule.ONCE, once_on=date(2027, 1, 10))
    demo.ledger.add_invoice("Kone", "1", date(2027, 5, 1), None, [InvoiceLine("611", 80_000)])
    owed = demo.ledger.owner_balances(2027)
    settled = demo.documents.regularisations(2027)
    assert sum(settled.values()) == 80_000 - 100_000  # the surplus, owner by owner
    demo.ledger.close_year(2027)
    assert demo.ledger.year(2027).closed
    with pytest.raises(InputError, match="closed"):
        demo.ledger.add_invoice("Kone", "2", date(2027, 6, 1), None, [InvoiceLine("611", 1)])
    # each owner's statement settled on their account, then carried owner by owner
    carried = {p: owed.get(p, 0) + settled.get(p, 0) for p in set(owed) | set(settled)}
    assert demo.ledger.view(2028).owner_balances() == {p: v for p, v in carried.items() if v}
    assert demo.ledger.view(2028).balance("140") == 0  # nothing left over: all was shared
    assert demo.ledger.view(2028).is_balanced()
    demo.close()
    again = reopen(tmp_path / "demo")
    assert again.ledger.year(2027).closed and again.ledger.years() == [2027, 2028]
    again.close()


def test_a_correction_is_a_reversal(demo):
    change = demo.ledger.add_invoice(
        "Ores", "9", date(2027, 2, 1), None, [InvoiceLine("612", 5_000)]
    )
    entry_id = demo.ledger.invoices(2027)[change.record_id]["entry"]
    demo.ledger.reverse(entry_id, date(2027, 2, 2))
    view = demo.ledger.view(2027)
    assert view.balance("612") == 0 and len(view.entries) == 2
    with pytest.raises(InputError, match="already reversed"):
        demo.ledger.reverse(entry_id, date(2027, 2, 3))


def test_a_reversed_payment_leaves_the_invoice_unpaid_and_payable_again(demo):
    invoice = demo.ledger.add_invoice(
        "Ores", "10", date(2027, 2, 1), None, [InvoiceLine("612", 5_000)]
    ).record_id
    paid = demo.ledger.pay_invoice(invoice, date(2027, 2, 5)).record_id
    assert demo.ledger.invoices(2027)[invoice]["paid_entry"] == paid
    demo.ledger.reverse(paid, date(2027, 2, 6))
    assert not demo.ledger.invoices(2027)[invoice]["paid_entry"]
    again = demo.ledger.pay_invoice(invoice, date(2027, 2, 7)).record_id
    assert again != paid and demo.ledger.invoices(2027)[invoice]["paid_entry"] == again
    assert demo.ledger.view(2027).balance("440") == 0  # paid once, in the end


def test_charge_statements_share_out_every_cent_of_the_year(demo):
    from node.domain.accounting.statements import (
        balance_sheet,
        budget_versus_actual,
        charge_statement,
        income_statement,
        owners_in,
        year_charges,
    )

    lift = lift_key(demo)
    demo.ledger.set_budget(2027, BudgetKind.ORDINARY, {"611": 1_000_000, "612": 500_000})
    demo.ledger.generate_calls(2027, Fund.WORKING, Schedule.QUARTERLY)
    demo.ledger.add_invoice(
        "Kone", "1", date(2027, 2, 1), None, [InvoiceLine("611", 333_333, lift.id)]
    )
    demo.ledger.add_invoice(
        "Engie", "2", date(2027, 3, 1), None, [InvoiceLine("612", 777_777, "general")]
    )
    cancelled = demo.ledger.add_invoice(
        "Engie", "3", date(2027, 3, 2), None, [InvoiceLine("612", 50_000, "general")]
    )
    demo.ledger.reverse(demo.ledger.invoices(2027)[cancelled.record_id]["entry"], date(2027, 3, 3))
    view = demo.ledger.view(2027)
    registry = demo.registry.read()
    invoices, calls = demo.ledger.invoices(2027), demo.ledger.calls(2027)
    index = year_charges(view, invoices, calls, demo.ledger.weights(2027))
    statements = [
        charge_statement(p, 2027, view, registry, invoices, calls, "fr", index)
        for p in owners_in(registry)
    ]
    assert sum(s.charges for s in statements) == 333_333 + 777_777  # every cent, once
    assert sum(s.provisions for s in statements) == 1_500_000
    marie = next(s for s in statements if s.name == "Marie Lambert")
    assert marie.regularisation == marie.charges - marie.provisions
    assert {lot.number for lot in marie.lots} == {"A1.1", "A6.1"}
    # the bare owners of A2.3 bear none of the running costs; their mother does
    thomas = next(s for s in statements if s.name == "Thomas Verstraete")
    assert thomas.charges == 0 and thomas.lots == ()
    income = income_statement(view, "fr")
    assert income.total_charges == 333_333 + 777_777
    assert income.total_income == 1_500_000
    sheet = balance_sheet(view, "nl")
    assert sheet.total_assets == sheet.total_liabilities
    rows = {
        r.account: r for r in budget_versus_actual(view, {"611": 1_000_000, "612": 500_000}, "de")
    }
    assert rows["612"].actual == 777_777 and rows["612"].difference == 277_777
    assert rows["611"].label == "Instandhaltung und Reparaturen"


def test_reserve_fund_minimum_from_last_years_charges(demo, monkeypatch):
    clock_at(monkeypatch, date(2028, 1, 15))
    demo.ledger.add_invoice("Kone", "1", date(2026, 5, 1), None, [InvoiceLine("611", 3_000_000)])
    demo.ledger.add_invoice("Bureau", "2", date(2026, 6, 1), None, [InvoiceLine("613", 1_000_000)])
    demo.ledger.add_invoice("Ville", "3", date(2026, 7, 1), None, [InvoiceLine("660", 500_000)])
    demo.ledger.close_year(2026)
    assert demo.ledger.previous_ordinary_charges(2027) == (4_000_000, "previous-year")
    demo.ledger.generate_calls(2027, Fund.RESERVE, Schedule.QUARTERLY, amount=199_996)
    check, _basis = demo.ledger.reserve_fund_check(2027)
    # the demo's common parts were accepted on 2019-06-14: the grace ends in 2024
    assert (check.minimum, check.planned, check.required, check.ok) == (
        200_000,
        199_996,
        True,
        False,
    )
    demo.ledger.record_reserve_waiver(2027, "AG 2027-03-12, point 7 (4/5)")
    check, _basis = demo.ledger.reserve_fund_check(2027)
    assert (check.ok, check.reason) == (True, "waived")


def test_the_simplified_presentation_for_small_buildings(tmp_path):
    from node.domain.accounting.statements import simplified_report
    from node.domain.registry import Association, LotType
    from node.session import Session

    session = Session.create(tmp_path / "small", lambda _c: PASSPHRASE)
    session.registry.create_building(Association("ACP Petit", 1000))
    session.registry.add_lot("1", LotType.APARTMENT, 600)
    session.registry.add_lot("2", LotType.APARTMENT, 400)
    ann = session.registry.add_person("Ann").record_id
    bob = session.registry.add_person("Bob").record_id
    session.registry.set_owner("1", ann, 10_000, voting=True)
    session.registry.set_owner("2", bob, 10_000, voting=True)
    assert session.registry.facts().full_accounting_mandatory is False
    session.ledger.generate_calls(
        2027, Fund.WORKING, Schedule.ONCE, amount=100_000, once_on=date(2027, 1, 15)
    )
    session.ledger.record_payment(ann, 70_000, date(2027, 1, 20), "virement")
    session.ledger.record_payment(bob, 45_000, date(2027, 1, 21), "virement")
    session.ledger.add_invoice("Ores", "1", date(2027, 2, 1), None, [InvoiceLine("612", 30_000)])
    report = simplified_report(session.ledger.view(2027))
    assert (report.income, report.expenses, report.cash) == (100_000, 30_000, 115_000)
    assert (report.owners_owe, report.owners_advance, report.debts) == (0, 15_000, 30_000)
    assert report.working_fund == 70_000  # called and not yet spent
    session.close()


def test_a_duplicate_invoice_cancelled_by_its_reversal_is_no_longer_reported(demo, tmp_path):
    """Found by hand: ``ledger check`` kept saying "recorded twice" after the
    duplicate's entry (recorded on two devices at once) was reversed, with
    no way to clear it; and a cancelled invoice could not be recorded again."""
    from tests.helpers import exchange_docs, replica_of

    day, lines = date(2027, 2, 1), [InvoiceLine("612", 5)]
    demo.ledger.add_invoice("Ores", "9", day, None, lines)  # makes the year's document
    docs = tuple(ref.doc_id for ref in demo.profile.store.documents())
    other = replica_of(demo, tmp_path / "other", docs=docs)
    try:
        first = demo.ledger.add_invoice("Ores", "10", day, None, lines)
        again = other.ledger.add_invoice("Ores", "10", day, None, lines)
        exchange_docs(demo, other, docs)
    finally:
        other.close()
    assert demo.ledger.problems(2027) == ["Invoice 10 of Ores is recorded twice."]
    demo.ledger.reverse(demo.ledger.invoices(2027)[again.record_id]["entry"], date(2027, 2, 2))
    assert demo.ledger.problems(2027) == []
    demo.ledger.pay_invoice(first.record_id, date(2027, 2, 3))  # the one kept is payable

    nine = next(i for i, x in demo.ledger.invoices(2027).items() if x["number"] == "9")
    demo.ledger.reverse(demo.ledger.invoices(2027)[nine]["entry"], date(2027, 2, 2))
    demo.ledger.add_invoice("Ores", "9", day, None, [InvoiceLine("612", 6)])  # recorded anew
    assert demo.ledger.problems(2027) == []


def test_entries_that_reach_a_closed_year_are_reported_and_carried(demo, tmp_path, monkeypatch):
    """Found by hand: one device closed 2027 while another recorded an
    owner's payment in it offline; after the sync the next year's opening
    still carried her whole debt, and nothing said so."""
    clock_at(monkeypatch, date(2028, 1, 15))
    from tests.helpers import exchange_docs, replica_of

    demo.ledger.generate_calls(
        2027, Fund.WORKING, Schedule.ONCE, amount=1_000_000, once_on=date(2027, 2, 1)
    )
    share = demo.ledger.calls(2027)["2027-working-01"]["shares"][0]
    person = share["person"]
    docs = tuple(ref.doc_id for ref in demo.profile.store.documents())
    other = replica_of(demo, tmp_path / "other", docs=docs)
    try:
        demo.ledger.close_year(2027)
        other.ledger.record_payment(person, 25_000, date(2027, 5, 5), "late")
        docs = tuple(ref.doc_id for ref in demo.profile.store.documents())
        exchange_docs(demo, other, docs)
    finally:
        other.close()
    owed_2027 = demo.ledger.owner_balances(2027)[person]
    assert owed_2027 == -25_000  # no charge: the calls went back with the statement
    assert demo.ledger.owner_balances(2028).get(person, 0) == owed_2027 + 25_000  # missing
    [problem] = demo.ledger.problems(2027)
    assert problem.startswith("Entries reached 2027 after it was closed")
    demo.ledger.amend_closing(2027)
    assert demo.ledger.problems(2027) == []
    assert demo.ledger.owner_balances(2028)[person] == owed_2027
    assert demo.ledger.view(2028).is_balanced()
    with pytest.raises(InputError, match="Nothing to amend"):
        demo.ledger.amend_closing(2027)


def test_calls_are_not_split_while_a_lots_holders_are_wrong(demo):
    """Found by hand: after a conflicting ownership edit a lot's holders made
    150 %, and the calls charged them 150 % of the lot's share."""
    registry = demo.registry.read()
    lot = registry.lots[0]
    extra = demo.registry.add_person("Sam").record_id
    demo.registry.set_owner(lot.id, extra, 5_000)
    with pytest.raises(InputError, match=f"lot {lot.number}'s holders add up to"):
        demo.ledger.generate_calls(
            2027, Fund.WORKING, Schedule.ONCE, amount=100_000, once_on=date(2027, 2, 1)
        )
    assert demo.ledger.calls(2027) == {}


def test_calls_that_no_longer_match_their_budget_are_reported(demo):
    """Found by hand: two devices set the budget and made the calls offline;
    one device's budget and the other's calls were kept (the working fund
    under-called by 800 €), and 'ledger check' found no problem. Which side
    wins each record is the CRDT's choice, so the check compares what the
    calls were split from with the budget the year holds now."""
    from node.documents import ledger_doc

    demo.ledger.set_budget(2029, BudgetKind.ORDINARY, {"611": 120_000})
    demo.ledger.generate_calls(2029, Fund.WORKING, Schedule.MONTHLY)
    assert demo.ledger.problems(2029) == []
    demo.ledger.set_budget(2029, BudgetKind.ORDINARY, {"611": 200_000})  # as merged in
    assert demo.ledger.problems(2029) == [
        "The working fund's calls of 2029 were split from a budget of €1,200.00, but the "
        "year's ordinary budget is now €2,000.00."
    ]
    # a call whose fields came from two devices (each field merged on its own)
    with demo.document("ledger/2029").edit() as doc:
        ledger_doc.put_record(doc, "calls", "2029-working-01", {"amount": 12_345})
    assert demo.ledger.problems(2029)[0].startswith("Call 2029-working-01 was made differently")


def test_journal_numbers_are_fixed_at_the_closing(demo, tmp_path, monkeypatch):
    """Found by hand: numbers were computed by date when read, so an entry
    arriving from another device, or back-dated, renumbered every later
    entry — even in a closed year. They are provisional until the closing,
    which fixes them; an entry reaching the year later takes the next one."""
    clock_at(monkeypatch, date(2028, 1, 15))
    from node.domain.accounting.ledger import Journal
    from tests.helpers import exchange_docs, replica_of

    def bank(label: int) -> dict[str, str]:
        return {e.reference: n for n, e in demo.ledger.view(label).numbered(Journal.BANK, label)}

    people = sorted({o.person_id for o in demo.registry.read().ownerships})
    demo.ledger.record_payment(people[0], 1_000, date(2027, 3, 1), "march")
    demo.ledger.record_payment(people[1], 1_000, date(2027, 6, 1), "june")
    assert demo.ledger.view(2027).provisional()
    demo.ledger.record_payment(people[2], 1_000, date(2027, 1, 15), "back-dated")
    assert bank(2027) == {  # provisional: by date
        "back-dated": "BQ-2027-0001",
        "march": "BQ-2027-0002",
        "june": "BQ-2027-0003",
    }
    docs = tuple(ref.doc_id for ref in demo.profile.store.documents())
    other = replica_of(demo, tmp_path / "other", docs=docs)
    try:
        demo.ledger.close_year(2027)
        assert not demo.ledger.view(2027).provisional()
        fixed = bank(2027)
        other.ledger.record_payment(people[3], 1_000, date(2027, 2, 1), "late, offline")
        docs = tuple(ref.doc_id for ref in demo.profile.store.documents())
        exchange_docs(demo, other, docs)
    finally:
        other.close()
    numbers = bank(2027)
    assert {k: v for k, v in numbers.items() if k in fixed} == fixed  # nothing renumbered
    assert numbers["late, offline"] == "BQ-2027-0004"  # provisional, after the fixed ones
    assert demo.ledger.view(2027).provisional()
    demo.ledger.amend_closing(2027)
    assert not demo.ledger.view(2027).provisional()
    assert bank(2027) == numbers  # fixed as shown
    listed = [n for n, _e in demo.ledger.view(2027).numbered(Journal.BANK, 2027)]
    assert listed == sorted(listed)  # listed in the order of their numbers


def test_a_journal_number_fixed_twice_is_reported(demo, tmp_path, monkeypatch):
    """Two devices closing the same year at once, each without the other's
    last entry, fix one number for two entries: ``ledger check`` says so."""
    clock_at(monkeypatch, date(2028, 1, 15))
    from tests.helpers import exchange_docs, replica_of

    people = sorted({o.person_id for o in demo.registry.read().ownerships})
    docs = tuple(ref.doc_id for ref in demo.profile.store.documents())
    other = replica_of(demo, tmp_path / "other", docs=docs)
    try:
        demo.ledger.record_payment(people[0], 1_000, date(2027, 3, 1), "here")
        other.ledger.record_payment(people[1], 1_000, date(2027, 3, 2), "there")
        demo.ledger.close_year(2027)
        other.ledger.close_year(2027)
        docs = tuple(ref.doc_id for ref in demo.profile.store.documents())
        exchange_docs(demo, other, docs)
    finally:
        other.close()
    problems = demo.ledger.problems(2027)
    assert any("BQ-2027-0001 was given to two entries" in p for p in problems), problems


def test_a_movement_matched_on_import_and_again_by_hand_is_reported(demo):
    """The state two syndic devices leave after the sync when one matched a
    payment on import and the other, offline without the calls, matched it
    by hand (found by hand: the owner credited twice, ``check`` silent). The
    merge keeps one device's movement entry; when it is the matched one,
    the hand match takes out of the suspense account what never went in."""
    from node.domain.accounting.ledger import Entry, Journal, Line

    owner = demo.registry.read().ownerships[0].person_id
    day = date(2026, 3, 2)
    ledger = demo.ledger
    ledger.post(
        Entry(
            "coda-x-0001",
            day,
            Journal.BANK,
            "CODA 1/1",
            "Paiement",
            (Line("550", debit=54_000), Line("4101", credit=54_000, person=owner)),
            source="coda:x",
        )
    )
    assert not any("booked twice" in p for p in ledger.problems(2026))
    ledger.post(
        Entry(
            "match-coda-x-0001-0",
            day,
            Journal.BANK,
            "coda-x-0001",
            "Matched",
            (Line("499", debit=54_000), Line("4101", credit=54_000, person=owner)),
            source="match:coda-x-0001-0",
        )
    )
    (problem,) = [p for p in ledger.problems(2026) if "booked twice" in p]
    assert problem == (
        "Bank movement coda-x-0001 is booked twice: matched when imported, and again by hand "
        "on another device (match-coda-x-0001-0). Reverse the one too many: ledger reverse "
        "match-coda-x-0001-0"
    )
    ledger.reverse("match-coda-x-0001-0", day)
    assert not any("booked twice" in p for p in ledger.problems(2026))


def test_a_year_is_closed_only_once_it_has_ended(demo, monkeypatch):
    """Found by hand: 2027 closed in November froze it, and December's
    calls and payments could no longer be booked (a closing is final)."""
    demo.ledger.add_invoice("Kone", "1", date(2027, 5, 1), None, [InvoiceLine("611", 80_000)])
    for today in (date(2027, 11, 20), date(2027, 12, 31)):
        clock_at(monkeypatch, today)
        with pytest.raises(
            InputError, match="ends on 31/12/2027; it can be closed from 01/01/2028"
        ):
            demo.ledger.close_year(2027)
        assert not demo.ledger.year(2027).closed and demo.ledger.years() == [2027]
    demo.ledger.add_invoice("Kone", "2", date(2027, 12, 31), None, [InvoiceLine("611", 1_000)])
    clock_at(monkeypatch, date(2028, 1, 1))
    demo.ledger.close_year(2027)
    assert demo.ledger.year(2027).closed
    # no call was made: the owners owe the year's charges, December's too
    assert sum(demo.ledger.owner_balances(2028).values()) == 81_000


def _statements(session, year):
    from node.domain.accounting.statements import owners_in

    owners = owners_in(session.registry.read())
    return {p: session.documents.charge_statement(p, year, "en") for p in owners}


def test_an_invoice_reversed_in_the_next_year_comes_off_that_years_statements(demo, monkeypatch):
    """Found by hand: a duplicate invoice of 2027, found after the year was
    closed and reversed in 2028, lowered the building's charges of 2028 but
    no owner's statement: the owners paid it and were never refunded."""
    lift = lift_key(demo)
    kept = demo.ledger.add_invoice(
        "Kone", "F1", date(2027, 5, 1), None, [InvoiceLine("611", 120_001, lift.id)]
    )
    twice = demo.ledger.add_invoice(
        "Kone SA", "F1", date(2027, 5, 2), None, [InvoiceLine("611", 120_001, lift.id)]
    )
    before = _statements(demo, 2027)
    clock_at(monkeypatch, date(2028, 2, 1))
    demo.ledger.close_year(2027)
    demo.ledger.add_invoice("Ores", "7", date(2028, 3, 1), None, [InvoiceLine("612", 5_000)])
    entry = demo.ledger.invoices(2027)[twice.record_id]["entry"]
    demo.ledger.reverse(entry, date(2028, 3, 2))

    assert _statements(demo, 2027) == before  # the year's statements stand as issued
    assert sum(s.charges for s in before.values()) == 2 * 120_001
    after = _statements(demo, 2028)
    assert sum(s.charges for s in after.values()) == 5_000 - 120_001
    assert sum(s.charges for s in after.values()) == demo.ledger.view(2028).balance("611") + 5_000
    paid_once = {p: s.charges for p, s in before.items()}
    for person, statement in after.items():
        lift_lines = [x for lot in statement.lots for x in lot.lines if x.account == "611"]
        # each owner gets back what the duplicate cost them: half their 2027
        # lift charges (to a few cents per lot: 2027 divided the two together)
        assert abs(2 * sum(x.own_share for x in lift_lines) + paid_once[person]) <= 4 * len(
            statement.lots
        )
        assert (sum(x.own_share for x in lift_lines) < 0) == (paid_once[person] > 0)
    assert kept.record_id in demo.ledger.invoices(2027)


def test_what_an_owner_owed_is_carried_onto_the_next_statement(demo, monkeypatch):
    """Found by hand: an owner who paid nothing in 2027 read on the 2028
    statement a balance in their favour, because the statement ignored what
    was owed when the year opened. The closing now settles each statement
    on the owner's account, and the next statement starts from it."""
    demo.ledger.generate_calls(
        2027, Fund.WORKING, Schedule.ONCE, amount=100_000, once_on=date(2027, 1, 10)
    )
    demo.ledger.add_invoice("Kone", "1", date(2027, 5, 1), None, [InvoiceLine("611", 80_000)])
    shares = demo.ledger.calls(2027)["2027-working-01"]["shares"]
    called: dict[str, int] = {}
    for share in shares:
        called[share["person"]] = called.get(share["person"], 0) + share["amount"]
    debtor, payer = sorted(called)[:2]
    demo.ledger.record_payment(payer, called[payer], date(2027, 2, 1), "paid")
    before = _statements(demo, 2027)
    assert before[debtor].balance == before[debtor].charges > 0  # paid nothing
    assert before[payer].balance == before[payer].charges - called[payer] < 0

    clock_at(monkeypatch, date(2028, 1, 15))
    demo.ledger.close_year(2027)
    assert _statements(demo, 2027) == before  # closing changes no statement of the year
    demo.ledger.generate_calls(
        2028, Fund.WORKING, Schedule.ONCE, amount=100_000, once_on=date(2028, 1, 10)
    )
    demo.ledger.add_invoice("Kone", "2", date(2028, 5, 1), None, [InvoiceLine("611", 50_000)])
    demo.ledger.record_payment(debtor, 10_000, date(2028, 2, 1), "part")
    after = _statements(demo, 2028)
    assert after[debtor].brought_forward == before[debtor].balance
    assert after[debtor].balance == before[debtor].balance + after[debtor].charges - 10_000
    assert after[payer].brought_forward == before[payer].balance < 0  # in their favour
    # the statement's balance is the owner's account once the year is settled
    for person, statement in after.items():
        assert statement.brought_forward == demo.ledger.owner_balances(2028).get(person, 0) - (
            statement.provisions - statement.paid
        )
    assert demo.ledger.problems(2027) == [] and demo.ledger.view(2027).is_balanced()
    assert demo.ledger.view(2028).balance("140") == 0
