"""The group energy purchase's rules and sealing (issue 6, DOMAIN §11):
table-driven transitions, opt-in checks, yearly figures, k-anonymity,
retention and audit deadlines, savings; AES-256-GCM under HKDF-SHA256 keys
checked against an independent decryption."""

from __future__ import annotations

import base64
from datetime import date

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from hypothesis import given
from hypothesis import strategies as st

from node.domain import energy as rules
from node.domain.energy import EnergyType, Gate, Reading, Status
from node.services import energy_crypto

S = Status
ALL_OPEN = Gate(True, True, True, True)
NONE = Gate()


@pytest.mark.parametrize(
    ("current", "target", "gate", "allowed"),
    [
        (S.DRAFT, S.AWAITING_AG_VOTE, NONE, True),
        (S.DRAFT, S.COLLECTING_DATA, ALL_OPEN, False),  # no skipping the assembly
        (S.AWAITING_AG_VOTE, S.COLLECTING_DATA, NONE, False),  # mandate not adopted
        (S.AWAITING_AG_VOTE, S.COLLECTING_DATA, Gate(mandate_adopted=True), True),
        (S.COLLECTING_DATA, S.NEGOTIATING, NONE, False),  # fewer than 5 verified
        (S.COLLECTING_DATA, S.NEGOTIATING, Gate(verified_enough=True), True),
        (S.NEGOTIATING, S.AWAITING_FINAL_VOTE, NONE, False),
        (S.NEGOTIATING, S.AWAITING_FINAL_VOTE, Gate(final_vote_linked=True), True),
        (S.AWAITING_FINAL_VOTE, S.FINALIZED, NONE, False),
        (S.AWAITING_FINAL_VOTE, S.FINALIZED, Gate(final_vote_decided=True), True),
        (S.FINALIZED, S.COMPLETED, NONE, True),
        (S.COLLECTING_DATA, S.AWAITING_AG_VOTE, ALL_OPEN, False),  # never backwards
        (S.NEGOTIATING, S.COMPLETED, ALL_OPEN, False),
        *[(s, S.CANCELLED, NONE, True) for s in S if s not in rules.FINAL],
        (S.COMPLETED, S.CANCELLED, NONE, False),  # final states stay
        (S.CANCELLED, S.DRAFT, ALL_OPEN, False),
        (S.CANCELLED, S.CANCELLED, NONE, False),
    ],
)
def test_transitions(current: Status, target: Status, gate: Gate, allowed: bool):
    assert (rules.transition_problem(current, target, gate) is None) is allowed


def _reading(**changes) -> Reading:  # type: ignore[no-untyped-def]
    fields = {
        "energy_type": EnergyType.ELECTRICITY,
        "kwh": {"electricity": 2400},
        "period_start": date(2026, 1, 1),
        "period_end": date(2026, 12, 31),
        "postal_code": "1050",
        "bill_sha256": "ab" * 32,
    }
    fields.update(changes)
    return Reading(**fields)


@pytest.mark.parametrize(
    ("changes", "types", "problem"),
    [
        ({}, ["electricity"], None),
        (
            {"energy_type": EnergyType.BOTH, "kwh": {"electricity": 1, "gas": 2}},
            ["electricity", "gas"],
            None,
        ),
        ({"energy_type": EnergyType.GAS, "kwh": {"gas": 9000}}, ["electricity"], "does not buy"),
        (
            {"energy_type": EnergyType.BOTH, "kwh": {"electricity": 1}},
            ["electricity", "gas"],
            "each energy",
        ),
        ({"kwh": {"electricity": 0}}, ["electricity"], "above zero"),
        ({"kwh": {"electricity": -5}}, ["electricity"], "above zero"),
        ({"kwh": {"electricity": 10_000_001}}, ["electricity"], "above zero"),
        ({"period_end": date(2025, 12, 1)}, ["electricity"], "ends before"),
        ({"period_end": date(2027, 3, 1)}, ["electricity"], "400 days"),
        # found by hand: 9,000,000 kWh over a day
        ({"period_end": date(2026, 1, 27)}, ["electricity"], "at least four weeks"),
        ({"period_end": date(2026, 1, 28)}, ["electricity"], None),  # 28 days, both included
        (
            {"kwh": {"electricity": 9_000_000}, "period_end": date(2026, 2, 27)},
            ["electricity"],
            "more than any flat",
        ),
        ({"postal_code": "105"}, ["electricity"], "four digits"),
        ({"postal_code": "0999"}, ["electricity"], "four digits"),
        ({"postal_code": "10500"}, ["electricity"], "four digits"),
        ({"bill_sha256": "xyz"}, ["electricity"], "SHA-256"),
        ({"bill_sha256": "AB" * 32}, ["electricity"], "SHA-256"),  # lower-case hex only
    ],
)
def test_reading_problems(changes, types, problem):  # type: ignore[no-untyped-def]
    problems = rules.reading_problems(_reading(**changes), types)
    if problem is None:
        assert problems == []
    else:
        assert any(problem in p for p in problems), problems


