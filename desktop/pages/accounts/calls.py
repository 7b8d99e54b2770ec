"""Calls for funds: the year's calls, what each owner is asked for and has
paid, one owner's notice as it will be printed, the notices as PDFs, and
their delivery to the owners' inboxes.

"Generate calls…" derives every amount from the yearly amount (the
ordinary budget for the working fund, unless another is given), the
schedule and the distribution key (:meth:`LedgerService.generate_calls`);
nothing an owner pays is typed in. Generating again changes nothing.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from node.domain.accounting.calls import BudgetKind, Fund, reserve_fund_minimum
from node.domain.accounting.ledger import LedgerView
from node.domain.registry import GENERAL_KEY_ID, Registry
from node.i18n import N_, _, ngettext
from node.pdf.call_for_funds import CallNotice
from node.services.ledger import call_title
from node.services.registry import Change
from node.session import Session

from ...labels import fmt_date, fmt_eur, natural_key
from ...ops import Ops
from ...qt import QLabel, QSplitter, Qt, QVBoxLayout, QWidget
from ...table import Column, RecordTable
from ...widgets import RecordDialog, alive
from .base import AccountsContext, AccountsPage, YearsInfo
from .generate_dialog import GenerateCallsDialog
from .notice import NoticePreview, reference_text
from .pdf_actions import NoticePdfs

FUND_LABELS = {Fund.WORKING: N_("Working fund"), Fund.RESERVE: N_("Reserve fund")}


def fund_label(fund: str) -> str:
    return _(FUND_LABELS[Fund(fund)])


@dataclass(frozen=True)
class CallRow:
    id: str
    title: str
    fund: str
    due: str
    period_end: str
    amount: int
    key: str
    shares: tuple[dict[str, Any], ...]
    paid: int  # what the owners paid on it so far

    @property
    def owners(self) -> int:
        return len({s["person"] for s in self.shares})


@dataclass(frozen=True)
class CallsData:
    year: int
    rows: tuple[CallRow, ...]
    ordinary_budget: int
    reserve_minimum: int
    paid: dict[tuple[str, str], int]  # (call id, person) -> paid on it


def paid_per_call(view: LedgerView, calls: dict[str, dict[str, Any]]) -> dict[tuple[str, str], int]:
    """(call id, person) -> what the owner paid on it: their payments on
    each owners' account settle the oldest amounts first (the opening
    balance, then the calls by due date), as the ageing of balances does."""
    call_of_entry = {call["entry"]: call_id for call_id, call in calls.items()}
    debits: dict[tuple[str, str], list[tuple[Any, str, int]]] = defaultdict(list)
    credits: dict[tuple[str, str], int] = defaultdict(int)
    for entry in view.entries:
        for line in entry.lines:
            if line.account.startswith("410") and line.person:
                key = (line.account, line.person)
                if line.debit:
                    debits[key].append((entry.date, entry.id, line.debit))
                credits[key] += line.credit
    paid: dict[tuple[str, str], int] = defaultdict(int)
    for key, items in debits.items():
        left = credits[key]
        for _day, entry_id, amount in sorted(items):
            settled = min(amount, left)
            left -= settled
            if entry_id in call_of_entry:
                paid[(call_of_entry[entry_id], key[1])] += settled
    return dict(paid)


def read_calls(session: Session, year: int, info: YearsInfo) -> CallsData:
    if year not in info.years:
        reserve = 0
        if year - 1 in info.years:
            charges, _basis = session.ledger.previous_ordinary_charges(year)
            reserve = reserve_fund_minimum(charges)
        return CallsData(year, (), 0, reserve, {})
    ledger = session.ledger
    calls = ledger.calls(year)
    paid = paid_per_call(ledger.view(year), calls)
    rows = []
    for call_id, call in sorted(calls.items()):
        rows.append(
            CallRow(
                call_id,
                call_title(call_id, call),
                call["fund"],
                call["due"],
                call.get("period_end") or call["due"],
                int(call["amount"]),
                call.get("key") or GENERAL_KEY_ID,
                tuple(call["shares"]),
                sum(v for (c, _person), v in paid.items() if c == call_id),
            )
        )
    check, _basis = ledger.reserve_fund_check(year)
    budget = ledger.budget(year, BudgetKind.ORDINARY).total
    return CallsData(year, tuple(rows), budget, check.minimum, paid)


CALL_COLUMNS = (
    Column(N_("Call"), lambda r: r.title, sort=lambda r: (r.due, r.fund), tooltip=lambda r: r.id),
    Column(N_("Fund"), lambda r: fund_label(r.fund)),
    Column(N_("Due"), lambda r: fmt_date(r.due), sort=lambda r: (r.due, r.fund)),
    Column(N_("Amount"), lambda r: fmt_eur(r.amount), sort=lambda r: r.amount, numeric=True),
    Column(N_("Paid"), lambda r: fmt_eur(r.paid), sort=lambda r: r.paid, numeric=True),
    Column(N_("Owners"), lambda r: str(r.owners), sort=lambda r: r.owners, numeric=True),
)


@dataclass(frozen=True)
class OwnerRow:
    id: str  # the person
    name: str
    lots: tuple[str, ...]
    amount: int
    reference: str
    paid: int

    @property
    def due(self) -> int:
        return self.amount - self.paid


def owner_rows(
    call: CallRow, registry: Registry, paid: dict[tuple[str, str], int]
) -> list[OwnerRow]:
    by_person: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for share in call.shares:
        by_person[share["person"]].append(share)
    rows = []
    for person_id, shares in by_person.items():
        person = registry.person(person_id)
        lots = tuple(
            sorted(
                {
                    (registry.lot(s["lot"]).number if registry.lot(s["lot"]) else s["lot"])
                    for s in shares
                },
                key=natural_key,
            )
        )
        amount = sum(int(s["amount"]) for s in shares)
        reference = shares[0]["reference"]
        rows.append(
            OwnerRow(
                person_id,
                person.name if person else person_id,
                lots,
                amount,
                reference,
                paid.get((call.id, person_id), 0),
            )
        )
    return sorted(rows, key=lambda r: r.name.casefold())


OWNER_COLUMNS = (
    Column(N_("Owner"), lambda r: r.name),
    Column(N_("Lots"), lambda r: ", ".join(r.lots), sort=lambda r: tuple(map(natural_key, r.lots))),
    Column(N_("Amount"), lambda r: fmt_eur(r.amount), sort=lambda r: r.amount, numeric=True),
    Column(
        N_("Communication"),
        lambda r: reference_text(r.reference),
        tooltip=lambda r: _("Structured communication"),
    ),
    Column(
        N_("Unpaid"),
        lambda r: fmt_eur(r.due) if r.due else "—",
        sort=lambda r: r.due,
        numeric=True,
        muted=lambda r: not r.due,
    ),
)


class CallsPage(AccountsPage):
    title_msgid = N_("Calls for funds")

    def __init__(self, ops: Ops, context: AccountsContext, parent: QWidget | None = None) -> None:
        super().__init__(ops, context, parent)
        self.paid: dict[tuple[str, str], int] = {}
        self.notices: dict[str, tuple[tuple[str, CallNotice], ...]] = {}  # call id -> notices
        self.notice_error: dict[str, str] = {}
        self.pdfs = NoticePdfs(self)
        self.generate_button = self.button(_("&Generate calls…"), self.generate)
        self.generate_button.setObjectName("primary")
        self.deliver_button = self.button(
            _("&Deliver to owners' inboxes"),
            self.deliver,
            _("Put each owner's part of every call of the year in their inbox"),
        )
        self.pdf_button = self.pdfs.menu_button()
        self.layout_.addLayout(
            self.toolbar(self.generate_button, self.deliver_button, self.pdf_button)
        )
        self.layout_.addWidget(self.load_error)

        self.table = RecordTable(CALL_COLUMNS, stretch=0, fit=True)
        self.table.setObjectName("callsTable")
        self.table.sortByColumn(2, Qt.SortOrder.AscendingOrder)  # by due date
        self.owners = RecordTable(OWNER_COLUMNS, stretch=0, fit=True)
        self.owners.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.owners.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.owners.setObjectName("callOwnersTable")
        self.owners_title = QLabel()
        self.owners_title.setObjectName("sectionTitle")
        self.owners_check = QLabel()
        self.owners_check.setObjectName("allocationCheck")
        self.preview = NoticePreview()

        owners = QWidget()
        owners_layout = QVBoxLayout(owners)
        owners_layout.setContentsMargins(0, 6, 0, 0)
        owners_layout.addWidget(self.owners_title)
        owners_layout.addWidget(self.owners, 1)
        owners_layout.addWidget(self.owners_check)
        left = QSplitter(Qt.Orientation.Vertical)
        left.addWidget(self.table)
        left.addWidget(owners)
        left.setStretchFactor(0, 2)
        left.setStretchFactor(1, 3)
        left.setChildrenCollapsible(False)
        left.setSizes([180, 300])
        split = QSplitter(Qt.Orientation.Horizontal)
        split.addWidget(left)
        split.addWidget(self.preview)
        split.setStretchFactor(0, 11)
        split.setStretchFactor(1, 9)
        split.setChildrenCollapsible(False)
        split.setSizes([615, 420])
        self.layout_.addWidget(split, 1)
        self.table.selectionModel().selectionChanged.connect(lambda *_a: self._call_selected())
        self.owners.selectionModel().selectionChanged.connect(lambda *_a: self._owner_selected())
        self._call_selected()

    # -- reading ------------------------------------------------------------------------------

    def read(self, session: Session, year: int, info: YearsInfo) -> CallsData:
        return read_calls(session, year, info)

    def show_data(self, data: CallsData) -> None:
        self.paid = data.paid
        self.notices.clear()  # a change may have renamed an owner or moved an IBAN
        self.notice_error.clear()
        self.table.set_rows(list(data.rows))
        if self.table.current_row() is None and data.rows:
            self.table.selectRow(0)
        self._call_selected()

    def selected_call(self) -> CallRow | None:
        return self.table.current_row()

    def selected_owner(self) -> OwnerRow | None:
        return self.owners.current_row()

    def _call_selected(self) -> None:
        call = self.selected_call()
        if call is None or self.state is None:
            self.owners_title.setText(
                _("No calls for this year yet: generate them from the budget.")
                if self.data is not None and not self.data.rows
                else _("Choose a call to see what each owner is asked for.")
            )
            self.owners.set_rows([])
            self.owners_check.clear()
            self.preview.show_message(_("Choose a call, then an owner, to see their notice."))
            self.update_actions()
            return
        rows = owner_rows(call, self.state.registry, self.paid)
        self.owners_title.setText(
            _("{title} · due {due}").format(title=call.title, due=fmt_date(call.due))
        )
        self.owners.set_rows(rows)
        if self.owners.current_row() is None and rows:
            self.owners.selectRow(0)
        total = sum(r.amount for r in rows)
        self.owners_check.setProperty("ok", total == call.amount)
        self.owners_check.setText(
            ngettext(
                "{owners} owner is asked for {total}; the call is {amount}.",
                "{owners} owners are asked for {total}; the call is {amount}.",
                len(rows),
            ).format(owners=len(rows), total=fmt_eur(total), amount=fmt_eur(call.amount))
        )
        self.owners_check.style().unpolish(self.owners_check)
        self.owners_check.style().polish(self.owners_check)
        self._load_notices(call.id)
        self._owner_selected()

    def _load_notices(self, call_id: str) -> None:
        if call_id in self.notices or call_id in self.notice_error:
            return

        def loaded(notices: list[tuple[str, CallNotice]]) -> None:
            if alive(self):
                self.notices[call_id] = tuple(notices)
                self._owner_selected()

        def refused(exc: Exception) -> None:
            if alive(self):
                self.notice_error[call_id] = str(exc)
                self._owner_selected()

        self.ops.run(
            lambda s: s.documents.call_notices(call_id),
            on_done=loaded,
            on_error=refused,
            background=True,
        )

    def _owner_selected(self) -> None:
        call, owner = self.selected_call(), self.selected_owner()
        self.update_actions()
        if call is None or owner is None:
            self.preview.show_message(_("Choose an owner to see their notice."))
            return
        if call.id in self.notice_error:
            self.preview.show_message(self.notice_error[call.id])
            return
        notice = self.notice_of(call.id, owner.id)
        if notice is None:
            self.preview.show_message(_("Preparing the notice…"))
        else:
            self.preview.show_notice(notice)

    def notice_of(self, call_id: str, person_id: str) -> CallNotice | None:
        return next((n for p, n in self.notices.get(call_id, ()) if p == person_id), None)

    def update_actions(self) -> None:
        has_calls = self.data is not None and bool(self.data.rows)
        self.generate_button.setEnabled(self.editable and self.data is not None)
        self.deliver_button.setEnabled(self.editable and has_calls)
        self.pdfs.update_actions(
            self.selected_call() is not None, self.selected_owner() is not None
        )

    def select_record(self, record_id: str) -> bool:
        return self.table.select_id(record_id)

    # -- generating ------------------------------------------------------------------------

    def generate(self) -> None:
        if not self.editable or self.data is None or self.state is None:
            return
        info = self.context.info
        assert info is not None
        dialog = GenerateCallsDialog(
            info.fiscal(self.year),
            self.state.registry,
            self.data.ordinary_budget,
            self.data.reserve_minimum,
            frozenset(row.id for row in self.data.rows),
            self,
        )
        self.open_dialog(dialog, self._save_generate)

    def _save_generate(self, dialog: RecordDialog) -> None:
        assert isinstance(dialog, GenerateCallsDialog)
        fund, schedule, amount, key, once_on = dialog.values()
        year = self.year
        made: list[str] = []
        dialog.save_button.setEnabled(False)

        def work(session: Session) -> Change:
            made.extend(session.ledger.generate_calls(year, fund, schedule, amount, key, once_on))
            return Change.of("calls", "entries", record_id=made[0] if made else None)

        def done(update: Any) -> None:
            dialog.accept()
            if made:
                self.message.emit(
                    _("{n} calls generated for {year}.").format(n=len(made), year=year)
                )
                self.table.select_id(made[0])
            else:
                self.message.emit(_("These calls already exist: nothing was generated."))

        self.change(
            work,
            on_done=done,
            on_error=dialog.show_error,
            wait=_("Generating the calls for every lot…"),
        )

    def deliver(self) -> None:
        if not self.editable:
            return
        year = self.year
        count: list[int] = []

        def work(session: Session) -> Change:
            count.append(session.documents.deliver_calls(year))
            return Change.of("inbox")

        def done(_update: Any) -> None:
            self.message.emit(
                _(
                    "{n} notices put in the owners' inboxes; they reach their devices at the "
                    "next sync."
                ).format(n=count[0] if count else 0)
            )

        self.change(work, on_done=done, wait=_("Delivering the notices…"))
