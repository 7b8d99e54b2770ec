"""The forms of the assembly pages: a meeting, an agenda item, an owner
excluded from an item, the convocation, a proxy, the opening, a second
assembly and the day the minutes were sent.

They only collect input and turn it into the arguments of one
:class:`~node.services.assembly.AssemblyService` call; the node checks it,
and a refusal is shown inside the dialog, which stays open. What a form
shows before saving (the majority of a category, whether owners asking for
an assembly hold a fifth of the quotas, the last day to convene) comes from
the node's rules, never from arithmetic of its own.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, time, timedelta
from typing import Any

from node.domain import assembly as rules
from node.domain.assembly import DECISION_MAJORITIES
from node.domain.meeting import MeetingKind
from node.errors import InputError
from node.i18n import LANGUAGES, N_, _
from node.services.assembly import ConvocationCheck, MeetingInfo

from ...labels import date_pattern, fmt_date, fmt_int, language_label
from ...qt import (
    QCheckBox,
    QComboBox,
    QCompleter,
    QDateTime,
    QDateTimeEdit,
    QDialogButtonBox,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPlainTextEdit,
    Qt,
    QWidget,
)
from ...table import Column, RecordTable
from ...widgets import RecordDialog, hint
from ..accounts.base import date_edit, day_of
from .data import (
    ANSWER_KINDS,
    CATEGORY_LABELS,
    CHANNEL_LABELS,
    KIND_LABELS,
    Voter,
    category_reason,
    kind_label,
    majority_label,
)

COUNCIL = "council"  # who asked for an agenda item: the council, or an owner's id


def datetime_edit(moment: datetime) -> QDateTimeEdit:
    edit = QDateTimeEdit()
    edit.setCalendarPopup(True)
    edit.setDisplayFormat(date_pattern(with_time=True))
    edit.setDateTime(QDateTime(moment.replace(second=0, microsecond=0)))
    return edit


def moment_of(edit: QDateTimeEdit) -> datetime:
    """The date and time typed, in this computer's local time (no zone)."""
    return edit.dateTime().toPython().replace(second=0, microsecond=0, tzinfo=None)


def name_choice(names: Sequence[tuple[str, str]], editable: bool = True) -> QComboBox:
    """Owners by name; typing part of a name narrows the list. ``editable``:
    a name that is in no list may be typed too (a proxy holder, a chair)."""
    combo = QComboBox()
    combo.setEditable(editable)
    combo.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
    combo.setMinimumWidth(280)
    for person, name in sorted(names, key=lambda n: n[1].casefold()):
        combo.addItem(name, person)
    completer = combo.completer()
    if isinstance(completer, QCompleter):
        completer.setFilterMode(Qt.MatchFlag.MatchContains)
        completer.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
    combo.setCurrentIndex(-1)
    if editable:
        combo.lineEdit().setPlaceholderText(_("Type a name…"))
    return combo


def chosen_id(combo: QComboBox) -> str | None:
    """The id behind the name in ``combo``, ``None`` when the text names nobody listed."""
    index = combo.findText(combo.currentText().strip())
    return combo.itemData(index) if index >= 0 else None


