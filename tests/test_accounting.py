"""The bookkeeping rules of an ACP, written as journal entries (STYLE §5)."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from node.domain.accounting.allocation import allocate
from node.domain.accounting.calls import (
    Fund,
    Schedule,
    ageing,
    check_reserve_fund,
    instalments,
    reserve_fund_minimum,
    split_call,
)
from node.domain.accounting.chart import Chart
from node.domain.accounting.ledger import (
    Journal,
    LedgerView,
    check_entry,
    closing_entries,
    fiscal_year,
    fiscal_year_of,
    opening_entry,
    reversal,
)
from node.domain.registry import Ownership, Right
from node.errors import InputError
from tests.journal import balances_text, entry, text

CHART = Chart()
Y2027 = fiscal_year(2027)


def post(*entries):
    for e in entries:
        check_entry(e, CHART, Y2027)
    return LedgerView(tuple(entries), CHART)


def test_an_invoice_a_call_and_two_payments():
    view = post(
        entry("""
            2027-01-05 calls CALL-1 "Appel T1 fonds de roulement"
              4101 D 300.00 person=ann lot=A1
              4101 D 200.00 person=bob lot=A2
              700  C 500.00
        """),
        entry("""
            2027-01-20 purchases INV-7 "Électricité communs T1"
              612  D 120.00 key=general
              4400 C 120.00
        """),
        entry("""
            2027-01-25 bank CODA-1 "Paiement Ann"
              550  D 300.00
              4101 C 300.00 person=ann
        """),
        entry("""
            2027-02-10 bank CODA-2 "Paiement Engie"
              4400 D 120.00
              550  C 120.00
        """),
    )
    assert view.is_balanced()
    assert text(balances_text(view)) == text("""
        4101 200.00
        550 180.00
        612 120.00
        700 -500.00
    """)
    assert view.owner_balances() == {"ann": 0, "bob": 20000}
    assert view.result() == 38000  # 500 called, 120 spent
    assert [n for n, _e in view.numbered(Journal.BANK)] == [
        "BQ-2027-0001",
        "BQ-2027-0002",
    ]
    # a fiscal year starting on 1 July 2026 is labelled 2026 throughout
    assert [n for n, _e in view.numbered(Journal.BANK, 2026)] == [
        "BQ-2026-0001",
        "BQ-2026-0002",
    ]


@pytest.mark.parametrize(
    ("journal_text", "message"),
    [
        (
            """2027-02-01 purchases INV-1
              612 D 100.00
              4400 C 99.99""",
            "does not balance: debits 10000 and credits 9999 differ by 1",
        ),
        (
            """2027-02-01 purchases INV-1
              612 D 100.00""",
            "at least two lines",
        ),
        (
            """2027-02-01 purchases " "
              612 D 1.00
              4400 C 1.00""",
            "supporting document",
        ),
        (
            """2026-12-31 purchases INV-1
              612 D 1.00
              4400 C 1.00""",
            "outside the fiscal year 2027",
        ),
        (
            """2027-02-01 purchases INV-1
              61 D 1.00
              4400 C 1.00""",
            "heading",
        ),
        (
            """2027-02-01 purchases INV-1
              999 D 1.00
              4400 C 1.00""",
            "cannot take entries",
        ),
        (
            """2027-02-01 bank CODA-9
              550 D 1.00
              4101 C 1.00""",
            "names the owner",
        ),
    ],
)
def test_bad_entries_are_refused_with_a_clear_message(journal_text, message):
    with pytest.raises(InputError, match=message):
        check_entry(entry(journal_text), CHART, Y2027)


def test_a_line_is_a_debit_or_a_credit_in_whole_cents():
    with pytest.raises(InputError, match="either a debit or a credit"):
        entry("""2027-02-01 misc X
                  612 D 0.00
                  4400 C 0.00""")


def test_a_closed_year_is_frozen():
    closed = fiscal_year(2027).__class__(2027, Y2027.start, Y2027.end, closed=True)
    with pytest.raises(InputError, match="closed"):
        check_entry(
            entry("""2027-02-01 misc X
                              612 D 1.00
                              4400 C 1.00"""),
            CHART,
            closed,
        )


def test_a_posted_entry_is_corrected_by_its_reversal():
    wrong = entry("""
        2027-03-01 purchases INV-8 "Assurance (erreur de compte)"
          611  D 900.00
          4400 C 900.00
    """)
    undo = reversal(wrong, "R1", date(2027, 3, 2))
    right = entry("""
        2027-03-02 purchases INV-8 "Assurance"
          614  D 900.00
          4400 C 900.00
    """)
    view = post(wrong, undo, right)
    assert undo.reverses == wrong.id
    assert text(balances_text(view)) == text("""
        4400 -900.00
        614 900.00
    """)


def test_closing_carries_the_result_and_opening_carries_the_balance_sheet():
    view = post(
        entry("""2027-01-05 calls CALL-1
                  4101 D 500.00 person=ann
                  700  C 500.00"""),
        entry("""2027-06-01 purchases INV-1
                  611  D 380.00
                  4400 C 380.00"""),
    )
    closing = closing_entries(view, Y2027, "CL", "140")
    assert closing is not None and closing.balanced and closing.date == date(2027, 12, 31)
    after = LedgerView((*view.entries, closing), CHART)
    assert after.result() == 0
    assert text(balances_text(after)) == text("""
        140 -120.00
        4101 500.00
        4400 -380.00
    """)
    opening = opening_entry(after, Y2027, fiscal_year(2028), "OP")
    assert opening is not None and opening.balanced and opening.date == date(2028, 1, 1)
    assert [(line.account, line.person, line.debit - line.credit) for line in opening.lines] == [
        ("140", None, -12000),
        ("4101", "ann", 50000),
        ("4400", None, -38000),
    ]


@pytest.mark.parametrize(
    ("start", "day", "label"),
    [
        ("01-01", date(2027, 5, 1), 2027),
        ("07-01", date(2027, 5, 1), 2026),
        ("07-01", date(2027, 7, 1), 2027),
    ],
)
def test_fiscal_years_follow_the_association_start_day(start, day, label):
    year = fiscal_year_of(day, start)
    assert year.label == label and year.contains(day)


# -- allocation ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("amount", "weights", "expected"),
    [
        (100, {"a": 1, "b": 1, "c": 1}, {"a": 34, "b": 33, "c": 33}),
        (100, {"c": 1, "b": 1, "a": 1}, {"a": 34, "b": 33, "c": 33}),  # order does not matter
        (1000, {"a": 600, "b": 400}, {"a": 600, "b": 400}),
        (1, {"a": 2, "b": 1}, {"a": 1, "b": 0}),  # larger weight wins a tied cent
        (-100, {"a": 1, "b": 1, "c": 1}, {"a": -34, "b": -33, "c": -33}),
        (99999, {"x": 0, "y": 7}, {"x": 0, "y": 99999}),
    ],
)
def test_allocation_table(amount, weights, expected):
    assert allocate(amount, weights) == expected


@given(
    amount=st.integers(-(10**9), 10**9),
    weights=st.dictionaries(
        st.text(min_size=1, max_size=4), st.integers(0, 10_000), min_size=1, max_size=30
    ).filter(lambda w: sum(w.values()) > 0),
)
def test_allocation_adds_up_to_the_cent_and_is_fair(amount, weights):
    parts = allocate(amount, weights)
    assert sum(parts.values()) == amount
    total = sum(weights.values())
    for key, part in parts.items():
        assert abs(part * total - amount * weights[key]) < total  # within one cent
    reordered = dict(reversed(list(weights.items())))
    assert allocate(amount, reordered) == parts  # every device splits the same way


def test_allocation_refuses_an_empty_key():
    with pytest.raises(InputError, match="every weight of the key is zero"):
        allocate(100, {"a": 0})


# -- calls for funds ------------------------------------------------------------------


def own(lot, person, share, right=Right.FULL):
    return Ownership(f"{lot}{person}{right}", lot, person, share, right)


def test_a_quarterly_budget_becomes_four_calls_to_the_cent():
    dues = instalments(1_000_001, Schedule.QUARTERLY, Y2027)
    assert [d for d, _ in dues] == [
        date(2027, 1, 1),
        date(2027, 4, 1),
        date(2027, 7, 1),
        date(2027, 10, 1),
    ]
    assert sum(a for _, a in dues) == 1_000_001
    assert [a for _, a in dues] == [250_001, 250_000, 250_000, 250_000]
    assert len(instalments(1200, Schedule.MONTHLY, fiscal_year(2027, "07-01"))) == 12


def test_a_call_is_split_by_quotas_then_by_holders_shares():
    holders = {
        "A1": [own("A1", "ann", 5000), own("A1", "bob", 5000)],
        "A2": [
            own("A2", "mum", 10_000, Right.USUFRUCT),
            own("A2", "kid1", 5000, Right.BARE),
            own("A2", "kid2", 5000, Right.BARE),
        ],
    }
    weights = {"A1": 600, "A2": 400}
    working = split_call(100_001, weights, holders, Fund.WORKING)
    assert [(s.lot, s.person, s.amount) for s in working] == [
        ("A1", "ann", 30_001),
        ("A1", "bob", 30_000),
        ("A2", "mum", 40_000),
    ]
    reserve = split_call(100_001, weights, holders, Fund.RESERVE)
    assert [(s.lot, s.person, s.amount) for s in reserve] == [
        ("A1", "ann", 30_001),
        ("A1", "bob", 30_000),
        ("A2", "kid1", 20_000),
        ("A2", "kid2", 20_000),
    ]
    assert sum(s.amount for s in reserve) == 100_001


def test_a_call_on_a_lot_without_payer_is_refused():
    with pytest.raises(InputError, match="no holder who pays"):
        split_call(100, {"A1": 1}, {"A1": []}, Fund.WORKING)


# -- reserve fund (art. 3.86 §3) -----------------------------------------------------


@pytest.mark.parametrize(
    ("previous", "minimum"), [(4_000_000, 200_000), (1, 1), (0, 0), (333_333, 16_667)]
)
def test_reserve_fund_minimum_is_five_percent_rounded_up(previous, minimum):
    assert reserve_fund_minimum(previous) == minimum


@pytest.mark.parametrize(
    ("planned", "acceptance", "waived", "ok", "reason"),
    [
        (200_000, date(2015, 1, 1), False, True, None),
        (199_999, date(2015, 1, 1), False, False, None),
        (0, date(2023, 6, 1), False, True, "grace"),  # within five years
        (0, date(2022, 1, 1), False, False, None),  # five years are over on 2027-01-01
        (0, date(2015, 1, 1), True, True, "waived"),  # 4/5 decision of the assembly
    ],
)
def test_reserve_fund_check(planned, acceptance, waived, ok, reason):
    check = check_reserve_fund(planned, 4_000_000, date(2027, 1, 1), acceptance, waived)
    assert (check.ok, check.reason, check.minimum) == (ok, reason, 200_000)


def test_ageing_buckets():
    today = date(2027, 6, 30)
    items = [
        (date(2027, 6, 30), 100),
        (date(2027, 5, 31), 200),
        (date(2027, 5, 30), 300),
        (date(2027, 4, 1), 400),
        (date(2027, 1, 1), 500),
        (date(2027, 7, 15), 50),
    ]
    assert ageing(items, today) == [350, 300, 400, 500]
