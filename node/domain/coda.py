"""CODA 2.x bank statements, read into frozen values (DOMAIN §8).

A CODA file is a sequence of 128-character records; one file may hold
several statements, each::

    0 header · 1 old balance · (2.1 [2.2] [2.3] movement | 3.1 [3.2] [3.3]
    information)* · 8 new balance · 4 free text* · 9 trailer

A record announces the one that continues it (2.2 after 2.1, 3.2 after 3.1…)
with its *next code* (position 126); the *link code* (128), which announces
information records that are not imported, is not checked. Each movement has a transaction code
whose first digit says whether it moves the balance (0–3) or details a
globalised amount (5–9, see :attr:`Movement.details`).

**Own parser, not febelfin-coda.** Tryton's ``febelfin-coda`` (0.5.0, BSD,
well kept) was installed and read. It extracts the fields right, and the
tests use it as an oracle (the same values from the same files, including
the real bank file it ships). It is not used at run time because it is an
extractor, not a validator, and importing a bank statement into the books
must be all or nothing with a reason a syndic can act on: its checks are
``assert`` statements (gone under ``python -O``, and with no line number),
it ignores unknown records, returns the statements of a truncated file with
no trailer unchecked, never checks record lengths or next codes, and fails
with a bare ``ValueError`` on a bad date. Checking all of that needs every
position the extraction reads, so the fields are read here, once, at the
positions of the Febelfin standard (CODA 2.6), and every refusal is a
:class:`CodaError` naming the line.

**Amounts** have three decimals in CODA. Euro accounts move whole cents, so a
non-zero third decimal means a damaged file or an amount we would have to
round; rounding would hide it and could break the balance check by a
cent, so such a file is refused with the line, and every amount becomes
exact integer cents.

Two-digit years are read as 20YY.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from ..errors import InputError
from ..i18n import N_, _, current_language
from .payments import format_eur, is_valid_structured_reference

RECORD_LENGTH = 128
MAIN_TYPES = frozenset("0123")
"""Transaction types that move the balance: 0 a single amount, 1 a total
made by the customer, 2 a total made by the bank, 3 an amount with details."""
DETAIL_TYPES = frozenset("56789")
"""Transaction types that detail a movement (5 of 1, 6 and 7 of 2, 8 of 3,
9 of 7); they are not counted in the totals or the balance."""
STRUCTURED_TYPES = frozenset({"101", "102"})
"""Structured communication codes holding a Belgian ``+++…+++`` reference
(101 as typed by the payer, 102 as rebuilt by the bank)."""

RECORD_NAMES = {
    "0": N_("header (0)"),
    "1": N_("old balance (1)"),
    "21": N_("movement (2.1)"),
    "22": N_("movement continuation (2.2)"),
    "23": N_("movement continuation (2.3)"),
    "31": N_("information (3.1)"),
    "32": N_("information continuation (3.2)"),
    "33": N_("information continuation (3.3)"),
    "4": N_("free text (4)"),
    "8": N_("new balance (8)"),
    "9": N_("trailer (9)"),
}
_CONTINUATIONS = frozenset({"22", "23", "32", "33"})
_DIGITS = re.compile(r"[0-9]+")


class CodaError(InputError):
    """A CODA file that cannot be imported; nothing of it is.

    ``line`` is the 1-based line of the record at fault (None when the file
    as a whole is wrong); ``problem`` is the message without the line."""

    def __init__(self, problem: str, line: int | None = None) -> None:
        self.problem = problem
        self.line = line
        if line is None:
            super().__init__(problem)
        else:
            super().__init__(
                _("Line {line} of the CODA file: {problem}").format(line=line, problem=problem)
            )


# -- values ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Movement:
    """One movement of a statement (records 2.1–2.3).

    ``amount`` is in cents, credits positive and debits negative. A movement
    carries either a ``structured_reference`` (the 12 digits of a valid
    ``+++…+++`` communication) or a free ``communication`` (possibly "").
    A globalised movement (types 1 and 2, e.g. collections booked as one
    amount) lists the individual amounts in ``details``; details never count
    in the statement's totals.
    """

    sequence: int
    amount: int
    value_date: date
    entry_date: date
    transaction_code: str
    structured_reference: str | None = None
    communication: str = ""
    counterparty_account: str = ""
    counterparty_name: str = ""
    details: tuple[Movement, ...] = ()

    def __post_init__(self) -> None:
        if not _DIGITS.fullmatch(self.transaction_code) or len(self.transaction_code) != 8:
            raise CodaError(_("A transaction code has eight digits."))
        if self.structured_reference is not None and not (
            len(self.structured_reference) == 12
            and is_valid_structured_reference(self.structured_reference)
        ):
            raise CodaError(_("A movement's structured communication has wrong check digits."))
        if any(d.transaction_type not in DETAIL_TYPES for d in self.details):
            raise CodaError(_("A movement's details have detail transaction types (5 to 9)."))

    @property
    def transaction_type(self) -> str:
        """The first digit of the transaction code (see :data:`MAIN_TYPES`)."""
        return self.transaction_code[0]


@dataclass(frozen=True)
class Statement:
    """One bank statement: balances, movements and the trailer's totals
    (cents). Built only when ``new − old = credits − debits`` (DOMAIN §8)
    and the totals are those of the movements.

    ``fingerprint`` identifies the statement for "already imported":
    a hash of the account, currency, statement number, both dates and both
    balances, the same for a duplicate the bank sends again."""

    account: str
    currency: str
    statement_number: int
    old_balance: int
    old_date: date
    new_balance: int
    new_date: date
    movements: tuple[Movement, ...]
    total_debit: int
    total_credit: int
    fingerprint: str = field(init=False)

    def __post_init__(self) -> None:
        debit, credit = movement_totals(self.movements)
        if (debit, credit) != (self.total_debit, self.total_credit):
            raise CodaError(_("A statement's totals are not those of its movements."))
        if self.new_balance - self.old_balance != credit - debit:
            raise CodaError(_("A statement's balances do not add up with its movements."))
        object.__setattr__(self, "fingerprint", self._fingerprint())

    def _fingerprint(self) -> str:
        key = "|".join(
            (
                "coda-statement-1",
                self.account,
                self.currency,
                str(self.statement_number),
                self.old_date.isoformat(),
                str(self.old_balance),
                self.new_date.isoformat(),
                str(self.new_balance),
            )
        )
        return hashlib.sha256(key.encode()).hexdigest()[:32]


def movement_totals(movements: tuple[Movement, ...]) -> tuple[int, int]:
    """``(debits, credits)`` in cents, both positive, of the movements that
    move the balance (details excluded, as in the CODA trailer)."""
    debit = sum(-m.amount for m in movements if m.amount < 0)
    credit = sum(m.amount for m in movements if m.amount > 0)
    return debit, credit


# -- records --------------------------------------------------------------------------


@dataclass(frozen=True)
class _Record:
    line: int
    text: str

    @property
    def kind(self) -> str:
        return self.text[:2] if self.text[0] in "23" else self.text[0]

    def field(self, start: int, end: int) -> str:
        """Positions ``start``–``end``, 1-based and inclusive as in the standard."""
        return self.text[start - 1 : end]

    def number(self, start: int, end: int) -> int:
        value = self.field(start, end)
        if not _DIGITS.fullmatch(value):
            raise CodaError(
                _("positions {start}–{end} should hold digits, not {value!r}.").format(
                    start=start, end=end, value=value
                ),
                self.line,
            )
        return int(value)

    def date(self, start: int) -> date:
        value = self.field(start, start + 5)
        try:
            if not _DIGITS.fullmatch(value):
                raise ValueError(value)
            return date(2000 + int(value[4:]), int(value[2:4]), int(value[:2]))
        except ValueError:
            raise CodaError(
                _("positions {start}–{end} should hold a date (DDMMYY), not {value!r}.").format(
                    start=start, end=start + 5, value=value
                ),
                self.line,
            ) from None

    def cents(self, start: int, end: int, sign_at: int | None = None) -> int:
        """An amount with three decimals as cents, negative when the sign
        position holds 1 (debit)."""
        mills = self.number(start, end)
        if mills % 10:
            raise CodaError(
                _(
                    "the amount at positions {start}–{end} has a third decimal ({value}); "
                    "amounts in euro are whole cents."
                ).format(start=start, end=end, value=self.field(start, end)),
                self.line,
            )
        if sign_at is None:
            return mills // 10
        sign = self.field(sign_at, sign_at)
        if sign not in ("0", "1"):
            raise CodaError(
                _("position {position} should hold 0 (credit) or 1 (debit), not {value!r}.").format(
                    position=sign_at, value=sign
                ),
                self.line,
            )
        return -(mills // 10) if sign == "1" else mills // 10

    def flag(self, position: int) -> bool:
        """A 0/1 code such as the next code (126) or the communication type (62)."""
        value = self.field(position, position)
        if value not in ("0", "1"):
            raise CodaError(
                _("position {position} should hold 0 or 1, not {value!r}.").format(
                    position=position, value=value
                ),
                self.line,
            )
        return value == "1"


def _name(kind: str) -> str:
    return _(RECORD_NAMES[kind])


def _decode(data: bytes | str) -> str:
    """Banks write CODA in Windows-1252 (Latin-1); UTF-8 is accepted too."""
    if isinstance(data, str):
        return data.removeprefix("\ufeff")
    try:
        return data.decode("utf-8").removeprefix("\ufeff")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")


def _records(text: str) -> list[_Record]:
    """Every line as a record, checked for length and type; blank lines at
    the end of the file are ignored."""
    lines = [line.rstrip("\r") for line in text.split("\n")]
    while lines and not lines[-1].strip():
        lines.pop()
    records = []
    for number, line in enumerate(lines, start=1):
        if len(line) != RECORD_LENGTH:
            raise CodaError(
                _("the record has {length} characters instead of {expected}.").format(
                    length=len(line), expected=RECORD_LENGTH
                ),
                number,
            )
        record = _Record(number, line)
        if record.kind not in RECORD_NAMES:
            raise CodaError(
                _("{kind!r} is not a CODA record type.").format(kind=record.kind), number
            )
        records.append(record)
    return records


class _Reader:
    """The records of a file, read in order."""

    def __init__(self, records: list[_Record]) -> None:
        self.records = records
        self.position = 0

    @property
    def done(self) -> bool:
        return self.position >= len(self.records)

    def peek(self) -> _Record | None:
        return None if self.done else self.records[self.position]

    def take(self, kind: str) -> _Record:
        """The next record, which must be of ``kind``."""
        record = self.peek()
        if record is None:
            last = self.records[-1].line if self.records else 0
            problem = _("the file ends before the statement does: its {record} record is missing.")
            raise CodaError(problem.format(record=_name(kind)), last)
        if record.kind != kind:
            raise CodaError(
                _("this {found} record comes where the {expected} record should be.").format(
                    expected=_name(kind), found=_name(record.kind)
                ),
                record.line,
            )
        self.position += 1
        return record

    def group(self, head: _Record) -> list[_Record]:
        """``head`` and the records its next codes announce (2.2/2.3 after a
        2.1, 3.2/3.3 after a 3.1), all of the same sequence and detail."""
        group = [head]
        while group[-1].flag(126):
            record = self.peek()
            if (
                record is None
                or record.kind not in _CONTINUATIONS
                or record.kind[0] != head.kind[0]
                or record.kind[1] <= group[-1].kind[1]
                or record.field(3, 10) != head.field(3, 10)
            ):
                raise CodaError(
                    _("the record announces a continuation (next code 1) that does not follow."),
                    group[-1].line,
                )
            group.append(record)
            self.position += 1
        return group


# -- statements -----------------------------------------------------------------------


def parse_coda(data: bytes | str) -> tuple[Statement, ...]:
    """Every statement of a CODA 2.x file, or :class:`CodaError` and nothing.

    Checked: every record is 128 characters (line endings aside) of a known
    type, in the order of the standard, continuations announced and present,
    movement numbers increasing, the trailer's record count (records 1, 2,
    3 and 8) and debit and credit totals, and ``new − old = credits −
    debits`` for each statement (DOMAIN §8).
    """
    reader = _Reader(_records(_decode(data)))
    statements = []
    while not reader.done:
        statements.append(_read_statement(reader))
    if not statements:
        raise CodaError(_("The CODA file is empty."))
    return tuple(statements)


def _read_statement(reader: _Reader) -> Statement:
    header = reader.take("0")
    version = header.field(128, 128)
    if version != "2":
        raise CodaError(
            _("this is CODA version {version}; KoproGo reads version 2.").format(version=version),
            header.line,
        )
    old = reader.take("1")
    account, currency = _account(old, old.field(2, 2), 6)
    old_balance, old_date = old.cents(44, 58, sign_at=43), old.date(59)
    movements, counted = _read_body(reader)
    new = _read_new_balance(reader, old, bool(movements))
    if new is None:  # a statement without movements may omit record 8
        new_balance, new_date, balance_line = old_balance, old_date, old.line
    else:
        new_balance, new_date, balance_line = new.cents(43, 57, sign_at=42), new.date(58), new.line
        counted += 1
    while (record := reader.peek()) is not None and record.kind == "4":
        reader.take("4")
    trailer = reader.take("9")
    _check_trailer(trailer, 1 + counted, movements)
    _check_balance(balance_line, old_balance, new_balance, movements)
    debit, credit = movement_totals(movements)
    return Statement(
        account=account,
        currency=currency,
        statement_number=old.number(3, 5),
        old_balance=old_balance,
        old_date=old_date,
        new_balance=new_balance,
        new_date=new_date,
        movements=movements,
        total_debit=debit,
        total_credit=credit,
    )


def _read_body(reader: _Reader) -> tuple[tuple[Movement, ...], int]:
    """The movements between the old and the new balance, and the number of
    2.x and 3.x records they took."""
    movements: list[_MovementBuilder] = []
    counted = 0
    while (record := reader.peek()) is not None and record.kind in ("21", "31", *_CONTINUATIONS):
        if record.kind in _CONTINUATIONS:
            raise CodaError(
                _(
                    "this {record} record is not announced by the record before it (next code 0)."
                ).format(record=_name(record.kind)),
                record.line,
            )
        group = reader.group(reader.take(record.kind))
        counted += len(group)
        if record.kind == "21":
            _add_movement(movements, group)
        else:
            _check_information(movements, group)
    return tuple(m.build() for m in movements), counted


def _read_new_balance(reader: _Reader, old: _Record, has_movements: bool) -> _Record | None:
    """Record 8, for the same account as record 1; banks leave it out of a
    statement without movements (the new balance is then the old one)."""
    record = reader.peek()
    if not has_movements and record is not None and record.kind == "9":
        return None
    new = reader.take("8")
    structure = old.field(2, 2)
    if _account(new, structure, 5) != _account(old, structure, 6):
        raise CodaError(_("the new balance is for another account than the old balance."), new.line)
    return new


# Where the account number and the currency sit in the 37-character account
# zone, by the account structure code (record 1, position 2).
_ACCOUNT_LAYOUT = {
    "0": (slice(0, 12), slice(13, 16)),  # Belgian account number
    "1": (slice(0, 34), slice(34, 37)),  # foreign account number
    "2": (slice(0, 31), slice(34, 37)),  # Belgian IBAN
    "3": (slice(0, 34), slice(34, 37)),  # foreign IBAN
}


def _account(record: _Record, structure: str, start: int) -> tuple[str, str]:
    if structure not in _ACCOUNT_LAYOUT:
        raise CodaError(
            _("{value!r} at position 2 is not an account structure (0 to 3).").format(
                value=structure
            ),
            record.line,
        )
    zone = record.field(start, start + 36)
    number, currency = _ACCOUNT_LAYOUT[structure]
    return zone[number].strip(), zone[currency].strip()


def _check_trailer(trailer: _Record, counted: int, movements: tuple[Movement, ...]) -> None:
    written = trailer.number(17, 22)
    if written != counted:
        raise CodaError(
            _("the trailer counts {written} records, but the statement has {counted}.").format(
                written=written, counted=counted
            ),
            trailer.line,
        )
    debit, credit = movement_totals(movements)
    checks = (
        (23, debit, N_("the trailer's debits add up to {written}, the movements' to {total}.")),
        (38, credit, N_("the trailer's credits add up to {written}, the movements' to {total}.")),
    )
    for start, total, problem in checks:
        written = trailer.cents(start, start + 14)
        if written != total:
            raise CodaError(
                _(problem).format(written=_eur(written), total=_eur(total)), trailer.line
            )


def _check_balance(
    line: int, old_balance: int, new_balance: int, movements: tuple[Movement, ...]
) -> None:
    """DOMAIN §8: new − old = credits − debits."""
    debit, credit = movement_totals(movements)
    if new_balance - old_balance != credit - debit:
        raise CodaError(
            _(
                "the balances do not add up: the new balance {new} minus the old balance {old} "
                "is {difference}, but the credits minus the debits are {movements}."
            ).format(
                new=_eur(new_balance),
                old=_eur(old_balance),
                difference=_eur(new_balance - old_balance),
                movements=_eur(credit - debit),
            ),
            line,
        )


def _eur(cents: int) -> str:
    return format_eur(cents, current_language())


# -- movements ------------------------------------------------------------------------


@dataclass
class _MovementBuilder:
    """A movement being read: its fields and the details that follow it."""

    fields: dict[str, Any]
    line: int
    details: list[_MovementBuilder] = field(default_factory=list)

    @property
    def type(self) -> str:
        return self.fields["transaction_code"][0]

    def build(self) -> Movement:
        return Movement(**self.fields, details=tuple(d.build() for d in self.details))


def _add_movement(movements: list[_MovementBuilder], group: list[_Record]) -> None:
    """Read one movement group and attach it where its type says: a new
    movement (types 0–3, numbers increasing), a detail of the last one
    (5–8, same number) or a detail of the last type-7 detail (9)."""
    head = group[0]
    movement = _MovementBuilder(_movement_fields(group), head.line)
    sequence, detail = head.number(3, 6), head.number(7, 10)
    kind = movement.type
    if kind in MAIN_TYPES:
        previous = movements[-1].fields["sequence"] if movements else 0
        if detail != 0:
            raise CodaError(
                _(
                    "movement {sequence} has detail number {detail}; a movement that is not "
                    "a detail has 0000."
                ).format(sequence=f"{sequence:04d}", detail=f"{detail:04d}"),
                head.line,
            )
        if sequence <= previous:
            raise CodaError(
                _(
                    "movement number {sequence} comes after movement {previous}; "
                    "the numbers must increase."
                ).format(sequence=f"{sequence:04d}", previous=f"{previous:04d}"),
                head.line,
            )
        movements.append(movement)
        return
    if kind not in DETAIL_TYPES:
        raise CodaError(
            _("{code} is not a transaction code: its first digit {type} is not a type.").format(
                code=movement.fields["transaction_code"], type=kind
            ),
            head.line,
        )
    parent = movements[-1] if movements else None
    if kind == "9" and parent is not None:
        parent = next((d for d in reversed(parent.details) if d.type == "7"), None)
    if parent is None or detail == 0 or parent.fields["sequence"] != sequence:
        raise CodaError(
            _("this detail {sequence}/{detail} belongs to no movement before it.").format(
                sequence=f"{sequence:04d}", detail=f"{detail:04d}"
            ),
            head.line,
        )
    parent.details.append(movement)


def _check_information(movements: list[_MovementBuilder], group: list[_Record]) -> None:
    """Information records (3.x) are not imported, but must belong to the
    movement they follow."""
    head = group[0]
    sequence = head.number(3, 6)
    if not movements or movements[-1].fields["sequence"] != sequence:
        raise CodaError(
            _(
                "this information record refers to movement {sequence}, which is not the movement "
                "before it."
            ).format(sequence=f"{sequence:04d}"),
            head.line,
        )


def _movement_fields(group: list[_Record]) -> dict[str, Any]:
    head = group[0]
    by_kind = {record.kind: record for record in group}
    more, last = by_kind.get("22"), by_kind.get("23")
    zone = (
        head.field(63, 115)
        + (more.field(11, 63) if more else " " * 53)
        + (last.field(83, 125) if last else " " * 43)
    )
    reference, communication = _communication(head.flag(62), zone)
    account, name = ("", "") if last is None else _counterparty(last)
    return {
        "sequence": head.number(3, 6),
        "amount": head.cents(33, 47, sign_at=32),
        "value_date": head.date(48),
        "entry_date": head.date(116),
        "transaction_code": _transaction_code(head),
        "structured_reference": reference,
        "communication": communication,
        "counterparty_account": account,
        "counterparty_name": name,
    }


def _transaction_code(head: _Record) -> str:
    head.number(54, 61)  # eight digits, or a readable refusal
    return head.field(54, 61)


def _communication(structured: bool, zone: str) -> tuple[str | None, str]:
    """(structured reference, free text) of a movement's communication zone.

    A 101/102 communication whose check digits are wrong is kept as text
    so that the syndic sees it; other structured codes (cheque numbers,
    direct-debit data…) are kept as text after their code."""
    if not structured:
        return None, zone.rstrip()
    code, rest = zone[:3], zone[3:]
    if code in STRUCTURED_TYPES:
        digits = rest[:12]
        if _DIGITS.fullmatch(digits) and is_valid_structured_reference(digits):
            return digits, ""
        return None, digits.strip()
    return None, rest.rstrip()


def _counterparty(record: _Record) -> tuple[str, str]:
    """Account and name of record 2.3; the account zone (37 characters)
    may end with the account's currency code, which is dropped."""
    zone = record.field(11, 47)
    currency = zone[34:].strip()
    account = zone[:34] if len(currency) == 3 and currency.isalpha() else zone
    return account.strip(), record.field(48, 82).strip()
