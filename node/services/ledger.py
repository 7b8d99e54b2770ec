"""Accounting operations: what the CLI and the desktop call (issue 4).

Each operation checks its input, writes whole records in one durable edit of
the ``ledger/<year>`` document, and returns what changed. Amounts an owner
is asked to pay are derived from the registry's quotas and keys
(:mod:`node.domain.accounting.calls`), never typed in.
"""

from __future__ import annotations

import contextlib
from collections import defaultdict
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

from shared.ids import new_ulid

from ..documents import ledger_doc as ldoc
from ..documents.live import LiveDocument
from ..domain.accounting.allocation import allocate
from ..domain.accounting.calls import (
    Budget,
    BudgetKind,
    CallShare,
    Fund,
    ReserveFundCheck,
    Schedule,
    ageing,
    check_reserve_fund,
    instalments,
    open_items_by_owner,
    split_call,
)
from ..domain.accounting.chart import POSTING, Account, Chart, Kind
from ..domain.accounting.ledger import (
    Entry,
    FiscalYear,
    Journal,
    LedgerView,
    Line,
    check_entry,
    closing_entries,
    definitive_numbers,
    fiscal_year,
    fiscal_year_of,
    opening_entry,
    reversal,
)
from ..domain.accounting.statements import income_statement
from ..domain.payments import call_reference, format_eur, parse_eur
from ..domain.registry import GENERAL_KEY_ID
from ..errors import InputError, NotFoundError, ProfileError
from ..i18n import N_, _, current_language, format_day
from .registry import Change

if TYPE_CHECKING:
    from ..session import Session


def structured_reference(year: int, fund: Fund, number: int, index: int) -> str:
    """The structured communication of one owner's part of one call
    (:func:`payments.call_reference`): working-fund calls are numbered 1–49
    in the year, reserve-fund calls 51–99, and the payer index is the
    owner's position among the call's payers sorted by id (from 1) — the
    same on every device."""
    call_number = number if fund is Fund.WORKING else 50 + number
    return call_reference(year, call_number, index + 1)


@dataclass(frozen=True)
class OwnerBalance:
    person: str
    name: str
    balance: int  # > 0 owed, < 0 paid in advance
    ageing: tuple[int, ...]  # open amounts 0–30, 31–60, 61–90, > 90 days past due


@dataclass(frozen=True)
class InvoiceLine:
    account: str
    amount: int  # cents
    key: str = GENERAL_KEY_ID  # distribution key: the quotas, or a special key's id
    label: str = ""


