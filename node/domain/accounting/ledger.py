"""Double-entry bookkeeping rules for an ACP (AR 12/07/2012, DOMAIN §6).

Entries are immutable values checked when posted: they balance (debits =
credits, in integer cents), use postable accounts of the chart, fall in an
open fiscal year, and carry a supporting-document reference. A posted entry
is never edited or deleted: it is corrected by its reversal (ARCHITECTURE
§2). Numbers within a journal are derived when reading (date, then id), not
stored, so two devices can post at once without fighting over numbers.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from enum import StrEnum

from ...errors import InputError
from ...i18n import _, format_day
from .chart import Chart, Kind


class Journal(StrEnum):
    PURCHASES = "purchases"  # supplier invoices
    CALLS = "calls"  # calls for funds (the "sales" journal of an ACP)
    BANK = "bank"  # bank statements and payments
    MISC = "misc"  # miscellaneous: opening, closing, corrections


JOURNAL_CODES = {
    Journal.PURCHASES: "ACH",
    Journal.CALLS: "APF",
    Journal.BANK: "BQ",
    Journal.MISC: "OD",
}


@dataclass(frozen=True)
class Line:
    account: str
    debit: int = 0  # cents
    credit: int = 0  # cents
    person: str | None = None  # the owner, on owners' accounts (410x)
    lot: str | None = None
    key: str | None = None  # the distribution key of an expense
    label: str = ""

    def __post_init__(self) -> None:
        for amount in (self.debit, self.credit):
            if not isinstance(amount, int) or isinstance(amount, bool) or amount < 0:
                raise InputError(_("Amounts are whole numbers of cents, zero or more."))
        if (self.debit == 0) == (self.credit == 0):
            raise InputError(
                _(
                    "Each line of an entry is either a debit or a credit (account {account})."
                ).format(account=self.account)
            )

    @property
    def amount(self) -> int:
        """Debit positive, credit negative."""
        return self.debit - self.credit


@dataclass(frozen=True)
class Entry:
    id: str
    date: date
    journal: Journal
    reference: str  # the supporting document
    description: str
    lines: tuple[Line, ...]
    reverses: str | None = None
    source: str | None = None  # what made it: "invoice:<id>", "call:<id>", "coda:<...>"

    @property
    def total(self) -> int:
        return sum(line.debit for line in self.lines)

    @property
    def balanced(self) -> bool:
        return sum(line.debit for line in self.lines) == sum(line.credit for line in self.lines)


@dataclass(frozen=True)
class FiscalYear:
    label: int  # the calendar year the fiscal year starts in
    start: date
    end: date
    closed: bool = False

    def contains(self, day: date) -> bool:
        return self.start <= day <= self.end


def fiscal_year(label: int, start_mm_dd: str = "01-01") -> FiscalYear:
    """The fiscal year starting in ``label`` on the association's start day."""
    month, day = (int(x) for x in start_mm_dd.split("-"))
    start = date(label, month, day)
    try:
        next_start = date(label + 1, month, day)
    except ValueError:  # 29 February
        next_start = date(label + 1, month, 28)
    return FiscalYear(label, start, next_start - timedelta(days=1))


def fiscal_year_of(day: date, start_mm_dd: str = "01-01") -> FiscalYear:
    candidate = fiscal_year(day.year, start_mm_dd)
    return candidate if candidate.contains(day) else fiscal_year(day.year - 1, start_mm_dd)


def check_entry(entry: Entry, chart: Chart, year: FiscalYear) -> None:
    """Refuse, with a readable message, an entry that cannot be posted."""
    if len(entry.lines) < 2:
        raise InputError(_("An entry has at least two lines."))
    debit = sum(line.debit for line in entry.lines)
    credit = sum(line.credit for line in entry.lines)
    if debit != credit:
        raise InputError(
            _(
                "The entry does not balance: debits {debit} and credits {credit} differ by "
                "{difference} cents."
            ).format(debit=debit, credit=credit, difference=abs(debit - credit))
        )
    if not entry.reference.strip():
        raise InputError(_("Every entry names its supporting document (invoice, statement...)."))
    if year.closed:
        raise InputError(
            _("The fiscal year {year} is closed; its entries cannot change.").format(
                year=year.label
            )
        )
    if not year.contains(entry.date):
        raise InputError(
            _("{day} is outside the fiscal year {year} ({start} – {end}).").format(
                day=format_day(entry.date),
                year=year.label,
                start=format_day(year.start),
                end=format_day(year.end),
            )
        )
    for line in entry.lines:
        if not chart.postable(line.account):
            raise InputError(
                _("Account {account} cannot take entries (unknown, or a heading).").format(
                    account=line.account
                )
            )
        if line.account.startswith("410") and not line.person:
            raise InputError(
                _("A line on an owners' account names the owner (account {account}).").format(
                    account=line.account
                )
            )


