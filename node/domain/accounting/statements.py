"""Year-end statements (DOMAIN §6): balance sheet, income and expense
statement, budget versus actual, and each owner's charge statement
(décompte de charges / afrekening).

Pure functions over values read from the documents. The charge statement
divides each year's expenses with the weights in force when they were
posted (kept with each invoice line), gives each holder their part of the
lot's charges the way calls are split (:func:`calls.payers`, shares), and
sets them against the working-fund calls of the year: the difference is
due, or refundable.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ..registry import Registry
from .allocation import allocate
from .calls import Fund, payers
from .chart import Chart, Kind
from .ledger import LedgerView


@dataclass(frozen=True)
class StatementRow:
    account: str
    label: str
    amount: int  # cents; positive as shown (assets, charges, income...)


@dataclass(frozen=True)
class BalanceSheet:
    assets: tuple[StatementRow, ...]
    liabilities: tuple[StatementRow, ...]  # funds, debts, result
    total_assets: int
    total_liabilities: int


def balance_sheet(view: LedgerView, language: str) -> BalanceSheet:
    """Classes 1, 2, 4 and 5; the year's result (7 − 6) shown with the funds."""
    assets, liabilities = [], []
    for number, balance in view.balances().items():
        account = view.chart.get(number)
        if account is None or account.kind in (Kind.INCOME, Kind.EXPENSE) or not balance.net:
            continue
        row_label = account.label(language)
        if balance.net > 0:
            assets.append(StatementRow(number, row_label, balance.net))
        else:
            liabilities.append(StatementRow(number, row_label, -balance.net))
    result = view.result()
    if result:
        liabilities.append(StatementRow("", _result_label(language), result))
    return BalanceSheet(
        tuple(assets),
        tuple(liabilities),
        sum(r.amount for r in assets),
        sum(r.amount for r in liabilities),
    )


def _result_label(language: str) -> str:
    return {
        "fr": "Résultat de l'exercice",
        "nl": "Resultaat van het boekjaar",
        "de": "Ergebnis des Geschäftsjahres",
        "en": "Result of the year",
    }.get(language, "Result of the year")


@dataclass(frozen=True)
class IncomeStatement:
    charges: tuple[StatementRow, ...]
    income: tuple[StatementRow, ...]
    total_charges: int
    total_income: int

    @property
    def result(self) -> int:
        return self.total_income - self.total_charges


def income_statement(
    view: LedgerView, language: str, before_closing: bool = True
) -> IncomeStatement:
    """Class 6 against class 7 (before the closing entry zeroes them)."""
    entries = [
        e for e in view.entries if not (before_closing and (e.source or "").startswith("closing:"))
    ]
    closed = LedgerView(tuple(entries), view.chart)
    charges, income = [], []
    for number, balance in closed.balances().items():
        account = view.chart.get(number)
        if account is None or not balance.net:
            continue
        if account.kind is Kind.EXPENSE:
            charges.append(StatementRow(number, account.label(language), balance.net))
        elif account.kind is Kind.INCOME:
            income.append(StatementRow(number, account.label(language), -balance.net))
    return IncomeStatement(
        tuple(charges), tuple(income), sum(r.amount for r in charges), sum(r.amount for r in income)
    )


@dataclass(frozen=True)
class BudgetRow:
    account: str
    label: str
    budget: int
    actual: int

    @property
    def difference(self) -> int:
        return self.actual - self.budget


def budget_versus_actual(
    view: LedgerView, budget: Mapping[str, int], language: str
) -> list[BudgetRow]:
    """Each budgeted account, and each charge account spent without a budget."""
    actual = {r.account: r.amount for r in income_statement(view, language).charges}
    rows = []
    for number in sorted(set(budget) | set(actual)):
        account = view.chart.get(number)
        label = account.label(language) if account else number
        rows.append(BudgetRow(number, label, int(budget.get(number, 0)), actual.get(number, 0)))
    return rows


# -- the owner's charge statement -----------------------------------------------------------