class MeetingDialog(RecordDialog):
    """A new meeting: an assembly, a written procedure or a poll."""

    def __init__(
        self, voters: Sequence[Voter], quota_total: int, parent: QWidget | None = None
    ) -> None:
        super().__init__(_("New meeting"), parent)
        self.setObjectName("meetingDialog")
        self.setMinimumWidth(560)
        self.voters = list(voters)
        self.quota_total = quota_total
        self.kind = QComboBox()
        for kind in MeetingKind:
            self.kind.addItem(_(KIND_LABELS[kind]), kind.value)
        self.title = QLineEdit()
        self.title.setPlaceholderText(_("e.g. Ordinary general assembly 2027"))
        default = datetime.combine(date.today() + timedelta(days=30), time(18, 30))
        self.starts = datetime_edit(default)
        self.place = QLineEdit()
        self.language = QComboBox()
        for code in LANGUAGES:
            self.language.addItem(language_label(code), code)
        self.remote = QCheckBox(_("The convocation allows remote voting"))
        self.remote_terms = QPlainTextEdit()
        self.remote_terms.setPlaceholderText(_("How to take part remotely (printed on it)"))
        self.remote_terms.setFixedHeight(60)
        self.remote_limit = QCheckBox(_("Ballots accepted until"))
        self.remote_until = datetime_edit(default - timedelta(hours=2))
        self.period = QCheckBox(_("The by-laws' 15-day period starts on"))
        self.period_start = date_edit(default.date() - timedelta(days=7))
        self.requested = QCheckBox(_("Convened at the request of owners"))
        self.askers = QListWidget()
        self.askers.setObjectName("askers")
        self.askers.setFixedHeight(130)
        for voter in self.voters:
            item = QListWidgetItem(
                _("{name} ({votes} votes)").format(name=voter.name, votes=fmt_int(voter.votes))
            )
            item.setData(Qt.ItemDataRole.UserRole, voter.id)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(Qt.CheckState.Unchecked)
            self.askers.addItem(item)
        self.asked_on = date_edit(date.today())
        self.request_check = hint()
        self.request_check.setObjectName("requestCheck")
        self.form.addRow(_("&Kind"), self.kind)
        self.form.addRow(_("&Title"), self.title)
        self.form.addRow(_("&Date and time"), self.starts)
        self.form.addRow(_("&Place"), self.place)
        self.form.addRow(_("&Language of the minutes"), self.language)
        self.form.addRow("", self.remote)
        self.form.addRow(_("Remote &terms"), self.remote_terms)
        self.form.addRow(self.remote_limit, self.remote_until)
        self.form.addRow(self.period, self.period_start)
        self.form.addRow("", self.requested)
        self.form.addRow(_("Owners who asked"), self.askers)
        self.form.addRow(_("Asked on"), self.asked_on)
        self.form.addRow("", self.request_check)
        for signal in (
            self.kind.currentIndexChanged,
            self.remote.toggled,
            self.remote_limit.toggled,
            self.period.toggled,
            self.requested.toggled,
            self.askers.itemChanged,
            self.asked_on.dateChanged,
        ):
            signal.connect(lambda *_a: self._update())
        self._update()

    def chosen_kind(self) -> MeetingKind:
        return MeetingKind(self.kind.currentData())

    def asked_by(self) -> list[str]:
        return [
            self.askers.item(row).data(Qt.ItemDataRole.UserRole)
            for row in range(self.askers.count())
            if self.askers.item(row).checkState() == Qt.CheckState.Checked
        ]

    def _update(self) -> None:
        kind = self.chosen_kind()
        assembly = kind.in_session
        self.place.setEnabled(assembly)
        self.remote.setEnabled(assembly)
        remote = assembly and self.remote.isChecked()
        self.remote_terms.setEnabled(remote)
        self.remote_limit.setEnabled((assembly and remote) or not assembly)
        self.remote_until.setEnabled(
            self.remote_limit.isEnabled() and self.remote_limit.isChecked()
        )
        self.period.setEnabled(kind is MeetingKind.ORDINARY)
        self.period_start.setEnabled(kind is MeetingKind.ORDINARY and self.period.isChecked())
        self.requested.setEnabled(kind is MeetingKind.EXTRAORDINARY)
        request = kind is MeetingKind.EXTRAORDINARY and self.requested.isChecked()
        self.askers.setEnabled(request)
        self.asked_on.setEnabled(request)
        self.request_check.setText(self._request_text() if request else "")
        # only what this kind of meeting has is shown
        for widget in (self.place, self.remote, self.remote_terms):
            self.form.setRowVisible(widget, assembly)
        self.form.setRowVisible(self.period_start, kind is MeetingKind.ORDINARY)
        extraordinary = kind is MeetingKind.EXTRAORDINARY
        self.form.setRowVisible(self.requested, extraordinary)
        for widget in (self.askers, self.asked_on, self.request_check):
            self.form.setRowVisible(widget, request)

    def _request_text(self) -> str:
        """Art. 3.87 §2, as the node will check it: a fifth of the quotas,
        and the syndic convenes within 30 days."""
        chosen = set(self.asked_by())
        quotas = sum(v.votes for v in self.voters if v.id in chosen)
        total = self.quota_total or 1
        convene_by = rules.extraordinary_convene_by(day_of(self.asked_on))
        if rules.extraordinary_request_valid(quotas, total):
            return _(
                "{quotas} of {total} quotas: at least one fifth. The syndic must convene "
                "the assembly by {day}."
            ).format(quotas=fmt_int(quotas), total=fmt_int(total), day=fmt_date(convene_by))
        return _(
            "{quotas} of {total} quotas: less than one fifth, the syndic is not bound to "
            "convene (art. 3.87 §2)."
        ).format(quotas=fmt_int(quotas), total=fmt_int(total))

    def values(self) -> dict[str, Any]:
        """The arguments of ``session.assembly.create``."""
        kind = self.chosen_kind()
        assembly = kind.in_session
        remote = assembly and self.remote.isChecked()
        request = None
        if kind is MeetingKind.EXTRAORDINARY and self.requested.isChecked():
            request = {"by": self.asked_by(), "on": day_of(self.asked_on).isoformat()}
        limited = self.remote_limit.isEnabled() and self.remote_limit.isChecked()
        return {
            "kind": kind,
            "title": self.title.text(),
            "starts": moment_of(self.starts),
            "place": self.place.text() if assembly else "",
            "language": self.language.currentData(),
            "remote_allowed": remote,
            "remote_terms": self.remote_terms.toPlainText() if remote else "",
            "remote_until": moment_of(self.remote_until).astimezone() if limited else None,
            "period_start": day_of(self.period_start) if self.period_start.isEnabled() else None,
            "request": request,
        }