def reversal(entry: Entry, new_id: str, on: date, reference: str | None = None) -> Entry:
    """The entry that cancels ``entry``: same lines, debit and credit swapped."""
    return Entry(
        new_id,
        on,
        entry.journal,
        reference or entry.reference,
        _("Reversal of {description}").format(description=entry.description),
        tuple(replace(line, debit=line.credit, credit=line.debit) for line in entry.lines),
        reverses=entry.id,
        source=entry.source,
    )


# -- reading a ledger -------------------------------------------------------------------


@dataclass(frozen=True)
class Balance:
    debit: int = 0
    credit: int = 0

    @property
    def net(self) -> int:
        """Debit minus credit."""
        return self.debit - self.credit


def journal_number(journal: Journal, year: int, index: int) -> str:
    return f"{JOURNAL_CODES[journal]}-{year}-{index:04d}"


def _index_of(number: str) -> tuple[int, str]:
    """Sort key of a journal number: its running index, then the text."""
    tail = number.rsplit("-", 1)[-1]
    return (int(tail) if tail.isdigit() else 0, number)


def definitive_numbers(view: LedgerView, fiscal_year: int) -> dict[str, str]:
    """Numbers to fix for the entries that have none: each journal's go on
    from its highest fixed one, by date then id."""
    out: dict[str, str] = {}
    for journal in Journal:
        for number, entry in view.numbered(journal, fiscal_year):
            if entry.id not in view.numbers:
                out[entry.id] = number
    return out


@dataclass(frozen=True)
class LedgerView:
    """The entries of one or more fiscal years, read at one moment."""

    entries: tuple[Entry, ...] = ()
    chart: Chart = field(default_factory=Chart)
    numbers: Mapping[str, str] = field(default_factory=dict)
    """Definitive journal numbers, given when the year was closed."""

    def sorted(self) -> list[Entry]:
        return sorted(self.entries, key=lambda e: (e.date, e.id))

    def numbered(self, journal: Journal, fiscal_year: int | None = None) -> list[tuple[str, Entry]]:
        """(number, entry) of a journal: ``ACH-2027-0001``... by date then id.
        The year in the number is the fiscal year's label when given (found
        by hand: with a year starting on 1 July, the calendar year changed
        in the middle of one fiscal year and numbers repeated across two).

        A number fixed at the closing (``numbers``) is kept; the others are
        provisional and follow the highest fixed number of the journal, by
        date (found by hand: an entry arriving from another device, or
        back-dated, renumbered every later entry)."""
        mine = [e for e in self.sorted() if e.journal is journal]
        fixed = [(self.numbers[e.id], e) for e in mine if e.id in self.numbers]
        fixed.sort(key=lambda pair: _index_of(pair[0]))
        out, after = fixed, len(fixed)
        for entry in mine:
            if entry.id not in self.numbers:
                after += 1
                year = entry.date.year if fiscal_year is None else fiscal_year
                out.append((journal_number(journal, year, after), entry))
        return out

    def provisional(self) -> bool:
        """Whether some journal number may still change (the year is not
        closed, or entries reached it after its closing)."""
        return any(e.id not in self.numbers for e in self.entries)

    def balances(self, until: date | None = None) -> dict[str, Balance]:
        totals: dict[str, list[int]] = defaultdict(lambda: [0, 0])
        for entry in self.entries:
            if until is not None and entry.date > until:
                continue
            for line in entry.lines:
                totals[line.account][0] += line.debit
                totals[line.account][1] += line.credit
        return {account: Balance(d, c) for account, (d, c) in sorted(totals.items())}

    def balance(self, prefix: str, until: date | None = None) -> int:
        """Net (debit − credit) of every account starting with ``prefix``."""
        return sum(b.net for a, b in self.balances(until).items() if a.startswith(prefix))

    def is_balanced(self) -> bool:
        return sum(b.net for b in self.balances().values()) == 0

    def result(self) -> int:
        """Income minus expenses (classes 7 and 6): > 0 is a surplus."""
        return -sum(
            b.net
            for a, b in self.balances().items()
            if self.chart.get(a) is not None
            and self.chart.require(a).kind in (Kind.INCOME, Kind.EXPENSE)
        )

    def owner_balances(self, until: date | None = None) -> dict[str, int]:
        """What each owner owes (> 0) or has paid in advance (< 0), over
        the owners' accounts 410x."""
        owed: dict[str, int] = defaultdict(int)
        for entry in self.entries:
            if until is not None and entry.date > until:
                continue
            for line in entry.lines:
                if line.account.startswith("410") and line.person:
                    owed[line.person] += line.amount
        return dict(sorted(owed.items()))

    def expenses_by_key(self) -> dict[tuple[str, str | None], int]:
        """(account, key) -> net expense: what the charge statement divides."""
        out: dict[tuple[str, str | None], int] = defaultdict(int)
        for entry in self.entries:
            for line in entry.lines:
                account = self.chart.get(line.account)
                if account is not None and account.kind is Kind.EXPENSE:
                    out[(line.account, line.key)] += line.amount
        return dict(out)


