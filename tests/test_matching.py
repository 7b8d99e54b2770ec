"""Matching bank movements to open calls for funds (DOMAIN §8): exact
structured communication or the syndic's hand, never a cent dropped."""

from __future__ import annotations

import json
from collections import Counter

import pytest
from hypothesis import given
from hypothesis import strategies as st

from node.domain.coda import Movement
from node.domain.matching import (
    Match,
    MatchResult,
    OpenItem,
    Overpayment,
    match_payments,
    payment_lines,
)
from node.domain.payments import call_reference
from node.errors import InputError
from tests.coda_gen import COLLECTED, COLLECTED_DETAIL, movement
from tests.helpers import elsewhere

# Call 1 of 2025: Dupont (lot A1) owes 250.00, Martin (lot A2) 180.50, and
# Peeters (lots B1 and cellar C1) two items.
DUPONT = OpenItem("call1-dupont", call_reference(2025, 1, 1), 250_00, "p-dupont", "lot-a1")
MARTIN = OpenItem("call1-martin", call_reference(2025, 1, 2), 180_50, "p-martin", "lot-a2")
PEETERS_B1 = OpenItem("call1-peeters-b1", call_reference(2025, 1, 3), 300_00, "p-peeters", "lot-b1")
PEETERS_C1 = OpenItem("call1-peeters-c1", call_reference(2025, 1, 4), 20_00, "p-peeters", "lot-c1")
OPEN = (DUPONT, MARTIN, PEETERS_B1, PEETERS_C1)


def paid(sequence: int, cents: int, item: OpenItem | None = None, **kw) -> Movement:
    reference = item.structured_reference if item else None
    return movement(sequence, cents, reference=reference, **kw)


def summary(result: MatchResult) -> list[str]:
    """The result as lines a syndic would read."""
    lines = [f"{m.movement.sequence}: {m.amount} -> {m.item.id}" for m in result.matched]
    lines += [f"{o.movement.sequence}: {o.amount} overpaid on {o.item.id}" for o in result.overpaid]
    lines += [f"{m.sequence}: {m.amount} by hand" for m in result.unmatched]
    return lines


def test_exact_reference_and_amount() -> None:
    result = match_payments([paid(1, 250_00, DUPONT)], OPEN)
    assert result.matched == (Match(paid(1, 250_00, DUPONT), DUPONT, 250_00),)
    assert result.remaining["call1-dupont"] == 0
    assert result.unmatched == result.overpaid == result.partially_paid == ()


def test_the_reference_may_be_typed_with_asterisks_on_the_call() -> None:
    item = OpenItem("x", "***202/5010/00174***", 10_00, "p", "l")
    assert item.structured_reference == "202501000174"
    assert match_payments([movement(1, 10_00, reference="202501000174")], [item]).matched


def test_a_partial_payment_leaves_the_rest_due() -> None:
    result = match_payments([paid(1, 100_00, DUPONT), paid(2, 80_50, MARTIN)], OPEN)
    assert summary(result) == ["1: 10000 -> call1-dupont", "2: 8050 -> call1-martin"]
    assert result.remaining == {
        "call1-dupont": 150_00,
        "call1-martin": 100_00,
        "call1-peeters-b1": 300_00,
        "call1-peeters-c1": 20_00,
    }
    assert result.partially_paid == ("call1-dupont", "call1-martin")


def test_an_overpayment_is_recorded_not_dropped() -> None:
    result = match_payments([paid(1, 300_00, DUPONT)], OPEN)
    assert summary(result) == [
        "1: 25000 -> call1-dupont",
        "1: 5000 overpaid on call1-dupont",
    ]
    assert result.overpaid == (Overpayment(paid(1, 300_00, DUPONT), DUPONT, 50_00),)


def test_instalments_then_too_much() -> None:
    result = match_payments(
        [paid(1, 100_00, DUPONT), paid(2, 100_00, DUPONT), paid(3, 100_00, DUPONT)], OPEN
    )
    assert summary(result) == [
        "1: 10000 -> call1-dupont",
        "2: 10000 -> call1-dupont",
        "3: 5000 -> call1-dupont",
        "3: 5000 overpaid on call1-dupont",
    ]
    assert result.remaining["call1-dupont"] == 0
    assert result.partially_paid == ()


@pytest.mark.parametrize(
    "payment",
    [
        movement(1, 250_00, communication="appel de fonds janvier lot A1"),  # no reference
        movement(1, 250_00, reference="+++123/4567/89002+++"),  # a reference no call has
        movement(1, 250_00, reference=call_reference(2024, 1, 1)),  # last year's, already paid
        movement(1, -250_00, reference=DUPONT.structured_reference),  # a debit: a refund
    ],
    ids=["no reference", "unknown reference", "closed call", "debit"],
)
def test_left_for_the_syndic(payment: Movement) -> None:
    result = match_payments([payment], OPEN)
    assert result.unmatched == (payment,)
    assert result.matched == result.overpaid == ()
    assert result.remaining == {item.id: item.amount_due for item in OPEN}