@dataclass(frozen=True)
class ChargeLine:
    account: str
    label: str
    key: str  # the key's name
    building_total: int  # what the building spent on it (cents)
    lot_share: int  # the lot's part by the key
    own_share: int  # this owner's part of the lot's part
    weight: int
    total_weight: int


@dataclass(frozen=True)
class LotCharges:
    lot: str
    number: str
    lines: tuple[ChargeLine, ...]

    @property
    def total(self) -> int:
        return sum(line.own_share for line in self.lines)


@dataclass(frozen=True)
class ChargeStatement:
    person: str
    name: str
    year: int
    lots: tuple[LotCharges, ...]
    charges: int  # this owner's part of the year's charges
    provisions: int  # working-fund calls of the year addressed to them
    paid: int  # what they paid on the working fund in the year
    reserve_called: int  # reserve-fund calls of the year (not charges)
    brought_forward: int = 0  # owed (> 0) or in their favour (< 0) when the year opened

    @property
    def regularisation(self) -> int:
        """Charges minus provisions: > 0 due, < 0 refundable."""
        return self.charges - self.provisions

    @property
    def balance(self) -> int:
        """What the owner owes at the end (> 0), or is owed (< 0), on the
        working fund: what they owed when the year opened (earlier years'
        statements settled at their closing included), plus the year's
        charges, less what they paid in the year."""
        return self.brought_forward + self.charges - self.paid


@dataclass(frozen=True)
class YearCharges:
    """What every owner's statement of one year reads, computed once: per
    lot, what the building spent and the lot's part, by account and key;
    per owner, what was called and paid."""

    per_lot: Mapping[str, Mapping[tuple[str, str], tuple[int, int]]]
    provisions: Mapping[str, int]  # working-fund calls, per person
    reserve: Mapping[str, int]  # reserve-fund calls, per person
    paid: Mapping[str, int]  # payments on the working fund in the year, per person
    brought_forward: Mapping[str, int]  # working fund owed when the year opened, per person


def year_charges(
    view: LedgerView,
    invoices: Mapping[str, Mapping[str, Any]],
    calls: Mapping[str, Mapping[str, Any]],
    weights: Mapping[str, Mapping[str, int]],
    cancelled: Sequence[Mapping[str, Any]] = (),
) -> YearCharges:
    """The year's charges divided once per account, key and set of weights
    (the weights in force when the invoices were posted): each lot's part of
    the total of those invoices, to the cent (:func:`allocation.allocate`).

    ``cancelled``: invoices of earlier years reversed in this one (a
    duplicate found after the year was closed). Their charges were in that
    year's statements; they come off this year's, split as they were
    (``weights`` then also holds their sets of weights; ids are derived from
    the content, so one id is one set in every year)."""
    reversed_entries = {e.reverses for e in view.entries if e.reverses}
    totals: dict[tuple[str, str, str], int] = defaultdict(int)
    for invoice in invoices.values():
        if invoice.get("entry") in reversed_entries:
            continue
        for line in invoice["lines"]:
            totals[(line["account"], line["key"], line["weights"])] += int(line["amount"])
    taken_back: dict[tuple[str, str, str], int] = defaultdict(int)
    for invoice in cancelled:
        for line in invoice["lines"]:
            taken_back[(line["account"], line["key"], line["weights"])] -= int(line["amount"])
    per_lot: dict[str, dict[tuple[str, str], list[int]]] = defaultdict(
        lambda: defaultdict(lambda: [0, 0])
    )
    # divided apart, so that what comes off is what each lot was charged
    for split in (totals, taken_back):
        for (account, key, snapshot), total in split.items():
            for lot, part in allocate(total, weights[snapshot]).items():
                slot = per_lot[lot][(account, key)]
                slot[0] += total
                slot[1] += part
    provisions: dict[str, int] = defaultdict(int)
    reserve: dict[str, int] = defaultdict(int)
    for call in calls.values():
        target = provisions if call["fund"] == Fund.WORKING.value else reserve
        for share in call["shares"]:
            target[share["person"]] += int(share["amount"])
    paid: dict[str, int] = defaultdict(int)
    opened: dict[str, int] = defaultdict(int)
    for entry in view.entries:
        source = entry.source or ""
        if source.startswith("regularisation:"):
            continue  # the year's own statements, booked at its closing
        for line in entry.lines:
            if not (line.person and line.account == "4101"):
                continue
            if source.startswith("opening:"):
                opened[line.person] += line.amount
            elif line.credit:
                paid[line.person] += line.credit
    return YearCharges(
        {lot: {k: (v[0], v[1]) for k, v in items.items()} for lot, items in per_lot.items()},
        dict(provisions),
        dict(reserve),
        dict(paid),
        dict(opened),
    )