class ItemDialog(RecordDialog):
    """An agenda item with its decision category (or a poll's question)."""

    def __init__(
        self, info: MeetingInfo, voters: Sequence[tuple[str, str]], parent: QWidget | None = None
    ) -> None:
        super().__init__(_("New agenda item"), parent)
        self.setObjectName("itemDialog")
        self.setMinimumWidth(560)
        self.info = info
        self.poll = info.kind is MeetingKind.POLL
        self.title = QLineEdit()
        self.text = QPlainTextEdit()
        self.text.setPlaceholderText(_("The proposed resolution"))
        self.text.setFixedHeight(70)
        self.form.addRow(_("&Question") if self.poll else _("&Title"), self.title)
        if self.poll:
            self.answers = QComboBox()
            for kind, label in ANSWER_KINDS.items():
                self.answers.addItem(_(label), kind)
            self.options = QPlainTextEdit()
            self.options.setPlaceholderText(_("One option per line"))
            self.options.setFixedHeight(80)
            self.form.addRow(_("&Answered by"), self.answers)
            self.form.addRow(_("&Options"), self.options)
            self.answers.currentIndexChanged.connect(lambda _i: self._update())
        else:
            self.form.addRow(_("&Resolution"), self.text)
            self.category = QComboBox()
            self.category.setObjectName("categoryChoice")
            for category in DECISION_MAJORITIES:
                self.category.addItem(_(CATEGORY_LABELS[category]), category)
            self.majority = QLabel()
            self.majority.setObjectName("majorityNeeded")
            self.reason = hint()
            self.requested_by = QComboBox()
            self.requested_by.addItem(_("The syndic (no request)"), "")
            self.requested_by.addItem(_("The council"), COUNCIL)
            for person, name in sorted(voters, key=lambda v: v[1].casefold()):
                self.requested_by.addItem(name, person)
            self.requested_on = date_edit(date.today())
            self.deferral = hint()
            self.deferral.setObjectName("deferralHint")
            self.form.addRow(_("&Decision"), self.category)
            self.form.addRow(_("Majority needed"), self.majority)
            self.form.addRow("", self.reason)
            self.form.addRow(_("Re&quested by"), self.requested_by)
            self.form.addRow(_("Request arrived on"), self.requested_on)
            self.form.addRow("", self.deferral)
            for signal in (
                self.category.currentIndexChanged,
                self.requested_by.currentIndexChanged,
                self.requested_on.dateChanged,
            ):
                signal.connect(lambda *_a: self._update())
        self._update()

    def choose_category(self, category: str) -> None:
        self.category.setCurrentIndex(self.category.findData(category))

    def _update(self) -> None:
        if self.poll:
            self.options.setEnabled(self.answers.currentData() == "choice")
            return
        category = self.category.currentData()
        self.majority.setText(majority_label(DECISION_MAJORITIES[category][0]))
        self.reason.setText(category_reason(category))
        requested = bool(self.requested_by.currentData())
        self.requested_on.setEnabled(requested)
        self.deferral.setText(self._deferral_text() if requested else "")

    def _deferral_text(self) -> str:
        """Art. 3.87 §3, as the node will apply it."""
        if self.info.convened_on is not None:
            return _("The convocation was sent: this request goes to the next assembly.")
        if self.info.kind is not MeetingKind.ORDINARY or self.info.period_start is None:
            return ""
        deadline = rules.agenda_request_deadline(self.info.period_start)
        if day_of(self.requested_on) > deadline:
            return _(
                "Requests had to arrive by {day}, three weeks before the assembly's "
                "period: this one goes to the next assembly."
            ).format(day=fmt_date(deadline))
        return _("In time: requests are taken until {day}.").format(day=fmt_date(deadline))

    def values(self) -> dict[str, Any]:
        """The arguments of ``session.assembly.add_item`` (after the meeting)."""
        if self.poll:
            return {
                "title": self.title.text(),
                "answers": self.answers.currentData(),
                "options": self.options.toPlainText().splitlines()
                if self.options.isEnabled()
                else (),
            }
        requested_by = self.requested_by.currentData() or ""
        return {
            "title": self.title.text(),
            "category": self.category.currentData(),
            "text": self.text.toPlainText(),
            "requested_by": requested_by,
            "requested_on": day_of(self.requested_on) if requested_by else None,
        }


