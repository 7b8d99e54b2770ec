"""Generate the year's calls for one fund: which fund, how often, how much
in the year, by which key. The dialog shows the instalments before they are
made (:func:`~node.domain.accounting.calls.instalments`, the node's own
rule: equal parts to the cent, the odd cents on the first calls)."""

from __future__ import annotations

from datetime import date

from node.domain.accounting.calls import Fund, Schedule, instalments
from node.domain.accounting.ledger import FiscalYear
from node.domain.payments import parse_eur
from node.domain.registry import Registry
from node.errors import InputError
from node.i18n import N_, _

from ...labels import fmt_date, fmt_eur
from ...qt import QComboBox, QLabel, QWidget
from ...widgets import RecordDialog
from .base import date_edit, day_of, money_field
from .invoice_dialog import key_choices

SCHEDULE_LABELS = {
    Schedule.MONTHLY: N_("Monthly (12 calls)"),
    Schedule.QUARTERLY: N_("Quarterly (4 calls)"),
    Schedule.ONCE: N_("Once"),
}
FUND_CHOICES = {
    Fund.WORKING: N_("Working fund (running costs)"),
    Fund.RESERVE: N_("Reserve fund (works)"),
}


class GenerateCallsDialog(RecordDialog):
    def __init__(
        self,
        fiscal: FiscalYear,
        registry: Registry,
        ordinary_budget: int,
        reserve_minimum: int,
        existing: frozenset[str] = frozenset(),
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(
            _("Generate the calls for funds of {year}").format(year=fiscal.label), parent
        )
        self.setObjectName("generateCallsDialog")
        self.setMinimumWidth(520)
        self.fiscal = fiscal
        self.existing = existing  # the ids of the calls already generated
        self.defaults = {Fund.WORKING: ordinary_budget, Fund.RESERVE: reserve_minimum}
        self.fund = QComboBox()
        for fund, text in FUND_CHOICES.items():
            self.fund.addItem(_(text), fund.value)
        self.schedule = QComboBox()
        for schedule, text in SCHEDULE_LABELS.items():
            self.schedule.addItem(_(text), schedule.value)
        self.schedule.setCurrentIndex(self.schedule.findData(Schedule.QUARTERLY.value))
        self.once_on = date_edit(fiscal.start)
        self.amount = money_field()
        self.amount_hint = QLabel()
        self.amount_hint.setObjectName("hint")
        self.amount_hint.setWordWrap(True)
        self.key = QComboBox()
        for key_id, name in key_choices(registry):
            self.key.addItem(name, key_id)
        self.plan = QLabel()
        self.plan.setObjectName("callPlan")
        self.plan.setWordWrap(True)
        self.form.addRow(_("&Fund"), self.fund)
        self.form.addRow(_("&Schedule"), self.schedule)
        self.form.addRow(_("&Due on"), self.once_on)
        self.form.addRow(_("&Yearly amount (€)"), self.amount)
        self.form.addRow("", self.amount_hint)
        self.form.addRow(_("Distribution &key"), self.key)
        self.form.addRow(_("Calls"), self.plan)
        self.save_button.setText(_("Generate"))
        self.fund.currentIndexChanged.connect(lambda _i: self._fund_changed())
        self.schedule.currentIndexChanged.connect(lambda _i: self._show_plan())
        self.once_on.dateChanged.connect(lambda _d: self._show_plan())
        self.amount.textChanged.connect(lambda _t: self._show_plan())
        self._fund_changed()

    def _fund_changed(self) -> None:
        fund = Fund(self.fund.currentData())
        default = self.defaults[fund]
        self.amount.setText(fmt_eur(default) if default else "")
        if fund is Fund.WORKING:
            hint = _("The ordinary budget of the year: {amount}.").format(amount=fmt_eur(default))
        else:
            hint = _("The legal minimum of the reserve fund this year: {amount}.").format(
                amount=fmt_eur(default)
            )
        self.amount_hint.setText(hint)
        self._show_plan()

    def _show_plan(self) -> None:
        schedule = Schedule(self.schedule.currentData())
        self.once_on.setEnabled(schedule is Schedule.ONCE)
        try:
            amount = self.yearly_amount()
            dues = instalments(amount, schedule, self.fiscal, day_of(self.once_on))
        except InputError as exc:
            self.plan.setText(str(exc))
            return
        fund = Fund(self.fund.currentData())
        parts = []
        for number, (due, part) in enumerate(dues, 1):
            text = _("{amount} on {date}").format(amount=fmt_eur(part), date=fmt_date(due))
            if f"{self.fiscal.label}-{fund.value}-{number:02d}" in self.existing:
                text = _("{call} — already generated, left as it is").format(call=text)
            parts.append(text)
        self.plan.setText("\n".join(parts))

    def yearly_amount(self) -> int:
        text = self.amount.text().strip()
        if not text:
            raise InputError(_("Enter the amount to call in the year."))
        return parse_eur(text)

    def values(self) -> tuple[Fund, Schedule, int, str, date | None]:
        schedule = Schedule(self.schedule.currentData())
        once_on = day_of(self.once_on) if schedule is Schedule.ONCE else None
        return (
            Fund(self.fund.currentData()),
            schedule,
            self.yearly_amount(),
            self.key.currentData(),
            once_on,
        )