def charge_statement(
    person: str,
    year: int,
    view: LedgerView,
    registry: Registry,
    invoices: Mapping[str, Mapping[str, Any]],
    calls: Mapping[str, Mapping[str, Any]],
    language: str,
    charges_of_year: YearCharges,
) -> ChargeStatement:
    """This owner's décompte for the year (see the module docstring);
    ``charges_of_year`` (:func:`year_charges`) is read once for all owners."""
    index = charges_of_year
    key_names = {k.id: k.name for k in registry.keys}
    chart: Chart = view.chart
    lots_out = []
    charges = 0
    held = sorted({o.lot_id for o in registry.ownerships if o.person_id == person})
    for lot_id in held:
        lot = registry.lot(lot_id)
        paying = payers(registry.holders(lot_id), Fund.WORKING)
        shares: dict[str, int] = {}
        for holder in paying:
            shares[holder.person_id] = shares.get(holder.person_id, 0) + holder.share
        if person not in shares:
            continue  # e.g. a bare owner: the usufructuary bears the running costs
        lines = []
        for (account, key), (total, lot_share) in sorted(index.per_lot.get(lot_id, {}).items()):
            if not lot_share:
                continue
            own = allocate(lot_share, shares)[person]
            found = chart.get(account)
            distribution = registry.key(key)
            weights = distribution.weights if distribution else {}
            lines.append(
                ChargeLine(
                    account,
                    found.label(language) if found else account,
                    key_names.get(key, key),
                    total,
                    lot_share,
                    own,
                    int(weights.get(lot_id, 0)),
                    sum(int(w) for w in weights.values()),
                )
            )
        charge = LotCharges(lot_id, lot.number if lot else lot_id, tuple(lines))
        charges += charge.total
        lots_out.append(charge)
    found_person = registry.person(person)
    return ChargeStatement(
        person,
        found_person.name if found_person else person,
        year,
        tuple(lots_out),
        charges,
        index.provisions.get(person, 0),
        index.paid.get(person, 0),
        index.reserve.get(person, 0),
        index.brought_forward.get(person, 0),
    )


def owners_in(registry: Registry) -> Sequence[str]:
    return sorted({o.person_id for o in registry.ownerships})


@dataclass(frozen=True)
class SimplifiedReport:
    """The simplified accounts allowed below 20 lots (art. 3.89 §5, 17°):
    income and expenses, the cash position, the working and reserve funds,
    and the owners' receivables and the debts — same engine, fewer lines."""

    income: int
    expenses: int
    cash: int  # banks and cash (class 5)
    working_fund: int  # called for the working fund and not yet spent
    reserve_fund: int
    owners_owe: int  # what owners still owe (receivables)
    owners_advance: int  # what owners paid in advance
    debts: int  # suppliers and other debts


def simplified_report(view: LedgerView) -> SimplifiedReport:
    balances = view.balances()
    owners = view.owner_balances()

    def net(*prefixes: str) -> int:
        return sum(b.net for a, b in balances.items() if a.startswith(prefixes))

    income = -net("7")
    expenses = net("6")
    return SimplifiedReport(
        income=income,
        expenses=expenses,
        cash=net("5"),
        working_fund=-net("10") + income - expenses,
        reserve_fund=-net("16"),
        owners_owe=sum(v for v in owners.values() if v > 0),
        owners_advance=-sum(v for v in owners.values() if v < 0),
        debts=-net("44", "45", "17"),
    )
