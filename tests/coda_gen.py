"""Write CODA 2.x files for the tests (DOMAIN §8), valid or broken on purpose.

:func:`write_coda` turns :class:`~node.domain.coda.Statement` values into the
128-character records a Belgian bank sends (header, old balance, movements
with their 2.2/2.3 continuations, optional information and free-text
records, new balance, trailer with its record count and totals), so that
``parse_coda(write_coda(x)) == x``. :func:`break_coda` then damages a file
in one known way and says on which line the parser must complain.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date
from enum import StrEnum

from hypothesis import strategies as st

from node.domain.coda import RECORD_LENGTH, Movement, Statement, movement_totals
from node.domain.payments import make_structured_reference, parse_structured_reference

ACCOUNT = "BE68539007547034"
CREDIT_TRANSFER = "00150000"  # type 0, family 01 (transfers), 50: transfer in your favour
OUTGOING_TRANSFER = "00101000"  # type 0, family 01, 01: individual transfer order
COLLECTED = "10150000"  # type 1: a total made by the customer, detailed below (type 5)
COLLECTED_DETAIL = "50150000"

# -- values ---------------------------------------------------------------------------


def movement(
    sequence: int,
    amount: int,
    *,
    reference: str | None = None,
    communication: str = "",
    account: str = "",
    name: str = "",
    on: date = date(2025, 1, 15),
    code: str | None = None,
    details: Sequence[Movement] = (),
) -> Movement:
    """A movement as the bank would book it; ``reference`` in any written
    form (``+++090/9337/55493+++``)."""
    return Movement(
        sequence=sequence,
        amount=amount,
        value_date=on,
        entry_date=on,
        transaction_code=code or (CREDIT_TRANSFER if amount >= 0 else OUTGOING_TRANSFER),
        structured_reference=parse_structured_reference(reference) if reference else None,
        communication=communication,
        counterparty_account=account,
        counterparty_name=name,
        details=tuple(details),
    )


def statement(
    movements: Iterable[Movement] = (),
    *,
    account: str = ACCOUNT,
    number: int = 1,
    old_balance: int = 0,
    old_date: date = date(2025, 1, 1),
    new_date: date | None = None,
    currency: str = "EUR",
) -> Statement:
    """A consistent statement: totals and new balance follow from the movements."""
    movements = tuple(movements)
    debit, credit = movement_totals(movements)
    return Statement(
        account=account,
        currency=currency,
        statement_number=number,
        old_balance=old_balance,
        old_date=old_date,
        new_balance=old_balance + credit - debit,
        new_date=new_date or old_date,
        movements=movements,
        total_debit=debit,
        total_credit=credit,
    )


# -- records --------------------------------------------------------------------------


def _record(*parts: str) -> str:
    text = "".join(parts)
    assert len(text) == RECORD_LENGTH, (len(text), text)
    return text


def _ddmmyy(day: date) -> str:
    assert 2000 <= day.year <= 2099, day
    return day.strftime("%d%m") + f"{day.year % 100:02d}"


def _amount(cents: int) -> str:
    """Sign (0 credit, 1 debit) and 15 digits with three decimals."""
    assert abs(cents) < 10**14, cents
    return ("1" if cents < 0 else "0") + f"{abs(cents) * 10:015d}"


def _text(value: str, width: int) -> str:
    assert len(value) <= width, (value, width)
    return value.ljust(width)


def _header(created: date, holder: str) -> str:
    return _record(
        "0", "0000", _ddmmyy(created), "539", "05", " ", " " * 7, _text("KOPROGO", 10),
        _text(holder, 26), _text("GKCCBEBB", 11), "00842331568", " ", "00000", " " * 16,
        " " * 16, " " * 7, "2",
    )  # fmt: skip


def _account_zone(statement: Statement) -> str:
    """Structure 2 (Belgian IBAN): the IBAN in 31 positions, 3 blanks, the currency."""
    return _text(statement.account, 34) + _text(statement.currency, 3)


def _old_balance(statement: Statement, holder: str) -> str:
    return _record(
        "1", "2", f"{statement.statement_number:03d}", _account_zone(statement),
        _amount(statement.old_balance), _ddmmyy(statement.old_date), _text(holder, 26),
        _text("Compte courant ACP", 35), f"{statement.statement_number:03d}",
    )  # fmt: skip


def _new_balance(statement: Statement, free_text: bool) -> str:
    return _record(
        "8", f"{statement.statement_number:03d}", _account_zone(statement),
        _amount(statement.new_balance), _ddmmyy(statement.new_date), " " * 64,
        "1" if free_text else "0",
    )  # fmt: skip


def _trailer(count: int, debit: int, credit: int, last: bool) -> str:
    return _record(
        "9", " " * 15, f"{count:06d}", _amount(debit)[1:], _amount(credit)[1:], " " * 75,
        "2" if last else "1",
    )  # fmt: skip


def _movement_records(
    m: Movement, detail: int, number: int, information: bool, parent_type: str | None = None
) -> list[str]:
    """Records 2.1 (+ 2.2 and 2.3 when needed) of one movement."""
    if m.structured_reference is not None:
        structured, zone = "1", "101" + m.structured_reference
    else:
        structured, zone = "0", m.communication
    assert len(zone) <= 53 + 53 + 43, zone
    zone = zone.ljust(149)
    has_counterparty = bool(m.counterparty_account or m.counterparty_name)
    with_22 = bool(zone[53:].strip()) or has_counterparty
    with_23 = bool(zone[106:].strip()) or has_counterparty
    info = information and parent_type is None  # a 3.1/3.2 after each main movement
    key = f"{m.sequence:04d}{detail:04d}"
    globalised = "1" if m.transaction_type in "12" else "0"
    records = [
        _record(
            "21", key, _text(f"KPG{m.sequence:04d}{detail:04d}", 21), _amount(m.amount),
            _ddmmyy(m.value_date), m.transaction_code, structured, zone[:53],
            _ddmmyy(m.entry_date), f"{number:03d}", globalised, "1" if with_22 else "0", " ",
            "1" if info and not with_22 else "0",
        )
    ]  # fmt: skip
    if with_22:
        records.append(
            _record(
                "22", key, zone[53:106], " " * 35, _text("GEBABEBB" if with_23 else "", 11),
                " " * 3, " ", " " * 4, " " * 4, " " * 4, "1" if with_23 else "0", " ",
                "1" if info and not with_23 else "0",
            )
        )  # fmt: skip
    if with_23:
        records.append(
            _record(
                "23", key, _text(m.counterparty_account, 37), _text(m.counterparty_name, 35),
                zone[106:149], "0", " ", "1" if info else "0",
            )
        )  # fmt: skip
    return records


def _information_records(m: Movement, detail: int) -> list[str]:
    """A 3.1 + 3.2 pair (counterparty's address), which the parser skips."""
    key = f"{m.sequence:04d}{detail:04d}"
    return [
        _record(
            "31", key, _text(f"KPG{m.sequence:04d}", 21), m.transaction_code, "1",
            _text("001" + (m.counterparty_name or "UNKNOWN"), 73), " " * 12, "1", " ", "0",
        ),
        _record("32", key, _text("RUE DE LA LOI 16 1000 BRUXELLES", 105), " " * 10, "0 0"),
    ]  # fmt: skip


def _statement_records(
    statement: Statement, holder: str, information: bool, free_text: str
) -> tuple[list[str], int]:
    """The records from 1 to 8 (and 4), and how many of them the trailer counts."""
    records = [_old_balance(statement, holder)]
    for m in statement.movements:
        records += _movement_records(m, 0, statement.statement_number, information)
        detail = 0
        if information:
            detail += 1
            records += _information_records(m, detail)
        for d in m.details:
            detail += 1
            records += _movement_records(d, detail, statement.statement_number, False, "main")
            for sub in d.details:
                detail += 1
                records += _movement_records(sub, detail, statement.statement_number, False, "7")
    records.append(_new_balance(statement, bool(free_text)))
    counted = len(records)
    if free_text:
        key = f"{0:04d}{0:04d}"
        records.append(_record("4 ", key, " " * 22, _text(free_text, 80), " " * 15, "0"))
    return records, counted


def write_coda(
    statements: Iterable[Statement],
    *,
    holder: str = "ACP RESIDENCE LES TILLEULS",
    created: date | None = None,
    information: bool = False,
    free_text: str = "",
) -> str:
    """A CODA 2.x file holding ``statements``, lines ending in CRLF as banks
    send them. ``information`` adds 3.1/3.2 records after each movement and
    ``free_text`` a record 4 after each new balance; neither changes what
    the parser returns."""
    statements = list(statements)
    lines: list[str] = []
    for index, s in enumerate(statements):
        records, counted = _statement_records(s, holder, information, free_text)
        lines.append(_header(created or s.new_date, holder))
        lines += records
        lines.append(_trailer(counted, s.total_debit, s.total_credit, index == len(statements) - 1))
    return "".join(line + "\r\n" for line in lines)


# -- broken files ---------------------------------------------------------------------


class Break(StrEnum):
    """Ways to damage a file; each names the check that must refuse it."""

    SHORT_RECORD = "short_record"  # a movement record lost its last character
    LONG_RECORD = "long_record"  # a movement record has one character too many
    UNKNOWN_RECORD = "unknown_record"  # a record of type 7 before the new balance
    TRUNCATED = "truncated"  # the file stops after the first movement
    NO_TRAILER = "no_trailer"  # the last line (trailer) is missing
    WRONG_COUNT = "wrong_count"  # the trailer counts one record too many
    WRONG_TOTAL = "wrong_total"  # the trailer's credit total is one cent off
    BAD_BALANCE = "bad_balance"  # the new balance is one cent off
    THIRD_DECIMAL = "third_decimal"  # a movement amount ends in 5 thousandths
    BAD_DATE = "bad_date"  # a value date of 32 January
    NOT_DIGITS = "not_digits"  # letters in an amount
    MISSING_CONTINUATION = "missing_continuation"  # 2.1 announces a 2.2 that is gone
    UNANNOUNCED_CONTINUATION = "unannounced_continuation"  # 2.2 after a 2.1 saying "none"
    SEQUENCE = "sequence"  # the second movement has the first one's number
    VERSION = "version"  # a CODA 1 header
    OTHER_ACCOUNT = "other_account"  # the new balance is for another account


def _indexes(lines: list[str], kind: str) -> list[int]:
    return [i for i, line in enumerate(lines) if line.startswith(kind)]


def break_coda(text: str, how: Break) -> tuple[str, int]:
    """``text`` damaged in one way, and the 1-based line the error must name.

    The first statement must have at least two movements, the first one
    with a 2.2 continuation (a long communication or a counterparty)."""
    lines = text.splitlines()
    first, second = _indexes(lines, "21")[:2]
    twenty_two = _indexes(lines, "22")[0]
    new, trailer = _indexes(lines, "8")[0], _indexes(lines, "9")[0]
    line = first
    if how is Break.SHORT_RECORD:
        lines[first] = lines[first][:-1]
    elif how is Break.LONG_RECORD:
        lines[first] += " "
    elif how is Break.UNKNOWN_RECORD:
        lines.insert(new, "7" + " " * 127)
        line = new
    elif how is Break.TRUNCATED:
        lines = lines[:second]
        line = second - 1
    elif how is Break.NO_TRAILER:
        del lines[trailer]
        line = trailer - 1
    elif how is Break.WRONG_COUNT:
        count = int(lines[trailer][16:22]) + 1
        lines[trailer] = lines[trailer][:16] + f"{count:06d}" + lines[trailer][22:]
        line = trailer
    elif how is Break.WRONG_TOTAL:
        credit = int(lines[trailer][37:52]) + 10
        lines[trailer] = lines[trailer][:37] + f"{credit:015d}" + lines[trailer][52:]
        line = trailer
    elif how is Break.BAD_BALANCE:
        balance = int(lines[new][42:57]) + 10
        lines[new] = lines[new][:42] + f"{balance:015d}" + lines[new][57:]
        line = new
    elif how is Break.THIRD_DECIMAL:
        lines[first] = lines[first][:46] + "5" + lines[first][47:]
    elif how is Break.BAD_DATE:
        lines[first] = lines[first][:47] + "320125" + lines[first][53:]
    elif how is Break.NOT_DIGITS:
        lines[first] = lines[first][:40] + "12A45" + lines[first][45:]
    elif how is Break.MISSING_CONTINUATION:
        del lines[first + 1 : first + 1 + _continuations(lines, first)]
    elif how is Break.UNANNOUNCED_CONTINUATION:
        lines[first] = lines[first][:125] + "0" + lines[first][126:]
        line = twenty_two
    elif how is Break.SEQUENCE:
        for i in range(second, second + 1 + _continuations(lines, second)):
            lines[i] = lines[i][:2] + lines[first][2:6] + lines[i][6:]
        line = second
    elif how is Break.VERSION:
        lines[0] = lines[0][:127] + "1"
        line = 0
    elif how is Break.OTHER_ACCOUNT:
        lines[new] = lines[new][:4] + _text("BE71096123456769", 34) + lines[new][38:]
        line = new
    return "".join(row + "\r\n" for row in lines), line + 1


def _continuations(lines: list[str], index: int) -> int:
    """How many 2.2/2.3 records follow the 2.1 at ``index``."""
    count = 0
    while index + 1 + count < len(lines) and lines[index + 1 + count][:2] in ("22", "23"):
        count += 1
    return count


# -- hypothesis strategies ------------------------------------------------------------

ACCOUNTS = ("BE68539007547034", "BE71096123456769", "BE32123456789002", "NL91ABNA0417164300")
_TEXT = st.text(
    alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789 /-.,:'()+&éèàçëüö",
    max_size=149,
).map(str.rstrip)
_NAME = st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZ .'-éè", max_size=35).map(str.strip)
_DAYS = st.dates(min_value=date(2000, 1, 1), max_value=date(2099, 12, 31))
_CENTS = st.integers(min_value=-(10**11), max_value=10**11)


@st.composite
def movements(draw: st.DrawFn, sequence: int) -> Movement:
    """One movement: a structured or free communication, maybe a
    counterparty, sometimes a total detailed by the bank (type 1 + 5)."""
    amount = draw(_CENTS)
    structured = draw(st.booleans())
    reference = (
        parse_structured_reference(make_structured_reference(draw(st.integers(0, 10**10 - 1))))
        if structured
        else None
    )
    details: tuple[Movement, ...] = ()
    code = None
    if amount > 0 and draw(st.integers(0, 4)) == 0:
        split = draw(st.integers(1, amount)) if amount > 1 else amount
        parts = [split, amount - split] if split < amount else [amount]
        details = tuple(movement(sequence, part, code=COLLECTED_DETAIL) for part in parts)
        code = COLLECTED
    has_counterparty = draw(st.booleans())
    return Movement(
        sequence=sequence,
        amount=amount,
        value_date=draw(_DAYS),
        entry_date=draw(_DAYS),
        transaction_code=code or (CREDIT_TRANSFER if amount > 0 else OUTGOING_TRANSFER),
        structured_reference=reference,
        communication="" if structured else draw(_TEXT),
        counterparty_account=draw(st.sampled_from(ACCOUNTS)) if has_counterparty else "",
        counterparty_name=draw(_NAME) if has_counterparty else "",
        details=details,
    )


@st.composite
def statements(draw: st.DrawFn, number: int | None = None) -> Statement:
    """A consistent statement with 0 to 8 movements numbered 1, 2, 3 or with gaps."""
    count = draw(st.integers(0, 8))
    sequences = sorted(draw(st.sets(st.integers(1, 9999), min_size=count, max_size=count)))
    return statement(
        [draw(movements(s)) for s in sequences],
        account=draw(st.sampled_from(ACCOUNTS)),
        number=number if number is not None else draw(st.integers(0, 999)),
        old_balance=draw(_CENTS),
        old_date=draw(_DAYS),
        new_date=draw(_DAYS),
    )