def test_a_bill_ends_by_the_day_of_the_opt_in():
    """Found by hand: a bill typed with next year's dates was taken."""
    bill = _reading()  # 2026-01-01 to 2026-12-31
    assert rules.reading_problems(bill, ["electricity"], date(2026, 12, 31)) == []
    [problem] = rules.reading_problems(bill, ["electricity"], date(2026, 12, 30))
    assert "ends in the future" in problem


@pytest.mark.parametrize(
    ("kwh", "start", "end", "yearly"),
    [
        # both days included, as bills write their period (found by hand:
        # 01-01 to 12-31 counted 364 days and every figure came out too high)
        (2400, date(2026, 1, 1), date(2026, 12, 31), 2400),  # 365 days
        (1200, date(2026, 1, 1), date(2026, 7, 1), 2407),  # 182 days: 2406.59 -> 2407
        (100, date(2026, 1, 1), date(2026, 1, 1), 36500),  # one day
        (3, date(2026, 1, 1), date(2026, 1, 2), 548),  # 547.5 rounds half up
    ],
)
def test_yearly_kwh(kwh: int, start: date, end: date, yearly: int):
    assert rules.yearly_kwh(kwh, start, end) == yearly


def test_figures_are_shown_only_from_five_participants():
    below = rules.figures("electricity", [1000, 2000, 3000, 4000], units=20)
    assert not below.shown and below.participants == 4 and below.total_kwh is None
    assert below.average_kwh is None and below.median_kwh is None
    five = rules.figures("electricity", [1000, 2000, 3000, 4000, 10000], units=20)
    assert five.shown and (five.total_kwh, five.average_kwh, five.median_kwh) == (
        20000,
        4000,
        3000,
    )
    assert five.rate_pct == 25
    assert not hasattr(five, "minimum") and not hasattr(five, "maximum")


@pytest.mark.parametrize(
    ("participants", "units", "rate"), [(5, 16, 31), (1, 8, 13), (16, 16, 100), (0, 0, 0)]
)
def test_participation_rate(participants: int, units: int, rate: int):
    assert rules.Figures("gas", participants, units, None, None, None).rate_pct == rate


@pytest.mark.parametrize(
    ("ended", "today", "due"),
    [
        (None, date(2030, 1, 1), False),
        (date(2027, 4, 1), date(2027, 6, 29), False),  # day 89
        (date(2027, 4, 1), date(2027, 6, 30), True),  # day 90
        (date(2027, 4, 1), date(2028, 1, 1), True),
    ],
)
def test_per_unit_data_is_deleted_90_days_after_the_campaign(ended, today, due):  # type: ignore[no-untyped-def]
    assert rules.purge_due(ended, today) is due


@pytest.mark.parametrize(
    ("on", "today", "expired"),
    [
        (date(2027, 3, 1), date(2032, 2, 28), False),
        (date(2027, 3, 1), date(2032, 3, 1), True),
        (date(2028, 2, 29), date(2033, 2, 27), False),
        (date(2028, 2, 29), date(2033, 2, 28), True),
    ],
)
def test_audit_events_are_kept_five_years(on: date, today: date, expired: bool):
    assert rules.audit_expired(on, today) is expired


@pytest.mark.parametrize(
    ("total", "price", "pct", "cents"),
    [
        (0, 27_350, 12, 0),
        (100_000, 25_000, 0, 0),
        # 100,000 kWh at 0.25 €/kWh after a 20 % saving: before = 31,250 €, saved 6,250 €
        (100_000, 25_000, 20, 625_000),
        (12_345, 27_350, 12, 46_041),  # 3,376.36 € after 12 %: 460.41 € saved
    ],
)
def test_estimated_savings(total: int, price: int, pct: int, cents: int):
    assert rules.estimated_savings_cents(total, price, pct) == cents


def test_yearly_cost():
    # 2,400 kWh at 0.2735 €/kWh + 5 €/month = 656.40 + 60 €
    assert rules.yearly_cost_cents(27_350, 500, 2400) == 71_640


