"""CODA 2.x statements (DOMAIN §8): generated files read back exactly, broken
files refused whole with the line at fault, and the same values as Tryton's
febelfin-coda on its real bank file."""

from __future__ import annotations

import io
from dataclasses import replace
from datetime import date
from decimal import Decimal
from importlib import resources

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from node.domain.coda import CodaError, Movement, Statement, parse_coda
from tests.coda_gen import (
    COLLECTED,
    COLLECTED_DETAIL,
    Break,
    break_coda,
    movement,
    statement,
    statements,
    write_coda,
)

JANUARY = statement(
    [
        movement(
            1,
            12_500,
            reference="+++090/9337/55493+++",
            account="BE71096123456769",
            name="DUPONT JEAN",
            on=date(2025, 1, 6),
        ),
        movement(
            2,
            -45_99,
            communication="Facture 2025-014 entretien ascenseur janvier, contrat 88-1234, "
            "client ACP Les Tilleuls, merci",
            account="BE32123456789002",
            name="ASCENSEURS SA",
            on=date(2025, 1, 10),
        ),
        movement(3, 30_000, communication="Provisions lot 4", on=date(2025, 1, 20)),
    ],
    number=1,
    old_balance=1_000_00,
    old_date=date(2024, 12, 31),
    new_date=date(2025, 1, 31),
)


def test_a_generated_statement_reads_back_exactly() -> None:
    (parsed,) = parse_coda(write_coda([JANUARY]))
    assert parsed == JANUARY
    first, second, third = parsed.movements
    assert (first.amount, first.structured_reference, first.communication) == (
        12_500,
        "090933755493",
        "",
    )
    assert (first.counterparty_account, first.counterparty_name) == (
        "BE71096123456769",
        "DUPONT JEAN",
    )
    assert first.value_date == first.entry_date == date(2025, 1, 6)
    assert second.amount == -4599 and second.structured_reference is None
    assert second.communication.endswith("client ACP Les Tilleuls, merci")  # 2.1 + 2.2 + 2.3
    assert third.counterparty_account == third.counterparty_name == ""
    assert (parsed.old_balance, parsed.new_balance) == (100_000, 100_000 + 12_500 - 4_599 + 30_000)
    assert (parsed.total_debit, parsed.total_credit) == (4_599, 42_500)
    assert (parsed.old_date, parsed.new_date) == (date(2024, 12, 31), date(2025, 1, 31))
    assert (parsed.account, parsed.currency, parsed.statement_number) == (
        "BE68539007547034",
        "EUR",
        1,
    )


def test_several_statements_in_one_file() -> None:
    february = statement(
        [movement(1, -1_234_56, communication="Assurance incendie", on=date(2025, 2, 3))],
        number=2,
        old_balance=JANUARY.new_balance,
        old_date=date(2025, 1, 31),
        new_date=date(2025, 2, 28),
    )
    savings = statement([], account="BE71096123456769", number=1, old_balance=5_000_000_00)
    assert parse_coda(write_coda([JANUARY, february, savings])) == (JANUARY, february, savings)


def test_information_and_free_text_records_are_counted_but_not_imported() -> None:
    text = write_coda([JANUARY], information=True, free_text="Nouveau tarif au 1er mars")
    assert any(line.startswith("31") for line in text.splitlines())
    assert any(line.startswith("4 ") for line in text.splitlines())
    assert parse_coda(text) == (JANUARY,)


def test_a_total_detailed_by_the_bank_keeps_its_details_out_of_the_totals() -> None:
    collected = movement(
        1,
        30_000,
        code=COLLECTED,
        details=[
            movement(1, 10_000, code=COLLECTED_DETAIL, reference="+++123/4567/89002+++"),
            movement(1, 20_000, code=COLLECTED_DETAIL, reference="+++012/3456/78939+++"),
        ],
    )
    (parsed,) = parse_coda(write_coda([statement([collected])]))
    assert parsed.movements == (collected,)
    assert parsed.total_credit == 30_000
    assert [d.structured_reference for d in parsed.movements[0].details] == [
        "123456789002",
        "012345678939",
    ]


