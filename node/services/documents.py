"""The accounting documents as PDFs, from the ledger (issue 4, points 5 and 7).

Builds the plain inputs of :mod:`node.pdf` from what the ledger and the
registry hold — each owner's call-for-funds notice in their language with
the structured communication and the EPC QR code, their charge statement —
and renders them. Nothing here computes an amount: calls and statements
come from :mod:`node.services.ledger` and :mod:`node.domain.accounting`.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

from ..domain.accounting.calls import STATEMENT_CALL_NUMBER, Fund, statement_payers
from ..domain.accounting.ledger import FiscalYear, LedgerView
from ..domain.accounting.statements import (
    ChargeStatement,
    YearCharges,
    charge_statement,
    owners_in,
    year_charges,
)
from ..domain.registry import GENERAL_KEY_ID, Association, Person, Registry
from ..errors import InputError, NotFoundError
from ..i18n import N_, _, format_day, translator
from ..pdf import call_for_funds as cpdf
from ..pdf import charge_statement as spdf
from ..pdf.layout import Letterhead, Recipient
from ..pdf.payment import PaymentDetails
from .ledger import call_title

if TYPE_CHECKING:
    from ..session import Session


# inbox items are written in each owner's language (translator(language)),
# so their texts are marked here and translated when delivered
_CALL_TEXT = N_("{amount} due on {due}, to {iban}, with the communication {reference}.")
_STATEMENT_TITLE = N_("Charge statement {year}")
_STATEMENT_TEXT = N_("Your charges: {charges}; called: {called}; paid: {paid}; balance: {balance}.")

PAYMENT_DAYS = 30  # a balance due on a charge statement is asked within 30 days


@dataclass(frozen=True)
class _YearData:
    label: int
    view: LedgerView
    registry: Registry
    invoices: Mapping[str, Any]
    calls: Mapping[str, Any]
    charges: YearCharges
    year: FiscalYear


class DocumentsService:
    def __init__(self, session: Session) -> None:
        self._session = session

    def _association(self) -> Association:
        association = self._session.registry.read().association
        if association is None:
            raise InputError(_("This profile holds no building yet."))
        return association

    def _person(self, person_id: str) -> Person:
        return self._session.registry.find_person(person_id)

    # -- calls for funds ----------------------------------------------------------------------

    def call_notices(self, call_id: str) -> list[tuple[str, cpdf.CallNotice]]:
        """(person id, notice) for every owner of one call, in their language."""
        label = int(call_id.split("-")[0])
        call = self._session.ledger.calls(label).get(call_id)
        if call is None:
            raise NotFoundError(_("There is no call {id}.").format(id=call_id))
        association = self._association()
        fund = Fund(call["fund"])
        iban = (
            association.iban
            if fund is Fund.WORKING
            else (association.reserve_iban or association.iban)
        )
        if not iban:
            raise InputError(
                _(
                    "Enter the association's bank account (IBAN) in its details first: it is "
                    "printed on every call for funds."
                )
            )
        registry = self._session.registry.read()
        key = registry.key(call["key"])
        key_name = "" if call["key"] == GENERAL_KEY_ID or key is None else key.name
        by_person: dict[str, list[dict]] = defaultdict(list)
        for share in call["shares"]:
            by_person[share["person"]].append(share)
        notices = []
        letterhead = Letterhead(association)
        for person_id, shares in sorted(by_person.items()):
            person = self._person(person_id)
            lines = tuple(
                cpdf.NoticeLine(
                    registry.lot(s["lot"]).number if registry.lot(s["lot"]) else s["lot"],
                    int(s.get("weight", 0)),
                    int(s.get("total_weight", 1)) or 1,
                    int(s["amount"]),
                    key_name,
                )
                for s in sorted(shares, key=lambda s: s["lot"])
            )
            notices.append(
                (
                    person_id,
                    cpdf.CallNotice(
                        letterhead=letterhead,
                        language=person.language,
                        recipient=Recipient.from_person(person),
                        fund=cpdf.Fund(fund.value),
                        period_start=date.fromisoformat(call["due"]),
                        period_end=date.fromisoformat(call.get("period_end") or call["due"]),
                        issued_on=date.fromisoformat(call.get("issued") or call["due"]),
                        due_date=date.fromisoformat(call["due"]),
                        lines=lines,
                        payment=PaymentDetails(
                            iban, association.name, shares[0]["reference"], association.bic
                        ),
                        # the call as the owner reads it, not its internal id
                        reference=call_title(call_id, call, translator(person.language).gettext),
                        call_total_cents=int(call["amount"]),
                    ),
                )
            )
        return notices

    def call_notice_pdf(self, call_id: str, person_id: str) -> bytes:
        for person, notice in self.call_notices(call_id):
            if person == person_id:
                return cpdf.render_call_notice(notice)
        raise NotFoundError(_("That person is not called in {id}.").format(id=call_id))

    def call_notices_pdf(self, call_id: str) -> bytes:
        """Every owner's notice of one call, in one PDF for printing."""
        return cpdf.render_call_notices([n for _p, n in self.call_notices(call_id)])

    def deliver_calls(self, label: int) -> int:
        """Each owner's part of each call of the year into their inbox
        (``inbox/<person>``), in their language: readable on their own
        devices, and nobody else's."""
        from ..domain.payments import format_eur, format_iban

        delivered = 0
        calls = self._session.ledger.calls(label)
        for call_id in sorted(calls):
            for person_id, notice in self.call_notices(call_id):
                t = translator(notice.language)
                amount = format_eur(notice.total_cents, notice.language)
                title = call_title(call_id, calls[call_id], t.gettext)
                text = t.gettext(_CALL_TEXT).format(
                    amount=amount,
                    due=format_day(notice.due_date, notice.language),
                    iban=format_iban(notice.payment.iban),
                    reference=notice.payment.structured_reference,
                )
                data = json.dumps(
                    {
                        "call": call_id,
                        "amount": notice.total_cents,
                        "due": notice.due_date.isoformat(),
                        "reference": notice.payment.structured_reference,
                        "iban": notice.payment.iban,
                    }
                )
                self._session.inbox.put(person_id, f"call-{call_id}", "call", title, text, data)
                delivered += 1
        return delivered

    def deliver_statements(self, label: int) -> int:
        """Each owner's charge statement of the year into their inbox."""
        from ..domain.accounting.statements import owners_in
        from ..domain.payments import format_eur

        delivered = 0
        data_of_year = self._year(label)
        for person_id in owners_in(data_of_year.registry):
            person = self._person(person_id)
            statement = self.charge_statement(person_id, label, person.language, data_of_year)
            if not statement.lots and not statement.provisions:
                continue
            t = translator(person.language)
            title = t.gettext(_STATEMENT_TITLE).format(year=label)
            money = {
                k: format_eur(v, person.language)
                for k, v in (
                    ("charges", statement.charges),
                    ("called", statement.provisions),
                    ("paid", statement.paid),
                    ("balance", statement.balance),
                )
            }
            text = t.gettext(_STATEMENT_TEXT).format(**money)
            data = json.dumps(
                {
                    "year": label,
                    "charges": statement.charges,
                    "provisions": statement.provisions,
                    "paid": statement.paid,
                    "balance": statement.balance,
                }
            )
            self._session.inbox.put(person_id, f"statement-{label}", "statement", title, text, data)
            delivered += 1
        return delivered

    # -- charge statements ---------------------------------------------------------------------

    def _year(self, label: int) -> _YearData:
        """Everything the statements of one year read, read once."""
        ledger = self._session.ledger
        view, invoices, calls = ledger.view(label), ledger.invoices(label), ledger.calls(label)
        cancelled, weights = ledger.cancelled_from_other_years(label, view)
        return _YearData(
            label,
            view,
            self._session.registry.read(),
            invoices,
            calls,
            year_charges(view, invoices, calls, weights, cancelled),
            ledger.year(label),
        )

    def charge_statement(
        self, person_id: str, label: int, language: str, data: _YearData | None = None
    ) -> ChargeStatement:
        d = data or self._year(label)
        return charge_statement(
            person_id, label, d.view, d.registry, d.invoices, d.calls, language, d.charges
        )

    def regularisations(self, label: int) -> dict[str, int]:
        """Per person, the year's statement's charges minus the working-fund
        calls addressed to them (> 0 due, < 0 in their favour): what the
        closing books on their accounts (``LedgerService.regularisation``).
        A person called in the year who holds no lot any more (a seller) has
        the calls in their favour: the buyer's statement bears the year."""
        d = self._year(label)
        persons = set(owners_in(d.registry)) | set(d.charges.provisions)
        out = {}
        for person in sorted(persons):
            statement = self.charge_statement(person, label, "en", d)
            out[person] = statement.regularisation
        return out

    def charge_statement_pdf(
        self, person_id: str, label: int, data: _YearData | None = None
    ) -> bytes:
        d = data or self._year(label)
        person = self._person(person_id)
        statement = self.charge_statement(person_id, label, person.language, d)
        association = self._association()
        year = d.year
        lots = []
        for lot in statement.lots:
            by_key: dict[str, list] = defaultdict(list)
            for line in lot.lines:
                by_key[line.key].append(line)
            keys = tuple(
                spdf.KeyCharges(
                    lines[0].weight,
                    max(lines[0].total_weight, lines[0].weight, 1),
                    tuple(
                        spdf.ExpenseLine(x.account, x.label, x.building_total, x.own_share)
                        for x in lines
                    ),
                    "" if name == GENERAL_KEY_ID else name,
                )
                for name, lines in sorted(by_key.items())
            )
            if keys:
                lots.append(spdf.LotCharges(lot.number, keys))
        calls = []
        for call_id, call in sorted(d.calls.items()):
            if call["fund"] != Fund.WORKING.value:
                continue
            called = sum(int(s["amount"]) for s in call["shares"] if s["person"] == person_id)
            if called:
                calls.append(
                    spdf.CallPaid(
                        call_title(call_id, call, translator(person.language).gettext),
                        called,
                        0,
                        date.fromisoformat(call["due"]),
                    )
                )
        paid_left = statement.paid
        calls_paid = []
        for item in calls:  # payments settle the oldest calls first
            settled = min(item.called_cents, paid_left)
            paid_left -= settled
            calls_paid.append(spdf.CallPaid(item.label, item.called_cents, settled, item.due_date))
        payment = None
        index = statement_payers(d.calls, owners_in(d.registry))
        if statement.balance > 0 and association.iban and person_id in index:
            from ..domain.payments import call_reference

            payment = PaymentDetails(
                association.iban,
                association.name,
                call_reference(label, STATEMENT_CALL_NUMBER, index[person_id]),
                association.bic,
            )
        document = spdf.ChargeStatement(
            letterhead=Letterhead(association),
            language=person.language,
            recipient=Recipient.from_person(person),
            period_start=year.start,
            period_end=year.end,
            issued_on=date.today(),
            lots=tuple(lots),
            calls=tuple(calls_paid),
            payment=payment,
            due_date=date.today() + timedelta(days=PAYMENT_DAYS) if payment else None,
            brought_forward_cents=statement.brought_forward,
        )
        return spdf.render_charge_statement(document)

    def charge_statement_pdfs(self, label: int) -> Iterator[tuple[str, bytes]]:
        """(person id, PDF) of every owner's statement of the year, the year
        read once; a generator, so a screen can show progress."""
        data = self._year(label)
        for person_id in owners_in(data.registry):
            statement = self.charge_statement(person_id, label, "en", data)
            if statement.lots:
                yield person_id, self.charge_statement_pdf(person_id, label, data)