class LedgerService:
    def __init__(self, session: Session) -> None:
        self._session = session

    # -- years and documents --------------------------------------------------------------

    def _start_day(self) -> str:
        association = self._session.registry.read().association
        if association is None:
            raise ProfileError(_("This profile holds no building yet."))
        return association.fiscal_year_start

    def year_of(self, day: date) -> FiscalYear:
        return fiscal_year_of(day, self._start_day())

    def _live(self, label: int, create: bool = True) -> LiveDocument:
        doc_id = f"ledger/{label}"
        store = self._session.profile.store
        if not create and store.document(self._session.building_id, doc_id, create=False) is None:
            raise NotFoundError(_("There are no accounts for {year} yet.").format(year=label))
        live = self._session.document(doc_id)
        if ldoc.read_year(live.doc) is None:
            with live.edit() as doc:
                ldoc.init_year(doc, fiscal_year(label, self._start_day()))
        return live

    def year(self, label: int) -> FiscalYear:
        year = ldoc.read_year(self._live(label).doc)
        assert year is not None
        return year

    def years(self) -> list[int]:
        store = self._session.profile.store
        return sorted(
            int(ref.doc_id.split("/")[1])
            for ref in store.documents()
            if ref.building_id == self._session.building_id and ref.doc_id.startswith("ledger/")
        )

    def chart(self, label: int) -> Chart:
        return Chart.with_custom(ldoc.read_accounts(self._live(label).doc))

    def view(self, label: int) -> LedgerView:
        live = self._live(label)
        entries, _unreadable = ldoc.read_entries(live.doc)
        return LedgerView(tuple(entries), self.chart(label), ldoc.read_numbers(live.doc))

    def _fix_numbers(self, label: int) -> None:
        """Give the year's entries that have none their definitive journal
        number (at the closing, and for entries that reached the year after
        it); numbers given before never change."""
        numbers = definitive_numbers(self.view(label), label)
        if numbers:
            with self._live(label).edit() as doc:
                ldoc.put_numbers(doc, numbers)

    # -- chart --------------------------------------------------------------------------------

    def add_account(self, label: int, number: str, labels: Mapping[str, str]) -> Change:
        """Add a sub-account (e.g. 6120 under 612) with its labels."""
        chart = self.chart(label)
        chart.check_new_sub_account(number)
        if not any(text.strip() for text in labels.values()):
            raise InputError(_("A new account needs a label."))
        account = Account(number, dict(labels), custom=True)
        with self._live(label).edit() as doc:
            ldoc.put_account(doc, account)
        return Change.of("accounts", record_id=number)

    # -- entries -------------------------------------------------------------------------------

    def post(self, entry: Entry) -> Change:
        """Post a checked entry in its fiscal year (refused readably otherwise)."""
        year = self.year_of(entry.date)
        live = self._live(year.label)
        check_entry(entry, self.chart(year.label), self.year(year.label))
        with live.edit() as doc:
            if not ldoc.put_entry(doc, entry):
                raise InputError(_("Entry {id} is already posted.").format(id=entry.id))
        return Change.of("entries", record_id=entry.id)

    @contextmanager
    def atomically(self) -> Iterator[None]:
        """``with ledger.atomically():`` — the edits inside, of any years,
        are kept together or not at all (a crash or an error between them
        leaves nothing half-done: a reversal without its movement back in
        the queue, a match without its charge's split)."""
        lives = [self._live(label) for label in self.years()]
        try:
            with self._session.profile.store.transaction():
                yield
        except BaseException:
            for live in lives:  # nothing was kept: memory follows the disk
                live.reload()
            raise

    def reverse(self, entry_id: str, on: date) -> Change:
        """Correct a posted entry by its reversal (posted entries never change)."""
        for label in self.years():
            found = next((e for e in self.view(label).entries if e.id == entry_id), None)
            if found is not None:
                if any(e.reverses == entry_id for e in self.view(label).entries):
                    raise InputError(_("Entry {id} is already reversed.").format(id=entry_id))
                with self.atomically():
                    change = self.post(reversal(found, f"rev-{entry_id}", on))
                    self._unpay_invoices(entry_id)
                    self._reopen_movements(entry_id)
                return change
        raise NotFoundError(_("There is no entry {id}.").format(id=entry_id))

    def _unpay_invoices(self, entry_id: str) -> None:
        """An invoice whose payment entry is reversed is unpaid again."""
        for label in self.years():
            invoices = ldoc.read_records(self._live(label).doc, "invoices")
            paid = [i for i, f in invoices.items() if f.get("paid_entry") == entry_id]
            if paid:
                with self._live(label).edit() as doc:
                    for invoice_id in paid:
                        ldoc.put_record(doc, "invoices", invoice_id, {"paid_entry": ""})

    def _reopen_movements(self, entry_id: str) -> None:
        """A bank movement whose match is reversed waits in the matching
        queue again, to be matched anew (found by hand: a payment matched to
        the wrong owner could be reversed but never matched again). Every
        device's record of what it matched it to goes with it, so that
        ``ledger check`` compares only the matches made since."""
        for label in self.years():
            doc = self._live(label).doc
            queue = ldoc.read_records(doc, "queue")
            items = [i for i, q in queue.items() if q.get("resolved") == entry_id]
            if not items:
                continue
            with self._live(label).edit() as doc:
                matchings = ldoc.root(doc, "matchings")
                for item_id in items:
                    ldoc.put_record(doc, "queue", item_id, {"resolved": "", "invoice": ""})
                    for key in [k for k in matchings if k.split("|", 1)[0] == item_id]:
                        del matchings[key]

    # -- supplier invoices ---------------------------------------------------------------------

    def key_weights(self, key_id: str) -> dict[str, int]:
        key = self._session.registry.read().key(key_id)
        if key is None:
            raise NotFoundError(_("There is no distribution key {key}.").format(key=key_id))
        weights = {lot: w for lot, w in key.weights.items() if w > 0}
        if not weights:
            raise InputError(
                _("Distribution key {key} gives no weight to any lot.").format(key=key.name)
            )
        return weights

    def add_invoice(
        self,
        supplier: str,
        number: str,
        day: date,
        due: date | None,
        lines: Sequence[InvoiceLine],
    ) -> Change:
        """Record and post a supplier invoice: one expense line per invoice
        line (with its key), the supplier credited, and each line's split
        between lots frozen as it is today (quotas may change later)."""
        if not supplier.strip() or not number.strip():
            raise InputError(_("An invoice needs its supplier and its number."))
        if not lines:
            raise InputError(_("An invoice has at least one line."))
        year = self.year_of(day)
        chart = self.chart(year.label)
        cancelled = {e.reverses for e in self.view(year.label).entries if e.reverses}
        for other in self.invoices(year.label).values():
            if other["entry"] not in cancelled and (
                other["supplier"].casefold(),
                other["number"],
            ) == (supplier.strip().casefold(), number.strip()):
                raise InputError(
                    _("Invoice {number} of {supplier} is already recorded.").format(
                        number=number.strip(), supplier=supplier.strip()
                    )
                )
        allocation = []
        for line in lines:
            account = chart.require(line.account)
            if account.kind not in (Kind.EXPENSE, Kind.FIXED):
                raise InputError(
                    _(
                        "Invoice lines go to charge accounts (class 6) or equipment (class 2), "
                        "not {account}."
                    ).format(account=line.account)
                )
            allocation.append(self.key_weights(line.key))
        invoice_id = new_ulid()
        total = sum(line.amount for line in lines)
        entry = Entry(
            f"inv-{invoice_id}",
            day,
            Journal.PURCHASES,
            number.strip(),
            f"{supplier.strip()} {number.strip()}",
            (
                *[
                    Line(x.account, debit=x.amount, key=x.key, label=x.label)
                    if x.amount > 0
                    else Line(x.account, credit=-x.amount, key=x.key, label=x.label)
                    for x in lines
                ],
                Line(POSTING.suppliers, credit=total, label=supplier.strip())
                if total > 0
                else Line(POSTING.suppliers, debit=-total, label=supplier.strip()),
            ),
            source=f"invoice:{invoice_id}",
        )
        check_entry(entry, chart, self.year(year.label))
        with self._live(year.label).edit() as doc:
            snapshots = [ldoc.put_weights(doc, weights) for weights in allocation]
            ldoc.put_record(
                doc,
                "invoices",
                invoice_id,
                {
                    "supplier": supplier.strip(),
                    "number": number.strip(),
                    "date": day.isoformat(),
                    "due": due.isoformat() if due else "",
                    "lines": [
                        {
                            "account": x.account,
                            "amount": x.amount,
                            "key": x.key,
                            "label": x.label,
                            "weights": snapshot,
                        }
                        for x, snapshot in zip(lines, snapshots, strict=True)
                    ],
                    "entry": entry.id,
                    "paid_entry": "",
                },
            )
            ldoc.put_entry(doc, entry)
        return Change.of("invoices", "entries", record_id=invoice_id)

    def invoices(self, label: int) -> dict[str, dict[str, Any]]:
        return ldoc.read_records(self._live(label).doc, "invoices", ("lines",))

    def weights(self, label: int) -> dict[str, dict[str, int]]:
        """The key weights invoices of the year were split with (by snapshot id)."""
        return ldoc.read_weights(self._live(label).doc)

    def cancelled_from_other_years(
        self, label: int, view: LedgerView
    ) -> tuple[list[dict[str, Any]], dict[str, dict[str, int]]]:
        """The invoices of other years reversed in year ``label`` (``view``,
        its entries as read), a duplicate found after its year was closed,
        and the sets of weights the year's statements split with, theirs
        included (found by hand: such a reversal lowered the building's
        charges but no owner's). Other years are read only when the year
        reverses an entry it does not hold."""
        weights = self.weights(label)
        posted_here = {e.id for e in view.entries}
        elsewhere = {e.reverses for e in view.entries if e.reverses} - posted_here
        cancelled = []
        for other in self.years() if elsewhere else ():
            if other == label:
                continue
            for invoice in self.invoices(other).values():
                if invoice["entry"] in elsewhere:
                    cancelled.append(invoice)
                    weights = {**self.weights(other), **weights}
        return cancelled, weights

    def allocation(self, invoice_id: str) -> list[dict[str, int]]:
        """Each line of an invoice split between lots, to the cent, with the
        weights in force when it was posted (DOMAIN §1; rounding rule in
        :mod:`node.domain.accounting.allocation`)."""
        label, invoice = self._find("invoices", invoice_id, ("lines",))
        snapshots = self.weights(label)
        return [allocate(int(x["amount"]), snapshots[x["weights"]]) for x in invoice["lines"]]

    def pay_invoice(self, invoice_id: str, day: date, bank: str = POSTING.bank_current) -> Change:
        """The bank pays the supplier: an entry in the bank journal."""
        label, invoice = self._find("invoices", invoice_id, ("lines",))
        self.check_payable(label, invoice)
        total = sum(int(x["amount"]) for x in invoice["lines"])
        # the same id on every device for the same payment; a new one after a
        # reversed payment (the reversed entry keeps its id forever)
        earlier = sum(
            1
            for year in self.years()
            for e in self.view(year).entries
            if e.source == f"invoice-payment:{invoice_id}"
        )
        entry = Entry(
            f"pay-{invoice_id}" + (f"-{earlier + 1}" if earlier else ""),
            day,
            Journal.BANK,
            invoice["number"],
            _("Payment {supplier} {number}").format(
                supplier=invoice["supplier"], number=invoice["number"]
            ),
            (Line(POSTING.suppliers, debit=total), Line(bank, credit=total)),
            source=f"invoice-payment:{invoice_id}",
        )
        self.post(entry)
        with self._live(label).edit() as doc:
            ldoc.put_record(doc, "invoices", invoice_id, {"paid_entry": entry.id})
        return Change.of("invoices", "entries", record_id=entry.id)

    def check_payable(self, label: int, invoice: dict[str, Any]) -> None:
        """Refuse to pay an invoice already paid, or one whose entry was
        reversed (found by hand: both were accepted, and the books showed
        a supplier paid twice)."""
        if invoice.get("paid_entry"):
            raise InputError(_("This invoice is already paid."))
        if self._reversed(label, invoice["entry"]):
            raise InputError(
                _(
                    "Invoice {number} was cancelled (its entry is reversed); it cannot be paid."
                ).format(number=invoice["number"])
            )

    def _calls_problems(self, label: int) -> list[str]:
        """Calls made on two devices at once (found by hand: one device's
        budget and another's calls were kept, 800 € under-called, and the
        check said nothing): a call whose amount, shares and entry disagree,
        and calls split from a budget that is no longer the year's."""
        found = []
        entries = {e.id: e for e in self.view(label).entries}
        budget = self.budget(label, BudgetKind.ORDINARY).total
        stale = set()
        for call_id, call in sorted(self.calls(label).items()):
            amount = int(call.get("amount", 0))
            shared = sum(int(s["amount"]) for s in call.get("shares", []))
            entry = entries.get(call.get("entry", ""))
            if shared != amount or entry is None or entry.total != amount:
                found.append(
                    _(
                        "Call {id} was made differently on two devices: its amount, its shares "
                        "and its entry disagree. Check it before sending it to the owners."
                    ).format(id=call_id)
                )
            if call.get("budget_total") not in (None, budget):
                stale.add(int(call["budget_total"]))
        generated: dict[str, set[str]] = defaultdict(set)
        for key, made in ldoc.root(self._live(label).doc, "generated").items():
            generated[key.split("|", 1)[0]].add(str(made))
        language = current_language()

        def said(made: str) -> str:
            amount, _sep, due = made.partition("|")
            with contextlib.suppress(ValueError):
                due = format_day(date.fromisoformat(due))
            return _("{amount} due {due}").format(amount=format_eur(int(amount), language), due=due)

        for call_id, versions in sorted(generated.items()):
            if len(versions) > 1:
                found.append(
                    _(
                        "Call {id} was generated differently on two devices ({versions}); the "
                        "accounts keep one of them. Check it before sending it to the owners."
                    ).format(id=call_id, versions="; ".join(said(v) for v in sorted(versions)))
                )
        if stale:
            language = current_language()
            found.append(
                _(
                    "The working fund's calls of {year} were split from a budget of {then}, "
                    "but the year's ordinary budget is now {now}."
                ).format(
                    year=label,
                    then=", ".join(format_eur(t, language) for t in sorted(stale)),
                    now=format_eur(budget, language),
                )
            )
        return found

    def _invoice_payments(self) -> tuple[dict[str, set[str]], set[str]]:
        """The entries paying each invoice (by the bank journal, or a bank
        movement matched to it), and every reversed entry, over all years."""
        payments: dict[str, set[str]] = {}
        reversed_ids: set[str] = set()
        for year in self.years():
            for e in self.view(year).entries:
                if e.reverses:
                    reversed_ids.add(e.reverses)
                if e.source and e.source.startswith("invoice-payment:"):
                    payments.setdefault(e.source.split(":", 1)[1], set()).add(e.id)
            for item in ldoc.read_records(self._live(year).doc, "queue").values():
                if item.get("invoice") and item.get("resolved"):
                    payments.setdefault(item["invoice"], set()).add(item["resolved"])
        return payments, reversed_ids

    def _reversed(self, label: int, entry_id: str) -> bool:
        return any(e.reverses == entry_id for e in self.view(label).entries)

    def _find(
        self, collection: str, record_id: str, json_fields: tuple[str, ...] = ()
    ) -> tuple[int, dict[str, Any]]:
        for label in self.years():
            records = ldoc.read_records(self._live(label).doc, collection, json_fields)
            if record_id in records:
                return label, records[record_id]
        raise NotFoundError(_("There is no such record: {id}.").format(id=record_id))

    # -- budgets and calls for funds -------------------------------------------------------------

    def set_budget(self, label: int, kind: BudgetKind, lines: Mapping[str, int]) -> Change:
        chart = self.chart(label)
        for number, amount in lines.items():
            chart.require(number)
            if amount < 0:
                raise InputError(_("Budget amounts are zero or more."))
        with self._live(label).edit() as doc:
            ldoc.put_record(doc, "budgets", kind.value, {"lines": dict(lines)})
        return Change.of("budgets")

    def budget(self, label: int, kind: BudgetKind) -> Budget:
        record = ldoc.read_records(self._live(label).doc, "budgets", ("lines",)).get(kind.value)
        lines = {k: int(v) for k, v in (record or {}).get("lines", {}).items()}
        return Budget(label, kind, lines)

    def generate_calls(
        self,
        label: int,
        fund: Fund,
        schedule: Schedule,
        amount: int | None = None,
        key: str = GENERAL_KEY_ID,
        once_on: date | None = None,
        title: str = "",
    ) -> list[str]:
        """Generate the year's calls for one fund: the yearly amount (the
        ordinary budget for the working fund unless given) in instalments,
        each split by the key, then between holders; one entry per call.
        Ids are derived from the year, fund and instalment, so generating
        again (or on another device) changes nothing."""
        year = self.year(label)
        from_budget = amount is None and fund is Fund.WORKING
        if amount is None:
            amount = self.budget(label, BudgetKind.ORDINARY).total if fund is Fund.WORKING else 0
        if amount <= 0:
            raise InputError(_("Nothing to call: set the budget or give the yearly amount."))
        registry = self._session.registry.read()
        weights = self.key_weights(key)
        wrong = [
            p.message
            for p in self._session.registry.problems()
            if p.code in _SPLIT_BLOCKERS and set(p.subjects) & set(weights)
        ]
        if wrong:  # found by hand: a lot whose holders made 150 % was called at 150 %
            raise InputError(
                _("The calls cannot be split while the registry has these problems: {list}").format(
                    list=" ".join(wrong)
                )
            )
        holders = {lot: registry.holders(lot) for lot in weights}
        made = []
        existing = ldoc.read_records(self._live(label).doc, "calls")
        dues = instalments(amount, schedule, year, once_on)
        for number, (due, part) in enumerate(dues, 1):
            call_id = f"{label}-{fund.value}-{number:02d}"
            if call_id in existing:
                continue
            period_end = dues[number][0] - timedelta(days=1) if number < len(dues) else year.end
            shares = split_call(part, weights, holders, fund)
            self._write_call(
                year,
                call_id,
                fund,
                number,
                (due, period_end),
                part,
                key,
                shares,
                title,
                amount if from_budget else None,
            )
            made.append(call_id)
        return made

    def _write_call(
        self,
        year: FiscalYear,
        call_id: str,
        fund: Fund,
        number: int,
        period: tuple[date, date],
        amount: int,
        key: str,
        shares: list[CallShare],
        given_title: str,
        budget_total: int | None = None,
    ) -> None:
        """``given_title``: the syndic's own, or "" for the default (said in
        each reader's language; the entry's description takes it in this
        screen's language, as every entry's description)."""
        due, period_end = period
        title = given_title or _default_title(fund, number, Schedule.ONCE)
        owners_account = POSTING.owners_working if fund is Fund.WORKING else POSTING.owners_reserve
        credit_account = POSTING.ordinary_calls if fund is Fund.WORKING else POSTING.reserve_fund
        records = []
        lines = []
        # one reference per owner and call, whatever the number of their lots:
        # the owner pays one transfer per call
        payers = sorted({share.person for share in shares})
        for share in shares:
            ref = structured_reference(year.label, fund, number, payers.index(share.person))
            records.append(
                {
                    "lot": share.lot,
                    "person": share.person,
                    "amount": share.amount,
                    "reference": ref,
                    "weight": share.weight,
                    "total_weight": share.total_weight,
                    "lot_amount": share.lot_amount,
                }
            )
            lines.append(
                Line(
                    owners_account,
                    debit=share.amount,
                    person=share.person,
                    lot=share.lot,
                    label=ref,
                )
            )
        lines.append(Line(credit_account, credit=amount))
        entry = Entry(
            f"call-{call_id}",
            due,
            Journal.CALLS,
            call_id,
            title,
            tuple(lines),
            source=f"call:{call_id}",
        )
        check_entry(entry, self.chart(year.label), year)
        with self._live(year.label).edit() as doc:
            # what this device generated, under a key of its own: the call made
            # on two devices keeps one version whole (found by hand: a reserve
            # call of 2,000 replaced by another's 750, and nothing said)
            ldoc.root(doc, "generated")[f"{call_id}|{self.device_key()}"] = (
                f"{amount}|{due.isoformat()}"
            )
            ldoc.put_record(
                doc,
                "calls",
                call_id,
                {
                    "fund": fund.value,
                    # only a title the syndic gave: the default is said in
                    # each reader's language (call_title)
                    "title": given_title or None,
                    "due": due.isoformat(),
                    "period_end": period_end.isoformat(),
                    "issued": date.today().isoformat(),
                    "amount": amount,
                    "key": key,
                    "shares": records,
                    "entry": entry.id,
                    # the ordinary budget it was split from: another device's
                    # budget merged in later is told apart (ledger check)
                    "budget_total": budget_total,
                },
            )
            ldoc.put_entry(doc, entry)

    def device_key(self) -> str:
        """This device, for the records each device keeps under a key of its
        own (``generated``, ``matchings``)."""
        store = self._session.profile.store
        return store.get_meta("device_id") or store.get_meta("profile_id") or "here"

    def calls(self, label: int) -> dict[str, dict[str, Any]]:
        return ldoc.read_records(self._live(label).doc, "calls", ("shares",))

    # -- payments ---------------------------------------------------------------------------------

    def record_payment(
        self,
        person: str,
        amount: int,
        day: date,
        reference: str,
        fund: Fund = Fund.WORKING,
        bank: str | None = None,
        entry_id: str | None = None,
    ) -> Change:
        """An owner's payment received on the bank account: partial payments
        and overpayments are kept on their account as they are."""
        self._session.registry.find_person(person)
        if amount <= 0:
            raise InputError(_("A payment is an amount above zero."))
        owners = POSTING.owners_working if fund is Fund.WORKING else POSTING.owners_reserve
        bank = bank or (POSTING.bank_current if fund is Fund.WORKING else POSTING.bank_reserve)
        entry = Entry(
            entry_id or f"rcv-{new_ulid()}",
            day,
            Journal.BANK,
            reference or "-",
            _("Payment received"),
            (Line(bank, debit=amount), Line(owners, credit=amount, person=person)),
            source="payment",
        )
        return self.post(entry)

    def problems(self, label: int) -> list[str]:
        """What is wrong with a year's accounts, in words (never fixed
        silently): an invoice recorded twice (e.g. on two devices at once),
        an unreadable entry, accounts that do not balance."""
        found = []
        seen: dict[tuple[str, str], str] = {}
        payments, reversed_ids = self._invoice_payments()
        for invoice_id, invoice in sorted(self.invoices(label).items()):
            if invoice["entry"] in reversed_ids:
                continue  # cancelled: neither a duplicate nor payable
            if len(payments.get(invoice_id, set()) - reversed_ids) > 1:
                found.append(
                    _(
                        "Invoice {number} of {supplier} is paid twice; reverse the payment "
                        "that is one too many."
                    ).format(number=invoice["number"], supplier=invoice["supplier"])
                )
            key = (invoice["supplier"].casefold(), invoice["number"])
            if key in seen:
                found.append(
                    _("Invoice {number} of {supplier} is recorded twice.").format(
                        number=invoice["number"], supplier=invoice["supplier"]
                    )
                )
            seen[key] = invoice_id
        _entries, unreadable = ldoc.read_entries(self._live(label).doc)
        found += [_("Entry {id} cannot be read.").format(id=e) for e in unreadable]
        given: dict[str, int] = defaultdict(int)
        for number in ldoc.read_numbers(self._live(label).doc).values():
            given[number] += 1
        found += [
            _(
                "Journal number {number} was given to two entries (the year was closed on two "
                "devices at once)."
            ).format(number=number)
            for number, count in sorted(given.items())
            if count > 1
        ]
        if not self.view(label).is_balanced():
            found.append(_("The accounts of {year} do not balance.").format(year=label))
        found += self._matched_twice(label)
        found += self._matched_differently(label)
        found += self._calls_problems(label)
        if any(self.late_in_closed_year(label)):
            found.append(
                _(
                    "Entries reached {year} after it was closed (recorded on another device "
                    "meanwhile): its closing and the opening of {next} leave them out. Carry "
                    "them with 'ledger close-year {year} --amend'."
                ).format(year=label, next=label + 1)
            )
        return found

    def _matched_twice(self, label: int) -> list[str]:
        """A bank movement booked twice: matched when it was imported on one
        device, and matched by hand on another that had left it waiting
        (found by hand: an owner credited twice for one payment, and the
        suspense account in debit). A match takes its amount out of the
        suspense account; its movement's entry then no longer put it there."""
        entries = {e.id: e for e in self.view(label).entries}
        reversed_ids = {e.reverses for e in entries.values() if e.reverses}
        found = []
        for entry in entries.values():
            if (
                not (entry.source or "").startswith("match:")
                or entry.reverses  # a reversal copies its entry's source
                or entry.id in reversed_ids
            ):
                continue
            movement = entries.get(entry.reference)
            if movement is not None and not any(
                line.account == POSTING.suspense for line in movement.lines
            ):
                found.append(
                    _(
                        "Bank movement {movement} is booked twice: matched when imported, and "
                        "again by hand on another device ({entry}). Reverse the one too many: "
                        "ledger reverse {entry}"
                    ).format(movement=movement.id, entry=entry.id)
                )
        return found

    def _matched_differently(self, label: int) -> list[str]:
        """A movement matched offline on two devices to different targets
        (found by hand: to Pierre on one, to Marie on the other; one entry
        stayed, and nobody was told). Each device keeps what it matched
        under a key of its own in ``matchings`` (``BankService.resolve``)."""
        names = {p.id: p.name for p in self._session.registry.read().persons}

        def said(target: str) -> str:
            kind, _sep, ref = target.partition(":")
            if kind == "person":
                return names.get(ref, ref)
            if kind == "account":
                return _("account {account}").format(account=ref)
            return _("invoice {id}").format(id=ref)

        doc = self._live(label).doc
        queue = ldoc.read_records(doc, "queue")
        matched: dict[str, set[str]] = defaultdict(set)
        for key, target in ldoc.root(doc, "matchings").items():
            matched[key.split("|", 1)[0]].add(str(target))
        found = []
        for item_id, targets_set in sorted(matched.items()):
            targets = sorted(targets_set)
            item = queue.get(item_id, {})
            if len(targets) > 1:
                found.append(
                    _(
                        "Bank movement {item} was matched differently on two devices ({targets}); "
                        "the accounts keep one of them, entry {entry}. Check it against the bank "
                        "statement; if it is wrong, reverse it (ledger reverse {entry}): the "
                        "movement then waits to be matched again."
                    ).format(
                        item=item_id,
                        targets="; ".join(said(t) for t in targets),
                        entry=item.get("resolved", ""),
                    )
                )
        return found

    def owner_balances(self, label: int) -> dict[str, int]:
        return self.view(label).owner_balances()

    def balances(self, label: int, today: date) -> list[OwnerBalance]:
        """Each owner's balance with what is late, by age (0–30, 31–60,
        61–90, > 90 days past due)."""
        view = self.view(label)
        persons = {p.id: p for p in self._session.registry.read().persons}
        open_by_owner = open_items_by_owner(view.entries)
        out = []
        for person, balance in view.owner_balances().items():
            found = persons.get(person)
            buckets = ageing(open_by_owner.get(person, []), today)
            out.append(
                OwnerBalance(person, found.name if found else person, balance, tuple(buckets))
            )
        return sorted(out, key=lambda b: b.name.casefold())

    # -- the reserve fund (art. 3.86 §3) -----------------------------------------------------

    def previous_ordinary_charges(self, label: int) -> tuple[int, str]:
        """Last year's ordinary common charges (classes 61–65), and where the
        figure comes from: the previous year's accounts, or — for a first
        year in KoproGo — this year's ordinary budget, said as such."""
        if (label - 1) in self.years():
            rows = income_statement(self.view(label - 1), "en").charges
            return sum(r.amount for r in rows if r.account[:2] in _ORDINARY), "previous-year"
        return self.budget(label, BudgetKind.ORDINARY).total, "budget"

    def reserve_fund_check(self, label: int) -> tuple[ReserveFundCheck, str]:
        association = self._session.registry.read().association
        assert association is not None
        planned = sum(
            int(c["amount"]) for c in self.calls(label).values() if c["fund"] == Fund.RESERVE.value
        )
        charges, basis = self.previous_ordinary_charges(label)
        waived = bool(ldoc.meta(self._live(label).doc).get("reserve_waived"))
        check = check_reserve_fund(
            planned, charges, self.year(label).start, association.provisional_acceptance, waived
        )
        return check, basis

    def record_reserve_waiver(self, label: int, decision: str, waived: bool = True) -> Change:
        """Record the assembly's 4/5 decision to waive the year's reserve-fund
        contribution (art. 3.86 §3), with its reference (minutes, date)."""
        if waived and not decision.strip():
            raise InputError(_("Name the assembly's decision (minutes and date)."))
        with self._live(label).edit() as doc:
            ldoc.set_meta(doc, reserve_waived=waived, reserve_waiver_decision=decision.strip())
        return Change.of("years")

    # -- closing ----------------------------------------------------------------------------------

    def close_year(self, label: int) -> Change:
        """Close a fiscal year: income and expenses carried into the result
        carried forward, the year frozen, the balance sheet opened in the
        next year."""
        year = self.year(label)
        if year.closed:
            raise InputError(_("The fiscal year {year} is already closed.").format(year=label))
        too_early = self.too_early_to_close(label)
        if too_early:
            raise InputError(too_early)
        view = self.view(label)
        if not view.is_balanced():
            raise InputError(
                _("The accounts of {year} do not balance; they cannot be closed.").format(
                    year=label
                )
            )
        settled = self.regularisation(label)
        if settled is not None:
            view = LedgerView((*view.entries, settled), view.chart, view.numbers)
        closing = closing_entries(view, year, f"close-{label}", POSTING.result_carried)
        live = self._live(label)
        with live.edit() as doc:
            if settled is not None:
                ldoc.put_entry(doc, settled)
            if closing is not None:
                ldoc.put_entry(doc, closing)
            ldoc.set_meta(doc, closed=True)
            view = LedgerView(
                (*view.entries, *([closing] if closing else [])), view.chart, view.numbers
            )
            ldoc.put_numbers(doc, definitive_numbers(view, label))
        after = self.view(label)
        next_year = fiscal_year(label + 1, self._start_day())
        opening = opening_entry(after, year, next_year, f"open-{label + 1}")
        with self._live(label + 1).edit() as doc:
            for account in ldoc.read_accounts(live.doc):
                ldoc.put_account(doc, account)
            if opening is not None:
                ldoc.put_entry(doc, opening)
        return Change.of("entries", "years")

    def regularisation(self, label: int) -> Entry | None:
        """The year's charge statements settled on the owners' accounts, as
        the closing books them: each owner's share of the charges against the
        working-fund calls addressed to them (DOMAIN §5: the calls are
        advances), their account debited with what is due or credited with
        what is in their favour, the calls' income (700) by the total. The
        accounts then say what the statements say, and the next year's
        opening carries each owner's whole position (found by hand: an owner
        owing €1,740 read "€180 in your favour" on the next statement)."""
        year = self.year(label)
        lines = []
        for person, amount in sorted(self._session.documents.regularisations(label).items()):
            if amount:
                lines.append(
                    Line(
                        POSTING.owners_working,
                        debit=max(amount, 0),
                        credit=max(-amount, 0),
                        person=person,
                    )
                )
        total = sum(line.debit - line.credit for line in lines)
        if not lines:
            return None
        if total:
            lines.append(Line(POSTING.ordinary_calls, debit=max(-total, 0), credit=max(total, 0)))
        return Entry(
            f"reg-{label}",
            year.end,
            Journal.MISC,
            f"statements-{label}",
            _("Charges of {year} set against the calls for funds (charge statements)").format(
                year=label
            ),
            tuple(lines),
            source=f"regularisation:{label}",
        )

    def too_early_to_close(self, label: int) -> str:
        """Why year ``label`` cannot be closed yet, or "" (found by hand: a
        year closed in November froze it, and December's calls, invoices and
        payments could no longer be booked; a closing is final)."""
        year = self.year(label)
        if self._session.now().date() > year.end:
            return ""
        return _(
            "The fiscal year {year} ends on {end}; it can be closed from {day} on. "
            "A closed year takes no new entries."
        ).format(
            year=label,
            end=format_day(year.end),
            day=format_day(year.end + timedelta(days=1)),
        )

    def late_in_closed_year(self, label: int) -> tuple[Entry | None, Entry | None]:
        """What the closing of ``label`` and the opening of the next year
        leave out: entries another device recorded in the year while this
        one closed it (found by hand: an owner's payment vanished from the
        next year). (complementary closing, complementary opening), None
        where nothing is missing."""
        year = self.year(label)
        if not year.closed:
            return None, None
        view = self.view(label)
        done = sum(1 for e in view.entries if e.source == f"closing:{label}")
        closing = closing_entries(view, year, f"close-{label}-{done + 1}", POSTING.result_carried)
        after = view if closing is None else LedgerView((*view.entries, closing), view.chart)
        next_year = fiscal_year(label + 1, self._start_day())
        wanted = opening_entry(after, year, next_year, "wanted")
        carried: dict[tuple[str, str | None], int] = defaultdict(int)
        for line in wanted.lines if wanted is not None else ():
            carried[(line.account, line.person)] += line.amount
        opened = (
            [e for e in self.view(label + 1).entries if e.source == f"opening:{label + 1}"]
            if label + 1 in self.years()
            else []
        )
        for entry in opened:
            for line in entry.lines:
                carried[(line.account, line.person)] -= line.amount
        lines = tuple(
            Line(account, debit=max(net, 0), credit=max(-net, 0), person=person)
            for (account, person), net in sorted(carried.items(), key=_by_account_and_person)
            if net
        )
        opening = None
        if lines:
            opening = Entry(
                f"open-{label + 1}-{len(opened) + 1}",
                next_year.start,
                Journal.MISC,
                f"opening-{label + 1}",
                _(
                    "Opening balances carried from {year} (entries recorded after its closing)"
                ).format(year=label),
                lines,
                source=f"opening:{label + 1}",
            )
        return closing, opening

    def amend_closing(self, label: int) -> Change:
        """``close-year --amend``: carry the entries that reached a closed
        year after its closing, by complementary closing and opening entries
        (posted entries never change)."""
        if not self.year(label).closed:
            raise InputError(_("The fiscal year {year} is not closed.").format(year=label))
        closing, opening = self.late_in_closed_year(label)
        if closing is None and opening is None:
            raise InputError(
                _("Nothing to amend: the closing of {year} covers all its entries.").format(
                    year=label
                )
            )
        if closing is not None:
            with self._live(label).edit() as doc:
                ldoc.put_entry(doc, closing)
        self._fix_numbers(label)  # the late entries' numbers follow the year's last ones
        if opening is not None:
            with self._live(label + 1).edit() as doc:
                ldoc.put_entry(doc, opening)
        return Change.of("entries")