# -- encodings and line endings -------------------------------------------------------


def test_bytes_in_windows_1252_with_lf_line_endings_and_trailing_blank_lines() -> None:
    accented = statement(
        [movement(1, 500, communication="Réparation façade — élément", name="LEFÈVRE ÉLODIE",
                  account="BE71096123456769")]
    )  # fmt: skip
    text = write_coda([accented]).replace("\r\n", "\n") + "\n\n"
    assert parse_coda(text.encode("cp1252")) == (accented,)
    assert parse_coda(text.encode("utf-8")) == (accented,)
    assert parse_coda(b"\xef\xbb\xbf" + text.encode("utf-8")) == (accented,)


def test_a_counterparty_account_followed_by_its_currency() -> None:
    text = write_coda([JANUARY])
    lines = text.splitlines()
    i = next(i for i, line in enumerate(lines) if line.startswith("2300010000"))
    lines[i] = lines[i][:44] + "EUR" + lines[i][47:]
    (parsed,) = parse_coda("\n".join(lines))
    assert parsed.movements[0].counterparty_account == "BE71096123456769"


def test_a_structured_communication_with_wrong_check_digits_is_kept_as_text() -> None:
    text = write_coda([JANUARY])
    lines = text.splitlines()
    i = next(i for i, line in enumerate(lines) if line.startswith("2100010000"))
    assert lines[i][61:77] == "1101090933755493"
    lines[i] = lines[i][:76] + "4" + lines[i][77:]
    (parsed,) = parse_coda("\n".join(lines))
    first = parsed.movements[0]
    assert first.structured_reference is None
    assert first.communication == "090933755494"


# -- amounts have three decimals ------------------------------------------------------


def _with_amount(text: str, kind: str, start: int, value: str) -> str:
    """Replace the 15 digits at 1-based ``start`` of the first record of ``kind``."""
    lines = text.splitlines()
    i = next(i for i, line in enumerate(lines) if line.startswith(kind))
    lines[i] = lines[i][: start - 1] + value + lines[i][start - 1 + 15 :]
    return "\n".join(lines)


def test_three_decimal_amounts_become_exact_cents() -> None:
    big = statement([movement(1, 99_999_999_999_99)], old_balance=-12_345_678_901_23)
    text = write_coda([big])
    assert "099999999999990" in text  # 999 999 999 999.990 with three decimals
    assert parse_coda(text) == (big,)


@pytest.mark.parametrize(
    ("kind", "start", "line"),
    [("21", 33, 3), ("1", 44, 2), ("8", 43, 4), ("9", 23, 5)],
)
def test_a_third_decimal_is_refused_wherever_it_is(kind: str, start: int, line: int) -> None:
    simple = statement([movement(1, 1_000)])
    text = write_coda([simple])
    digits = text.splitlines()[line - 1][start - 1 : start - 1 + 15]
    with pytest.raises(CodaError) as raised:
        parse_coda(_with_amount(text, kind, start, digits[:-1] + "1"))
    assert raised.value.line == line
    assert "third decimal" in str(raised.value)


# -- broken files: refused whole, with what and where ---------------------------------

BROKEN = {
    Break.SHORT_RECORD: "the record has 127 characters instead of 128",
    Break.LONG_RECORD: "the record has 129 characters instead of 128",
    Break.UNKNOWN_RECORD: "'7' is not a CODA record type",
    Break.TRUNCATED: "the file ends before the statement does: its new balance (8) record is "
    "missing",
    Break.NO_TRAILER: "its trailer (9) record is missing",
    Break.WRONG_COUNT: "the trailer counts 10 records, but the statement has 9",
    Break.WRONG_TOTAL: "the trailer's credits add up to €425.01, the movements' to €425.00",
    Break.BAD_BALANCE: "the balances do not add up: the new balance €1,379.02 minus the old "
    "balance €1,000.00 is €379.02, but the credits minus the debits are €379.01",
    Break.THIRD_DECIMAL: "has a third decimal",
    Break.BAD_DATE: "positions 48–53 should hold a date (DDMMYY), not '320125'",
    Break.NOT_DIGITS: "positions 33–47 should hold digits",
    Break.MISSING_CONTINUATION: "announces a continuation (next code 1) that does not follow",
    Break.UNANNOUNCED_CONTINUATION: "this movement continuation (2.2) record is not announced",
    Break.SEQUENCE: "movement number 0001 comes after movement 0001",
    Break.VERSION: "this is CODA version 1; KoproGo reads version 2",
    Break.OTHER_ACCOUNT: "the new balance is for another account",
}