class ExcludeDialog(RecordDialog):
    """An owner who does not vote on one item, and why (art. 3.87 §6)."""

    def __init__(
        self,
        item: str,
        item_title: str,
        owners: Sequence[tuple[str, str]],
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(_("Exclude an owner from “{title}”").format(title=item_title), parent)
        self.setObjectName("excludeDialog")
        self.item = item
        self.owner = name_choice(owners, editable=True)
        self.reason = QLineEdit()
        self.reason.setPlaceholderText(_("e.g. mandated by the association for this contract"))
        self.form.addRow(_("&Owner"), self.owner)
        self.form.addRow(_("&Why"), self.reason)
        self.body.insertWidget(
            1,
            hint(
                _(
                    "Someone employed or mandated by the association does not vote on their "
                    "own mission (art. 3.87 §6)."
                )
            ),
        )

    def person(self) -> str:
        person = chosen_id(self.owner)
        if person is None:
            raise InputError(_("Choose an owner from the list."))
        return person


RECIPIENT_COLUMNS = (
    Column(N_("Owner"), lambda r: r[1]),
    Column(N_("Sent by"), lambda r: _(CHANNEL_LABELS.get(r[2], r[2]))),
)


class ConveneDialog(RecordDialog):
    """Record the convocation as sent, then show to whom and how, and
    whether it left 15 days before the meeting (art. 3.87 §3)."""

    def __init__(self, info: MeetingInfo, parent: QWidget | None = None) -> None:
        super().__init__(_("Convene “{title}”").format(title=info.title), parent)
        self.setObjectName("conveneDialog")
        self.setMinimumWidth(560)
        self.info = info
        self.due = rules.convocation_due(info.starts.date())
        self.sent_on = date_edit(date.today())
        self.form.addRow(_("&Sent on"), self.sent_on)
        self.form.addRow(
            "",
            hint(
                _("The meeting is on {day}: the convocation leaves by {due} at the latest.").format(
                    day=fmt_date(info.starts.date()), due=fmt_date(self.due)
                )
            ),
        )
        self.warning = QLabel()
        self.warning.setObjectName("inlineError")
        self.warning.setWordWrap(True)
        self.body.insertWidget(1, self.warning)
        self.result = hint()
        self.result.setObjectName("conveneResult")
        self.recipients = RecordTable(RECIPIENT_COLUMNS, row_id=lambda r: r[0], stretch=0)
        self.recipients.setObjectName("recipientsTable")
        self.recipients.setMinimumHeight(220)
        self.recipients.hide()
        self.body.insertWidget(2, self.result)
        self.body.insertWidget(3, self.recipients)
        self.save_button.setText(_("Record as sent"))
        self.check: ConvocationCheck | None = None
        self.sent_on.dateChanged.connect(lambda _d: self._update())
        self._update()

    def day(self) -> date:
        return day_of(self.sent_on)

    def _update(self) -> None:
        if self.check is None:
            self.warning.setText(self._late_text(self.day()) if self.day() > self.due else "")
            self.warning.setVisible(self.day() > self.due)

    def _late_text(self, sent: date) -> str:
        return _(
            "Sent on {sent}, less than 15 days before the meeting: the convocation should "
            "have been sent by {due} (art. 3.87 §3)."
        ).format(sent=fmt_date(sent), due=fmt_date(self.due))

    def show_check(self, check: ConvocationCheck, names: dict[str, str]) -> None:
        """What the node recorded: each owner's channel, and the 15 days."""
        self.check = check
        self.sent_on.setEnabled(False)
        self.save_button.hide()
        self.buttons.button(QDialogButtonBox.StandardButton.Cancel).setText(_("Close"))
        rows = sorted(
            ((p, names.get(p, p), channel) for p, channel in check.recipients.items()),
            key=lambda r: r[1].casefold(),
        )
        self.recipients.set_rows(rows)
        self.recipients.show()
        by_mail = sum(1 for r in rows if r[2] == "registered_mail")
        self.result.setText(
            _(
                "Recorded: {n} owners convened, {mail} by registered mail and {email} by "
                "e-mail (those who agreed to it in writing)."
            ).format(n=len(rows), mail=by_mail, email=len(rows) - by_mail)
        )
        self.warning.setText("" if check.in_time else self._late_text(check.sent_on))
        self.warning.setVisible(not check.in_time)


class ProxyDialog(RecordDialog):
    """An owner represented by a proxy holder: an owner, or anyone named."""

    def __init__(
        self,
        person: str,
        owner_name: str,
        holders: Sequence[tuple[str, str]],
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(_("Proxy for {name}").format(name=owner_name), parent)
        self.setObjectName("proxyDialog")
        self.person = person
        self.holder = name_choice(holders, editable=True)
        self.holder.setObjectName("holderChoice")
        self.form.addRow(_("&Represented by"), self.holder)
        self.form.addRow(
            "",
            hint(
                _(
                    "Choose an owner, or type the name of someone else. A holder carries at "
                    "most three proxies, unless they hold 10 % of the votes at most; the "
                    "syndic never holds one."
                )
            ),
        )
        self.save_button.setText(_("Record the proxy"))

    def chosen_holder(self) -> str:
        """A person id, or ``name:<name>`` for someone outside the roll."""
        person = chosen_id(self.holder)
        if person is not None:
            return person
        name = self.holder.currentText().strip()
        if not name:
            raise InputError(_("A proxy names who holds it."))
        return f"name:{name}"


class OpenDialog(RecordDialog):
    """Open the meeting: who chairs it, who takes the minutes."""

    def __init__(self, present: Sequence[tuple[str, str]], parent: QWidget | None = None) -> None:
        super().__init__(_("Open the meeting"), parent)
        self.setObjectName("openDialog")
        self.chair = name_choice(present)
        self.secretary = name_choice(present)
        self.form.addRow(_("&Chair"), self.chair)
        self.form.addRow(_("&Secretary"), self.secretary)
        self.form.addRow(
            "",
            hint(
                _(
                    "The quorum is checked now, on the owners present or represented "
                    "(art. 3.87 §5); the voter roll is fixed."
                )
            ),
        )
        self.save_button.setText(_("Open"))


class SecondDialog(RecordDialog):
    """The second assembly after a first without quorum (art. 3.87 §5)."""

    def __init__(self, info: MeetingInfo, parent: QWidget | None = None) -> None:
        super().__init__(_("Schedule a second assembly"), parent)
        self.setObjectName("secondDialog")
        earliest = rules.second_assembly_earliest(info.starts.date())
        self.starts = datetime_edit(datetime.combine(earliest, info.starts.time()))
        self.place = QLineEdit(info.place)
        self.form.addRow(_("&Date and time"), self.starts)
        self.form.addRow(_("&Place"), self.place)
        self.form.addRow(
            "",
            hint(
                _(
                    "At least 15 days after the first ({day} at the earliest), with the same "
                    "agenda; it deliberates whatever the attendance."
                ).format(day=fmt_date(earliest))
            ),
        )
        self.save_button.setText(_("Schedule"))


class DayDialog(RecordDialog):
    """One day to record (the minutes sent to the owners)."""

    def __init__(self, title: str, label: str, note: str, parent: QWidget | None = None) -> None:
        super().__init__(title, parent)
        self.setObjectName("dayDialog")
        self.day = date_edit(date.today())
        self.form.addRow(label, self.day)
        if note:
            self.form.addRow("", hint(note))

    def chosen(self) -> date:
        return day_of(self.day)


def kind_text(info: MeetingInfo) -> str:
    return kind_label(info.kind) + (_(" (second assembly)") if info.second_of else "")