def test_a_reference_of_another_owner_pays_that_owner_s_call() -> None:
    """The reference identifies the debt; the payer's name stays on the
    movement for the syndic to see and, if it was a mistake, reassign."""
    payment = paid(1, 180_50, MARTIN, name="DUPONT JEAN", account="BE71096123456769")
    (match,) = match_payments([payment], OPEN).matched
    assert match.item is MARTIN
    assert match.movement.counterparty_name == "DUPONT JEAN"


def test_one_owner_two_lots_two_references() -> None:
    result = match_payments([paid(1, 20_00, PEETERS_C1), paid(2, 300_00, PEETERS_B1)], OPEN)
    assert summary(result) == ["1: 2000 -> call1-peeters-c1", "2: 30000 -> call1-peeters-b1"]


def test_the_same_payment_twice_is_an_overpayment_the_second_time() -> None:
    twice = [paid(1, 250_00, DUPONT), paid(1, 250_00, DUPONT)]
    result = match_payments(twice, OPEN)
    assert summary(result) == [
        "1: 25000 -> call1-dupont",
        "1: 25000 overpaid on call1-dupont",
    ]


def test_a_reference_shared_by_two_open_items_is_left_and_reported() -> None:
    copy = OpenItem("call1-dupont-bis", DUPONT.structured_reference, 250_00, "p-x", "lot-x")
    result = match_payments([paid(1, 250_00, DUPONT)], [*OPEN, copy])
    assert result.matched == ()
    assert result.unmatched == (paid(1, 250_00, DUPONT),)
    assert result.ambiguous_references == (DUPONT.structured_reference,)


def test_an_open_item_given_twice_is_refused() -> None:
    with pytest.raises(InputError, match="Each open call is given once"):
        match_payments([], [DUPONT, DUPONT])


@pytest.mark.parametrize("amount", [0, -1, 12.5])
def test_an_open_item_is_for_cents_above_zero(amount) -> None:
    with pytest.raises(InputError, match="whole number of cents above zero"):
        OpenItem("x", DUPONT.structured_reference, amount, "p", "l")


def test_an_open_item_needs_a_valid_reference() -> None:
    with pytest.raises(InputError, match="wrong check digits"):
        OpenItem("x", "+++123/4567/89003+++", 100, "p", "l")


def test_a_total_collected_by_the_bank_is_matched_detail_by_detail() -> None:
    dupont = movement(7, 250_00, code=COLLECTED_DETAIL, reference=DUPONT.structured_reference)
    martin = movement(7, 180_50, code=COLLECTED_DETAIL, reference=MARTIN.structured_reference)
    unknown = movement(7, 12_00, code=COLLECTED_DETAIL)
    total = movement(7, 442_50, code=COLLECTED, details=[dupont, martin, unknown])
    assert list(payment_lines([total])) == [dupont, martin, unknown]
    result = match_payments([total], OPEN)
    assert [m.item for m in result.matched] == [DUPONT, MARTIN]
    assert result.unmatched == (unknown,)


def _twelve_payments() -> MatchResult:
    payments = [paid(i, 60_00, item) for i, item in enumerate(OPEN * 3, start=1)]
    return match_payments(payments, OPEN)


def test_matching_is_deterministic() -> None:
    """The same movements match the same way in another process, whose
    string hashing (set and dict orders) differs."""
    lines = summary(_twelve_payments())
    other = elsewhere(
        "import json; from tests.test_matching import _twelve_payments, summary; "
        "print(json.dumps(summary(_twelve_payments())))"
    )
    assert json.loads(other) == lines


# -- property: every cent of every payment is accounted for --------------------------


@given(
    st.lists(
        st.tuples(st.sampled_from([*OPEN, None]), st.integers(-500_00, 500_00)),
        max_size=20,
    )
)
def test_no_cent_is_dropped(rows: list[tuple[OpenItem | None, int]]) -> None:
    payments = [paid(i, cents, item) for i, (item, cents) in enumerate(rows, start=1)]
    result = match_payments(payments, OPEN)
    taken: Counter[int] = Counter()
    for part in (*result.matched, *result.overpaid):
        taken[part.movement.sequence] += part.amount
    by_hand = {m.sequence for m in result.unmatched}
    for p in payments:
        if p.sequence in by_hand:
            assert p.sequence not in taken  # either matched or by hand, never both
        else:
            assert taken[p.sequence] == p.amount
    assert len(by_hand) == len(result.unmatched)
    for item in OPEN:
        applied = sum(m.amount for m in result.matched if m.item is item)
        assert 0 <= result.remaining[item.id] == item.amount_due - applied
    for m in result.matched:
        assert m.amount > 0
    for o in result.overpaid:
        assert result.remaining[o.item.id] == 0