def test_every_kind_of_breakage_has_a_case() -> None:
    assert set(BROKEN) == set(Break)


@pytest.mark.parametrize("how", list(Break))
def test_a_broken_file_is_refused_with_its_line(how: Break) -> None:
    text, line = break_coda(write_coda([JANUARY]), how)
    with pytest.raises(CodaError) as raised:
        parse_coda(text)
    assert raised.value.line == line
    assert str(raised.value) == f"Line {line} of the CODA file: {raised.value.problem}"
    assert BROKEN[how] in raised.value.problem


def test_a_wrong_debit_total_in_the_trailer() -> None:
    text = write_coda([JANUARY])
    trailer = text.splitlines()[-1]
    debit = f"{int(trailer[22:37]) + 10:015d}"
    with pytest.raises(CodaError) as raised:
        parse_coda(text.replace(trailer, trailer[:22] + debit + trailer[37:]))
    assert raised.value.line == 11
    assert raised.value.problem == (
        "the trailer's debits add up to €46.00, the movements' to €45.99."
    )


def test_a_good_statement_is_not_imported_when_the_next_one_is_broken() -> None:
    text, _line = break_coda(write_coda([JANUARY]), Break.BAD_BALANCE)
    with pytest.raises(CodaError, match="Line 14 of the CODA file: the balances do not add up"):
        parse_coda(write_coda([statement()]) + text)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "The CODA file is empty."),
        ("\r\n\r\n", "The CODA file is empty."),
        ("1" + " " * 127, "Line 1 of the CODA file: this old balance (1) record comes where "
         "the header (0) record should be."),
    ],
)  # fmt: skip
def test_a_file_without_statements(text: str, message: str) -> None:
    with pytest.raises(CodaError) as raised:
        parse_coda(text)
    assert str(raised.value) == message


def test_a_statement_without_movements_may_omit_the_new_balance() -> None:
    """Banks send quiet days without record 8 (febelfin-coda's CODA-empty.txt)."""
    quiet = statement([], old_balance=2_500_00)
    lines = [line for line in write_coda([quiet]).splitlines() if not line.startswith("8")]
    lines[-1] = lines[-1][:16] + "000001" + lines[-1][22:]
    assert parse_coda("\n".join(lines)) == (quiet,)


def test_a_statement_is_checked_when_built() -> None:
    with pytest.raises(CodaError, match="balances do not add up"):
        replace(JANUARY, new_balance=JANUARY.new_balance + 1)
    with pytest.raises(CodaError, match="totals are not those of its movements"):
        replace(JANUARY, total_credit=JANUARY.total_credit + 1)
    with pytest.raises(CodaError, match="wrong check digits"):
        replace(JANUARY.movements[0], structured_reference="090933755494")


# -- already imported ------------------------------------------------------------------


def test_the_fingerprint_recognises_the_same_statement_sent_again() -> None:
    (first,) = parse_coda(write_coda([JANUARY], created=date(2025, 2, 1)))
    (again,) = parse_coda(write_coda([JANUARY], created=date(2025, 3, 5), holder="ACP"))
    assert first.fingerprint == again.fingerprint
    assert len(first.fingerprint) == 32
    others = [
        replace(JANUARY, statement_number=2),
        replace(JANUARY, account="BE71096123456769"),
        replace(JANUARY, old_date=date(2024, 12, 30)),
        replace(JANUARY, new_date=date(2025, 2, 1)),
        statement(JANUARY.movements[:2], old_balance=JANUARY.old_balance,
                  old_date=JANUARY.old_date, new_date=JANUARY.new_date),
    ]  # fmt: skip
    assert len({first.fingerprint, *(o.fingerprint for o in others)}) == 1 + len(others)