def _independent_open(blob: str, ephemeral: str, private: bytes, associated: bytes) -> bytes:
    """AES-256-GCM with HKDF-SHA256 (info koprogo-energy-v1) redone by hand:
    the format is nonce(12) || ciphertext, the key from X25519."""
    raw = base64.b64decode(blob)
    eph = base64.b64decode(ephemeral)
    key = X25519PrivateKey.from_private_bytes(private)
    shared = key.exchange(X25519PublicKey.from_public_bytes(eph))
    own = energy_crypto.public_of(private)
    aes = HKDF(hashes.SHA256(), 32, eph + own, b"koprogo-energy-v1").derive(shared)
    return AESGCM(aes).decrypt(raw[:12], raw[12:], associated)


def test_sealing_opens_for_each_recipient_and_nobody_else():
    owner, aggregator, neighbour = (energy_crypto.new_private_key() for _ in range(3))
    recipients = {
        "owner": energy_crypto.public_of(owner),
        "agg": energy_crypto.public_of(aggregator),
    }
    ephemeral, sealed = energy_crypto.seal(b'{"kwh":{"gas":9000}}', recipients, b"optins/x/y/z")
    for name, private in (("owner", owner), ("agg", aggregator)):
        assert energy_crypto.open_sealed(sealed[name], ephemeral, private, b"optins/x/y/z") == (
            b'{"kwh":{"gas":9000}}'
        )
        assert _independent_open(sealed[name], ephemeral, private, b"optins/x/y/z") == (
            b'{"kwh":{"gas":9000}}'
        )
        assert len(base64.b64decode(sealed[name])) == 12 + len(b'{"kwh":{"gas":9000}}') + 16
    with pytest.raises(energy_crypto.SealError):
        energy_crypto.open_sealed(sealed["owner"], ephemeral, neighbour, b"optins/x/y/z")
    with pytest.raises(energy_crypto.SealError):  # moved to another opt-in
        energy_crypto.open_sealed(sealed["owner"], ephemeral, owner, b"optins/x/y/other")
    tampered = bytearray(base64.b64decode(sealed["agg"]))
    tampered[20] ^= 1
    with pytest.raises(energy_crypto.SealError):
        energy_crypto.open_sealed(
            base64.b64encode(bytes(tampered)).decode(), ephemeral, aggregator, b"optins/x/y/z"
        )


@given(st.binary(min_size=0, max_size=200))
def test_sealing_round_trips(plaintext: bytes):
    private = energy_crypto.new_private_key()
    ephemeral, sealed = energy_crypto.seal(
        plaintext, {"r": energy_crypto.public_of(private)}, b"aad"
    )
    assert energy_crypto.open_sealed(sealed["r"], ephemeral, private, b"aad") == plaintext


def test_each_seal_uses_a_fresh_nonce_and_ephemeral_key():
    private = energy_crypto.new_private_key()
    recipients = {"r": energy_crypto.public_of(private)}
    first = energy_crypto.seal(b"same", recipients, b"a")
    second = energy_crypto.seal(b"same", recipients, b"a")
    assert first[0] != second[0] and first[1]["r"] != second[1]["r"]


@given(st.lists(st.integers(min_value=1, max_value=200_000), max_size=40), st.integers(0, 60))
def test_figures_never_show_amounts_below_five_and_add_up(values: list[int], extra_units: int):
    units = len(values) + extra_units
    figure = rules.figures("gas", values, units)
    assert figure.participants == len(values)
    assert figure.shown is (len(values) >= 5)
    if not figure.shown:
        assert (figure.total_kwh, figure.average_kwh, figure.median_kwh) == (None, None, None)
        return
    assert figure.total_kwh == sum(values)
    assert min(values) <= figure.median_kwh <= max(values)
    assert abs(figure.average_kwh * len(values) - sum(values)) <= len(values) / 2
    assert 0 <= figure.rate_pct <= 100


@pytest.mark.parametrize(
    ("counted", "sent", "safe"),
    [
        ("abcdef", [], True),  # nothing sent before
        ("abcdef", ["abcdef"], True),  # the same figures again
        ("abcde", ["abcdef"], False),  # one left: 6 then 5 tells their kWh
        ("abcdefg", ["abcdef"], False),  # one joined
        ("abcdefghij", ["abcde"], True),  # five joined: the difference is 5 people
        ("abcdeg", ["abcdef"], False),  # one swapped: two people apart
        ("fghij", ["abcde"], True),  # all different
        ("abcdefghij", ["abcde", "abcdefghi"], False),  # safe against one, not the other
    ],
)
def test_figures_go_again_only_five_participants_apart(counted, sent, safe):
    """Found by hand: a broker subtracted two pool readings (6 then 5
    participants) and had one owner's yearly consumption."""
    assert rules.differs_safely(frozenset(counted), [frozenset(s) for s in sent]) is safe
