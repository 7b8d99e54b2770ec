"""The syndic's mandate (art. 3.89 §1): when it started, when it ends as the
assembly decided, and when it ends by law — at most three years after it
started, unless the assembly renews it expressly. The legal end is the
node's rule (:func:`~node.domain.governance.syndic_mandate_end`), shown
while the dates are typed."""

from __future__ import annotations

from datetime import date

from node.domain.governance import syndic_mandate_end
from node.i18n import N_, _

from ...labels import fmt_date
from ...ops import Ops
from ...qt import QFormLayout, QGroupBox, QHBoxLayout, QLabel, QPushButton, QToolButton, QWidget
from ...widgets import ErrorLabel
from ..base import empty_hint
from .base import (
    GovernanceContext,
    GovernancePage,
    optional_date_edit,
    optional_day,
    set_optional_day,
)


def legal_end_text(start: date | None, until: date | None, today: date) -> tuple[str, str]:
    """What the page says of the mandate's end: the legal end, and a
    warning ("" when there is none)."""
    end = syndic_mandate_end(start, until)
    if end is None:
        return _("Record when the mandate ends (or started) to see when it ends by law."), ""
    text = _("Ends by law on {end}.").format(end=fmt_date(end))
    if end < today:
        return text, _(
            "The mandate has ended: the assembly must renew it or appoint a syndic (art. 3.89 §1)."
        )
    if start is not None and until is None:
        return text, _(
            "No end is recorded: by law the mandate ends three years after it started, unless "
            "the assembly renews it."
        )
    if start is not None and until is not None and until > end:
        return text, _(
            "Recorded until {until}, longer than the three years the law allows: the mandate "
            "ends on {end} unless the assembly renews it."
        ).format(until=fmt_date(until), end=fmt_date(end))
    return text, ""


class SyndicPage(GovernancePage):
    title_msgid = N_("Syndic's mandate")

    def __init__(self, ops: Ops, context: GovernanceContext, parent: QWidget | None = None) -> None:
        super().__init__(ops, context, parent)
        self.layout_.addWidget(
            empty_hint(
                _(
                    "The syndic's mandate lasts at most three years. Only an express decision of "
                    "the assembly renews it, and the assembly may dismiss the syndic at any time "
                    "by absolute majority (art. 3.89 §1)."
                )
            )
        )
        self._shown: tuple[date | None, date | None] | None = None  # the dates last shown
        self.start = optional_date_edit(None)
        self.start.setObjectName("mandateFrom")
        self.until = optional_date_edit(None)
        self.until.setObjectName("mandateUntil")
        form = QFormLayout()
        form.addRow(_label(_("Mandate &from"), self.start), self._with_clear(self.start))
        form.addRow(_label(_("Mandate &until"), self.until), self._with_clear(self.until))
        self.legal_end = QLabel()
        self.legal_end.setObjectName("legalEnd")
        self.warning = ErrorLabel()
        self.form_error = ErrorLabel()
        self.save_button = QPushButton(_("&Save"))
        self.save_button.clicked.connect(self.save_mandate)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.save_button)
        box = QGroupBox(_("Syndic's mandate"))
        box_layout = QFormLayout(box)
        box_layout.addRow(form)
        box_layout.addRow(self.legal_end)
        box_layout.addRow(self.warning)
        box_layout.addRow(self.form_error)
        box_layout.addRow(buttons)
        box.setMaximumWidth(640)
        self.layout_.addWidget(box)
        self.layout_.addWidget(self.error)
        self.layout_.addStretch(1)
        for edit in (self.start, self.until):
            edit.dateChanged.connect(lambda _day: self._show_legal_end())

    def _with_clear(self, edit: QWidget) -> QHBoxLayout:
        row = QHBoxLayout()
        row.addWidget(edit)
        clear = QToolButton()
        clear.setText("×")
        clear.setToolTip(_("No date"))
        clear.clicked.connect(lambda: set_optional_day(edit, None))  # type: ignore[arg-type]
        row.addWidget(clear)
        row.addStretch(1)
        return row

    def redraw(self) -> None:
        if self.state is None:
            return
        association = self.state.registry.association
        self.setEnabled(association is not None)
        for edit in (self.start, self.until):
            edit.setReadOnly(not self.editable)
        self.save_button.setVisible(self.editable)
        stored = (
            (association.syndic_mandate_from, association.syndic_mandate_until)
            if association
            else (None, None)
        )
        if stored != self._shown:  # not on every read of the tasks: dates being typed stay
            self._shown = stored
            set_optional_day(self.start, stored[0])
            set_optional_day(self.until, stored[1])
        self._show_legal_end()

    def _show_legal_end(self) -> None:
        text, warning = legal_end_text(
            optional_day(self.start), optional_day(self.until), date.today()
        )
        self.legal_end.setText(text)
        self.warning.show_message(warning)

    def save_mandate(self) -> None:
        if not self.editable:
            return
        start, until = optional_day(self.start), optional_day(self.until)
        self.form_error.clear_message()
        self.save(
            None,
            lambda s: s.governance.set_syndic_mandate(start, until),
            _("Syndic's mandate saved. Undo with Ctrl+Z."),
            on_refused=lambda exc: self.form_error.show_message(str(exc)),
        )


def _label(text: str, buddy: QWidget) -> QLabel:
    label = QLabel(text)
    label.setBuddy(buddy)
    return label