def closing_entries(
    view: LedgerView, year: FiscalYear, new_id: str, posting_result_account: str
) -> Entry | None:
    """Zero the income and expense accounts into the result carried forward
    (class 1) at the last day of the year; None when there is nothing."""
    lines = []
    for number, balance in view.balances(until=year.end).items():
        account = view.chart.get(number)
        if account is None or account.kind not in (Kind.INCOME, Kind.EXPENSE) or not balance.net:
            continue
        net = balance.net
        lines.append(Line(number, debit=-net if net < 0 else 0, credit=net if net > 0 else 0))
    if not lines:
        return None
    result = sum(line.debit - line.credit for line in lines)  # what lands in class 1
    if result:
        lines.append(
            Line(
                posting_result_account,
                debit=-result if result < 0 else 0,
                credit=result if result > 0 else 0,
            )
        )
    return Entry(
        new_id,
        year.end,
        Journal.MISC,
        f"closing-{year.label}",
        _("Closing of the fiscal year {year}").format(year=year.label),
        tuple(lines),
        source=f"closing:{year.label}",
    )


def opening_entry(
    view: LedgerView, closed: FiscalYear, new_year: FiscalYear, new_id: str
) -> Entry | None:
    """Carry the balance-sheet accounts (classes 1–5) into the next year,
    owner by owner for the owners' accounts."""
    lines: list[Line] = []
    per_owner: dict[tuple[str, str | None], int] = defaultdict(int)
    for entry in view.entries:
        if entry.date > closed.end:
            continue
        for line in entry.lines:
            account = view.chart.get(line.account)
            if account is not None and account.kind not in (Kind.INCOME, Kind.EXPENSE):
                per_owner[(line.account, line.person)] += line.amount
    for (number, person), net in sorted(per_owner.items(), key=lambda x: (x[0][0], x[0][1] or "")):
        if net:
            lines.append(Line(number, debit=max(net, 0), credit=max(-net, 0), person=person))
    if not lines:
        return None
    return Entry(
        new_id,
        new_year.start,
        Journal.MISC,
        f"opening-{new_year.label}",
        _("Opening balances carried from {year}").format(year=closed.label),
        tuple(lines),
        source=f"opening:{new_year.label}",
    )


def entries_of_year(entries: Iterable[Entry], year: FiscalYear) -> tuple[Entry, ...]:
    return tuple(e for e in entries if year.contains(e.date))


def by_id(entries: Iterable[Entry]) -> Mapping[str, Entry]:
    return {e.id: e for e in entries}
