"""Bank statements: importing CODA files and matching what they hold
(issue 4, point 6; DOMAIN §8).

An import is all or nothing: the file is parsed and checked whole
(:mod:`node.domain.coda`), a statement already imported is refused, and
every entry of the file is committed in one SQLite transaction. Each
movement is booked at once in the bank journal: payments whose structured
communication names an open call are credited to that owner (partial
payments and overpayments stay on their account as they are); everything
else goes to the suspense account 499 and into a matching queue, which the
syndic resolves — to an owner, to a supplier's invoice, or to a charge
account — with an entry moving it out of 499.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any

from ..documents import ledger_doc as ldoc
from ..domain.accounting.calls import STATEMENT_CALL_NUMBER, Fund, statement_payers
from ..domain.accounting.chart import POSTING, Kind
from ..domain.accounting.ledger import Entry, Journal, Line, check_entry
from ..domain.accounting.statements import owners_in
from ..domain.coda import Movement, Statement, parse_coda
from ..domain.matching import OpenItem, match_payments, payment_lines
from ..domain.payments import call_reference
from ..domain.registry import GENERAL_KEY_ID
from ..errors import InputError, NotFoundError
from ..i18n import _
from .registry import Change

STATEMENT_CALLS = "statement-"  # open items of charge statements: "statement-<year>:<person>"

if TYPE_CHECKING:
    from ..session import Session


@dataclass(frozen=True)
class ImportReport:
    statements: int
    movements: int
    matched: int  # payments credited to an owner
    queued: int  # left for the syndic in the matching queue
    matched_amount: int  # cents


class BankService:
    def __init__(self, session: Session) -> None:
        self._session = session

    @property
    def _ledger(self):
        return self._session.ledger

    # -- import ---------------------------------------------------------------------------

    def import_coda(self, data: bytes) -> ImportReport:
        """Import a CODA file (one or more statements), all or nothing."""
        statements = parse_coda(data)
        association = self._session.registry.read().association
        if association is None:
            raise InputError(_("This profile holds no building yet."))
        banks = {
            association.iban: (POSTING.bank_current, Fund.WORKING),
            association.reserve_iban: (POSTING.bank_reserve, Fund.RESERVE),
        }
        banks.pop("", None)
        imported = self._imported()
        plans = []
        for statement in statements:
            account = statement.account.replace(" ", "").upper()
            if account not in banks:
                raise InputError(
                    _(
                        "Statement {number} is of account {account}, which is not one of the "
                        "association's accounts (set them in the association's details)."
                    ).format(number=statement.statement_number, account=statement.account)
                )
            if statement.fingerprint in imported:
                raise InputError(
                    _(
                        "Statement {number} of {account} was already imported; nothing was "
                        "imported from this file."
                    ).format(number=statement.statement_number, account=statement.account)
                )
            plans.append((statement, *banks[account]))
        report = self._book(plans)
        return report

    def _imported(self) -> set[str]:
        found: set[str] = set()
        for label in self._ledger.years():
            found |= set(ldoc.read_records(self._ledger._live(label).doc, "statements"))
        return found

    def _open_items(self) -> list[OpenItem]:
        """Every owner's part of a call still (partly) unpaid, by its
        structured reference."""
        items = []
        paid_by_reference: dict[str, int] = defaultdict(int)
        views = {label: self._ledger.view(label) for label in self._ledger.years()}
        calls = {label: self._ledger.calls(label) for label in views}
        for view in views.values():
            for entry in view.entries:
                for line in entry.lines:
                    if line.account.startswith("410") and line.credit and line.label:
                        paid_by_reference[line.label] += line.credit
        for label in views:
            for call_id, call in sorted(calls[label].items()):
                owed: dict[str, list] = {}  # reference -> [person, first lot, amount]
                for share in call["shares"]:
                    slot = owed.setdefault(share["reference"], [share["person"], share["lot"], 0])
                    slot[2] += int(share["amount"])
                for reference, (person, lot, amount) in sorted(owed.items()):
                    due = amount - paid_by_reference.get(reference, 0)
                    if due > 0:
                        items.append(OpenItem(f"{call_id}:{person}", reference, due, person, lot))
        owed = views[max(views)].owner_balances() if views else {}
        return items + self._statement_items(calls, owed)

    def _statement_items(
        self, calls: dict[int, dict[str, dict[str, Any]]], owed: dict[str, int]
    ) -> list[OpenItem]:
        """Each owner's charge statement of every year, by the structured
        communication its PDF prints (found by hand: the statement promises
        that quoting it lets the payment be matched automatically, and it
        waited in the queue). A payment quoting it is the owner's, whatever
        its amount: what they owe now is the item's amount, and more is kept
        on their account as an advance. ``calls``: each year's calls;
        ``owed``: each owner's balance in the latest year."""
        owners = owners_in(self._session.registry.read())
        items = []
        for label, of_year in sorted(calls.items()):
            payers = statement_payers(of_year, owners)
            for person, index in sorted(payers.items()):
                items.append(
                    OpenItem(
                        f"{STATEMENT_CALLS}{label}:{person}",
                        call_reference(label, STATEMENT_CALL_NUMBER, index),
                        max(owed.get(person, 0), 1),
                        person,
                        "",
                    )
                )
        return items

    def _book(self, plans: list[tuple[Statement, str, Fund]]) -> ImportReport:
        items = self._open_items()
        fund_of_call = {}
        for label in self._ledger.years():
            fund_of_call[f"{STATEMENT_CALLS}{label}"] = Fund.WORKING
            for call_id, call in self._ledger.calls(label).items():
                fund_of_call[call_id] = Fund(call["fund"])
        references = {item.id: item.structured_reference for item in items}
        work: dict[int, list[tuple[str, str, Any]]] = defaultdict(list)  # year -> writes
        matched = queued = amount_matched = movements = 0
        for statement, bank, _fund in plans:
            result = match_payments(statement.movements, items)
            credits: dict[int, list[tuple[str, int, str, str]]] = defaultdict(list)
            for match in result.matched:
                credits[id(match.movement)].append(
                    (match.item.person_id, match.amount, match.item.id, match.item.lot_id)
                )
            for over in result.overpaid:
                credits[id(over.movement)].append(
                    (over.item.person_id, over.amount, over.item.id, over.item.lot_id)
                )
            unmatched = {id(m) for m in result.unmatched}
            for movement in statement.movements:
                movements += 1
                entry, queue = self._entry_for(
                    statement, bank, movement, credits, unmatched, fund_of_call, references
                )
                year = self._ledger.year_of(entry.date)
                work[year.label].append(("entry", entry.id, entry))
                for queue_id, record in queue:
                    work[year.label].append(("queue", queue_id, record))
                queued += len(queue)
                matched += sum(1 for part in payment_lines([movement]) if credits.get(id(part)))
                amount_matched += sum(x.credit for x in entry.lines if x.account.startswith("410"))
            first_year = self._ledger.year_of(statement.new_date).label
            work[first_year].append(
                (
                    "statement",
                    statement.fingerprint,
                    {
                        "account": statement.account,
                        "number": statement.statement_number,
                        "new_date": statement.new_date.isoformat(),
                        "movements": len(statement.movements),
                        "new_balance": statement.new_balance,
                    },
                )
            )
        self._write(work)
        return ImportReport(len(plans), movements, matched, queued, amount_matched)

    def _entry_for(
        self,
        statement: Statement,
        bank: str,
        movement: Movement,
        credits: dict,
        unmatched: set[int],
        fund_of_call: dict[str, Fund],
        references: dict[str, str],
    ) -> tuple[Entry, list[tuple[str, dict]]]:
        entry_id = f"coda-{statement.fingerprint[:16]}-{movement.sequence:04d}"
        lines = [
            Line(bank, debit=movement.amount)
            if movement.amount > 0
            else Line(bank, credit=-movement.amount)
        ]
        queue = []
        for index, part in enumerate(payment_lines([movement])):
            owner_credits = credits.get(id(part), [])
            for person, amount, item_id, lot in owner_credits:
                fund = fund_of_call[item_id.split(":")[0]]
                account = POSTING.owners_working if fund is Fund.WORKING else POSTING.owners_reserve
                lines.append(
                    Line(
                        account,
                        credit=amount,
                        person=person,
                        lot=lot,
                        label=references.get(item_id, ""),
                    )
                )
            if not owner_credits:  # no open call named: the syndic decides
                lines.append(
                    Line(POSTING.suspense, credit=part.amount)
                    if part.amount > 0
                    else Line(POSTING.suspense, debit=-part.amount)
                )
                queue.append(
                    (
                        f"{entry_id}-{index}",
                        {
                            "statement": statement.fingerprint,
                            "entry": entry_id,
                            "date": movement.entry_date.isoformat(),
                            "amount": part.amount,
                            "reference": part.structured_reference or "",
                            "communication": part.communication,
                            "counterparty": part.counterparty_account,
                            "name": part.counterparty_name,
                            "bank": bank,
                            "resolved": "",
                        },
                    )
                )
        entry = Entry(
            entry_id,
            movement.entry_date,
            Journal.BANK,
            f"CODA {statement.statement_number}/{movement.sequence}",
            movement.counterparty_name or movement.communication or _("Bank movement"),
            tuple(lines),
            source=f"coda:{statement.fingerprint}:{movement.sequence}",
        )
        return entry, queue

    def _write(self, work: dict[int, list[tuple[str, str, Any]]]) -> None:
        """Every entry and record of the import, in one SQLite transaction."""
        lives = {label: self._ledger._live(label) for label in work}
        for label, writes in work.items():
            year = self._ledger.year(label)
            chart = self._ledger.chart(label)
            for kind, _id, value in writes:
                if kind == "entry":
                    check_entry(value, chart, year)
        with self._ledger.atomically():
            for label, writes in sorted(work.items()):
                with lives[label].edit() as doc:
                    for kind, record_id, value in writes:
                        if kind == "entry":
                            ldoc.put_entry(doc, value)
                        elif kind == "queue":
                            ldoc.put_record(doc, "queue", record_id, value)
                        else:
                            ldoc.put_record(doc, "statements", record_id, value)

    # -- the matching queue ------------------------------------------------------------------

    def queue(self, open_only: bool = True) -> list[dict[str, Any]]:
        rows = []
        for label in self._ledger.years():
            for item_id, item in ldoc.read_records(self._ledger._live(label).doc, "queue").items():
                if open_only and item.get("resolved"):
                    continue
                rows.append({"id": item_id, "year": label, **item})
        return sorted(rows, key=lambda r: (r["date"], r["id"]))

    def resolve(
        self,
        item_id: str,
        day: date | None = None,
        person: str | None = None,
        fund: Fund = Fund.WORKING,
        invoice: str | None = None,
        account: str | None = None,
        key: str | None = None,
    ) -> Change:
        """Move a queued movement out of the suspense account: to an owner
        (a payment), to a supplier's invoice (its payment), or to an account
        (bank charges 650, interest 750...).

        A charge account (class 6) is a charge the owners bear: it is split
        between the lots by ``key`` (the quotas when not given), frozen as
        it is today, like an invoice's line, and recorded with the invoices
        as one paid by this movement (found by hand: bank charges matched
        here lowered the building's result but reached no owner's
        statement)."""
        item = next((r for r in self.queue(open_only=False) if r["id"] == item_id), None)
        if item is None:
            raise NotFoundError(_("There is no such movement in the matching queue."))
        if item.get("resolved"):
            raise InputError(_("This movement is already matched."))
        if sum(x is not None for x in (person, invoice, account)) != 1:
            raise InputError(_("Match the movement to one owner, one invoice or one account."))
        amount = int(item["amount"])
        day = day or date.fromisoformat(item["date"])
        weights = None  # a charge's split between the lots
        if person is not None:
            self._session.registry.find_person(person)
            target = Line(
                POSTING.owners_working if fund is Fund.WORKING else POSTING.owners_reserve,
                credit=amount,
                person=person,
            )
        elif invoice is not None:
            if amount >= 0:
                raise InputError(_("A supplier's invoice is paid by money going out."))
            invoice_year, found = self._ledger._find("invoices", invoice)
            self._ledger.check_payable(invoice_year, found)
            target = Line(POSTING.suppliers, debit=-amount)
        else:
            chart = self._ledger.chart(self._ledger.year_of(day).label)
            charge = chart.require(account).kind is Kind.EXPENSE
            if key is not None and not charge:
                raise InputError(
                    _("Only a charge (class 6) is split by a key; {account} is not one.").format(
                        account=account
                    )
                )
            key = (key or GENERAL_KEY_ID) if charge else None
            weights = self._ledger.key_weights(key) if key else None
            target = (
                Line(account, credit=amount, key=key)
                if amount > 0
                else Line(account, debit=-amount, key=key)
            )
        suspense = (
            Line(POSTING.suspense, debit=amount)
            if amount > 0
            else Line(POSTING.suspense, credit=-amount)
        )
        # A movement matched again after its match was reversed takes the
        # next id (the same on every device, like the first).
        earlier = sum(
            1
            for e in self._ledger.view(self._ledger.year_of(day).label).entries
            if e.source == f"match:{item_id}" and not e.reverses
        )
        entry = Entry(
            f"match-{item_id}" + (f"-{earlier + 1}" if earlier else ""),
            day,
            Journal.BANK,
            item["entry"],
            _("Matched: {what}").format(
                what=item.get("name") or item.get("communication") or item_id
            ),
            (suspense, target),
            source=f"match:{item_id}",
        )
        with self._ledger.atomically():  # the match, its queue item and its charge together
            change = self._ledger.post(entry)
            # What this device matched it to, under a key of its own: two devices
            # matching it offline, differently, keep one entry (the same id) but
            # both keys, which `ledger check` compares (found by hand: one
            # syndic's decision vanished without a word).
            device = self._ledger.device_key()
            mine = (
                f"person:{person}" if person is not None
                else f"invoice:{invoice}" if invoice is not None
                else f"account:{account}"
            )  # fmt: skip
            with self._ledger._live(item["year"]).edit() as doc:
                resolved = {"resolved": entry.id} | ({"invoice": invoice} if invoice else {})
                ldoc.put_record(doc, "queue", item_id, resolved)
                ldoc.root(doc, "matchings")[f"{item_id}|{device}"] = mine
            if invoice is not None:
                with self._ledger._live(invoice_year).edit() as doc:
                    ldoc.put_record(doc, "invoices", invoice, {"paid_entry": entry.id})
            if weights is not None:
                self._record_charge(entry, item, -amount, account, key, weights)
        return change

    def _record_charge(
        self,
        entry: Entry,
        item: dict[str, Any],
        amount: int,
        account: str,
        key: str,
        weights: dict[str, int],
    ) -> None:
        """A charge matched from the bank, kept with the invoices (paid by
        its movement) so that the owners' statements divide it; its id is
        the match's, the same on every device."""
        with self._ledger._live(self._ledger.year_of(entry.date).label).edit() as doc:
            ldoc.put_record(
                doc,
                "invoices",
                entry.id,
                {
                    "supplier": item.get("name") or _("Bank"),
                    "number": item.get("communication") or item.get("reference") or item["id"],
                    "date": entry.date.isoformat(),
                    "due": "",
                    "lines": [
                        {
                            "account": account,
                            "amount": amount,
                            "key": key,
                            "label": entry.description,
                            "weights": ldoc.put_weights(doc, weights),
                        }
                    ],
                    "entry": entry.id,
                    "paid_entry": entry.id,
                },
            )