_ORDINARY = ("61", "62", "63", "64", "65")  # classes of ordinary common charges
# registry problems that make a call's split between a lot's holders wrong
_SPLIT_BLOCKERS = frozenset(
    {"holder_shares_not_100", "lot_without_holders", "duplicate_holder", "unknown_person_reference"}
)


def _by_account_and_person(item: tuple[tuple[str, str | None], int]) -> tuple[str, str]:
    (account, person), _net = item
    return account, person or ""


CALL_TITLES = {
    Fund.WORKING.value: N_("Call for funds — working fund — no. {n}"),
    Fund.RESERVE.value: N_("Call for funds — reserve fund — no. {n}"),
}


def _default_title(fund: Fund, number: int, schedule: Schedule) -> str:
    return _(CALL_TITLES[fund.value]).format(n=number)


def call_title(
    call_id: str, call: Mapping[str, Any], gettext: Callable[[str], str] | None = None
) -> str:
    """The title a person reads: the one the syndic gave, else the default
    in the reader's language (``gettext``; the screen's by default). Found
    by hand: the default was stored in the syndic's screen language, so a
    German owner's statement listed "Appel de fonds — fonds de roulement"."""
    given = str(call.get("title") or "")
    if given:
        return given
    number = call_id.rsplit("-", 1)[-1]
    template = CALL_TITLES.get(str(call.get("fund")), CALL_TITLES[Fund.WORKING.value])
    return (gettext or _)(template).format(n=int(number) if number.isdigit() else number)


def parse_amount(text: str) -> int:
    """An amount in euros as people write it → cents (refused readably)."""
    return parse_eur(text)