# -- properties -----------------------------------------------------------------------


@settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow])
@given(statements())
def test_parse_of_generate_is_identity(x: Statement) -> None:
    (parsed,) = parse_coda(write_coda([x]))
    assert parsed == x
    assert parsed.total_credit - parsed.total_debit == parsed.new_balance - parsed.old_balance


@settings(max_examples=40, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(statements(), min_size=1, max_size=4), st.booleans())
def test_several_generated_statements_read_back(xs: list[Statement], information: bool) -> None:
    assert parse_coda(write_coda(xs, information=information)) == tuple(xs)


# -- the same values as Tryton's febelfin-coda ----------------------------------------

febelfin = pytest.importorskip("coda")


def _cents(value: Decimal) -> int:
    cents = value * 100
    assert cents == int(cents)
    return int(cents)


def _day(day: date) -> date:
    """febelfin-coda reads two-digit years 69–99 as 19YY; we read 20YY."""
    return day.replace(year=2000 + day.year % 100)


def _compare_with_febelfin(text: str, ours: tuple[Statement, ...]) -> None:
    theirs = febelfin.CODA(io.StringIO(text)).statements
    assert len(theirs) == len(ours)
    for their, our in zip(theirs, ours, strict=True):
        assert (their.account, their.account_currency) == (our.account, our.currency)
        assert int(their.old_sequence) == our.statement_number
        assert _cents(their.old_balance) == our.old_balance
        assert _cents(their.new_balance) == our.new_balance
        assert _day(their.old_balance_date) == our.old_date
        assert _day(their.new_balance_date) == our.new_date
        assert _cents(their.total_debit) == our.total_debit
        assert _cents(their.total_credit) == our.total_credit
        assert len(their.moves) == len(our.movements)
        for move, ours_ in zip(their.moves, our.movements, strict=True):
            _compare_movement(move, ours_)


def _compare_movement(move, movement: Movement) -> None:
    assert int(move.sequence) == movement.sequence
    assert _cents(move.amount) == movement.amount
    assert _day(move.value_date) == movement.value_date
    assert _day(move.entry_date) == movement.entry_date
    assert move.transaction_code == movement.transaction_code
    if move.communication_type is None:
        assert move.communication == movement.communication
    elif movement.structured_reference is not None:
        assert move.communication == movement.structured_reference
    assert (move.counterparty_name or "").strip() == movement.counterparty_name
    assert (move.counterparty_account or "").startswith(movement.counterparty_account)
    assert len(move.moves) == len(movement.details)


def test_the_real_bank_file_shipped_with_febelfin_coda() -> None:
    """A KBC file of 262 records: 59 movements, 52 details, information records."""
    text = (resources.files("coda") / "CODA.txt").read_text(encoding="cp1252")
    ours = parse_coda(text.encode("cp1252"))
    (statement_,) = ours
    assert (statement_.old_balance, statement_.new_balance) == (0, 9_405_296_99)
    assert len(statement_.movements) == 59
    assert statement_.movements[0].communication == (
        "BORDEREAU DE DECOMPTE AVANCES    015 NUMERO D'OPERATION 495953"
    )
    _compare_with_febelfin(text, ours)


def test_the_empty_bank_file_shipped_with_febelfin_coda() -> None:
    text = (resources.files("coda") / "CODA-empty.txt").read_text(encoding="cp1252")
    ours = parse_coda(text)
    assert ours[0].movements == ()
    _compare_with_febelfin(text, ours)


@settings(max_examples=60, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(statements(), min_size=1, max_size=3))
def test_febelfin_coda_reads_our_files_the_same(xs: list[Statement]) -> None:
    text = write_coda(xs, information=True)
    _compare_with_febelfin(text, parse_coda(text))
