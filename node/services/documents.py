"""The accounting documents as PDFs, from the ledger (issue 4, points 5 and 7).

Builds the plain inputs of :mod:`node.pdf` from what the ledger and the
registry hold — each owner's call-for-funds notice in their language with
the structured communication and the EPC QR code, their charge statement —
and renders them. Nothing here computes an amount: calls and statements
come from :mod:`node.services.ledger` and :mod:`node.domain.accounting`.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta
from typing import TYPE_CHECKING

from ..domain.accounting.calls import Fund
from ..domain.accounting.statements import ChargeStatement, charge_statement
from ..domain.registry import GENERAL_KEY_ID, Association, Person
from ..errors import InputError, NotFoundError
from ..i18n import _
from ..pdf import call_for_funds as cpdf
from ..pdf import charge_statement as spdf
from ..pdf.layout import Letterhead, Recipient
from ..pdf.payment import PaymentDetails

if TYPE_CHECKING:
    from ..session import Session


PAYMENT_DAYS = 30  # a balance due on a charge statement is asked within 30 days


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
                        reference=call_id,
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

    # -- charge statements ---------------------------------------------------------------------

    def charge_statement(self, person_id: str, label: int, language: str) -> ChargeStatement:
        ledger = self._session.ledger
        return charge_statement(
            person_id,
            label,
            ledger.view(label),
            self._session.registry.read(),
            ledger.invoices(label),
            ledger.calls(label),
            language,
        )

    def charge_statement_pdf(self, person_id: str, label: int) -> bytes:
        person = self._person(person_id)
        statement = self.charge_statement(person_id, label, person.language)
        association = self._association()
        year = self._session.ledger.year(label)
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
        for call_id, call in sorted(self._session.ledger.calls(label).items()):
            if call["fund"] != Fund.WORKING.value:
                continue
            called = sum(int(s["amount"]) for s in call["shares"] if s["person"] == person_id)
            if called:
                calls.append(
                    spdf.CallPaid(
                        call.get("title") or call_id, called, 0, date.fromisoformat(call["due"])
                    )
                )
        paid_left = statement.paid
        calls_paid = []
        for item in calls:  # payments settle the oldest calls first
            settled = min(item.called_cents, paid_left)
            paid_left -= settled
            calls_paid.append(spdf.CallPaid(item.label, item.called_cents, settled, item.due_date))
        payment = None
        if statement.balance > 0 and association.iban:
            from ..domain.payments import call_reference

            index = sorted({o.person_id for o in self._session.registry.read().ownerships})
            payment = PaymentDetails(
                association.iban,
                association.name,
                call_reference(label, 99, index.index(person_id) + 1),
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
        )
        return spdf.render_charge_statement(document)
