"""One owner's charge statement of the year (décompte / afrekening): their
part of every charge, lot by lot and key by key, set against what they
were called for and what they paid. "Save as PDF…" writes the statement
the node renders; "Save every statement…" writes one file per owner with a
progress box fed owner by owner (:meth:`DocumentsService.charge_statement_pdfs`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from node.domain.accounting.statements import ChargeStatement
from node.domain.registry import GENERAL_KEY_ID
from node.files import write_document
from node.i18n import N_, _, current_language
from node.session import Session

from ...jobs import safe_name, save_file_dialog
from ...labels import fmt_eur, fmt_ratio
from ...qt import QComboBox, QFileDialog, QFormLayout, QHBoxLayout, QLabel, QVBoxLayout, QWidget
from ...table import Column, RecordTable
from ...widgets import alive, show_error
from .pdf_actions import PDF_FILTER, run_steps


@dataclass(frozen=True)
class StatementRow:
    index: int
    lot: str
    account: str
    label: str
    key: str
    building_total: int
    weight: int
    total_weight: int
    own_share: int

    @property
    def id(self) -> str:
        return str(self.index)


COLUMNS = (
    Column(N_("Lot"), lambda r: r.lot, sort=lambda r: r.index),
    Column(N_("Account"), lambda r: f"{r.account}  {r.label}", sort=lambda r: r.index),
    Column(N_("Distribution key"), lambda r: r.key),
    Column(
        N_("Building's total"),
        lambda r: fmt_eur(r.building_total),
        sort=lambda r: r.building_total,
        numeric=True,
    ),
    Column(
        N_("Share"),
        lambda r: (
            f"{r.weight} / {r.total_weight} ({fmt_ratio(r.weight, r.total_weight)})"
            if r.total_weight
            else ""
        ),
        sort=lambda r: r.weight / r.total_weight if r.total_weight else 0,
        numeric=True,
    ),
    Column(
        N_("Your part"), lambda r: fmt_eur(r.own_share), sort=lambda r: r.own_share, numeric=True
    ),
)


def statement_rows(statement: ChargeStatement) -> list[StatementRow]:
    rows = []
    for lot in statement.lots:
        for line in lot.lines:
            rows.append(
                StatementRow(
                    len(rows),
                    lot.number,
                    line.account,
                    line.label,
                    _("General (quotas)") if line.key == GENERAL_KEY_ID else line.key,
                    line.building_total,
                    line.weight,
                    line.total_weight,
                    line.own_share,
                )
            )
    return rows


def save_every_statement(
    session: Session, year: int, folder: Path, report: Callable[[int, int, str], None]
) -> list[Path]:
    from node.domain.accounting.statements import owners_in

    owners = owners_in(session.registry.read())
    report(0, len(owners), _("Preparing the statements…"))
    written = []
    for index, (person_id, pdf) in enumerate(session.documents.charge_statement_pdfs(year)):
        person = session.registry.read().person(person_id)
        name = person.name if person else person_id
        report(
            index + 1,
            len(owners),
            _("Statement {n}: {name}").format(n=index + 1, name=name),
        )
        written.append(write_document(folder / f"{year} {safe_name(name)}.pdf", pdf))
    report(len(owners), len(owners), "")
    return written


class StatementPanel(QWidget):
    """The "Charge statements" tab of the year-end page."""

    def __init__(self, page: Any, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.page = page
        self.statement: ChargeStatement | None = None
        self.file_dialog: QFileDialog | None = None
        self.last_saved: list[Path] = []
        self._request = 0
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 8, 8, 8)
        self.owner = QComboBox()
        self.owner.setObjectName("statementOwner")
        self.owner.setMinimumWidth(260)
        self.owner.currentIndexChanged.connect(lambda _i: self.load())
        self.save_button = page.button(_("Save as &PDF…"), self.ask_save)
        self.save_all_button = page.button(
            _("Save every statement…"), self.ask_save_all, _("One PDF file per owner, in a folder")
        )
        bar = QHBoxLayout()
        bar.addWidget(QLabel(_("Owner")))
        bar.addWidget(self.owner)
        bar.addWidget(self.save_button)
        bar.addWidget(self.save_all_button)
        bar.addStretch(1)
        layout.addLayout(bar)
        figures = QFormLayout()
        figures.setHorizontalSpacing(24)
        self.charges = QLabel()
        self.called = QLabel()
        self.paid = QLabel()
        self.balance = QLabel()
        self.balance.setObjectName("statementBalance")
        self.reserve = QLabel()
        self.earlier = QLabel()
        figures.addRow(_("Owed when the year opened"), self.earlier)
        figures.addRow(_("Your charges of the year"), self.charges)
        figures.addRow(_("Called for the working fund"), self.called)
        figures.addRow(_("Paid on the working fund"), self.paid)
        figures.addRow(_("Balance"), self.balance)
        figures.addRow(_("Called for the reserve fund (not a charge)"), self.reserve)
        self.table = RecordTable(COLUMNS, stretch=1)
        self.table.setObjectName("statementTable")
        self.table.keep_order()
        row = QHBoxLayout()
        row.addLayout(figures)
        row.addStretch(1)
        layout.addLayout(row)
        layout.addWidget(self.table, 1)

    def show_owners(self, owners: list[tuple[str, str]]) -> None:
        keep = self.owner.currentData()
        self.owner.blockSignals(True)
        self.owner.clear()
        for person_id, name in owners:
            self.owner.addItem(name, person_id)
        index = self.owner.findData(keep)
        self.owner.setCurrentIndex(index if index >= 0 else (0 if owners else -1))
        self.owner.blockSignals(False)
        self.load()

    def select_owner(self, person_id: str) -> None:
        self.owner.setCurrentIndex(self.owner.findData(person_id))

    def load(self) -> None:
        person, year = self.owner.currentData(), self.page.year
        self._request += 1
        request = self._request
        exists = self.page.context.exists()
        self.update_actions()
        if person is None or not exists:
            self.show_statement(None)
            return
        language = current_language()

        def loaded(statement: ChargeStatement) -> None:
            if alive(self) and request == self._request:
                self.show_statement(statement)

        def refused(exc: Exception) -> None:
            if alive(self) and request == self._request:
                self.show_statement(None)
                self.page.load_error.show_message(str(exc))

        self.page.ops.run(
            lambda s: s.documents.charge_statement(person, year, language),
            on_done=loaded,
            on_error=refused,
            background=True,
        )

    def show_statement(self, statement: ChargeStatement | None) -> None:
        self.statement = statement
        if statement is None:
            for label in (
                self.earlier,
                self.charges,
                self.called,
                self.paid,
                self.balance,
                self.reserve,
            ):
                label.setText("—")
            self.table.set_rows([])
            self.update_actions()
            return
        earlier = statement.brought_forward
        self.earlier.setText(
            _("{amount} in the owner's favour").format(amount=fmt_eur(-earlier))
            if earlier < 0
            else fmt_eur(earlier)
        )
        self.charges.setText(fmt_eur(statement.charges))
        self.called.setText(fmt_eur(statement.provisions))
        self.paid.setText(fmt_eur(statement.paid))
        if statement.balance > 0:
            text = _("{amount} to pay").format(amount=fmt_eur(statement.balance))
        elif statement.balance < 0:
            text = _("{amount} in the owner's favour").format(amount=fmt_eur(-statement.balance))
        else:
            text = _("settled")
        self.balance.setText(text)
        self.balance.setProperty("due", statement.balance > 0)
        self.balance.style().unpolish(self.balance)
        self.balance.style().polish(self.balance)
        self.reserve.setText(fmt_eur(statement.reserve_called))
        self.table.set_rows(statement_rows(statement))
        self.update_actions()

    def update_actions(self) -> None:
        exists = self.page.context.exists()
        self.save_button.setEnabled(exists and self.statement is not None)
        self.save_all_button.setEnabled(exists and self.owner.count() > 0)

    # -- saving ------------------------------------------------------------------------------

    def ask_save(self) -> None:
        name = self.owner.currentText()
        if self.owner.currentData() is not None:
            self.file_dialog = save_file_dialog(
                self,
                _("Save the charge statement as PDF"),
                f"{self.page.year} {safe_name(name)}.pdf",
                PDF_FILTER,
                self.save,
            )

    def save(self, path: Path) -> None:
        person, year = self.owner.currentData(), self.page.year
        if person is None:
            return
        self.page.ops.run(
            lambda s: write_document(path, s.documents.charge_statement_pdf(person, year)),
            on_done=self._saved,
            on_error=lambda exc: show_error(self.window(), str(exc)),
        )

    def ask_save_all(self) -> None:
        self.file_dialog = save_file_dialog(
            self,
            _("Choose a folder for the statements"),
            "",
            PDF_FILTER,
            self.save_all,
            folder=True,
        )

    def save_all(self, folder: Path) -> None:
        year = self.page.year
        run_steps(
            self.page,
            _("Saving the charge statements"),
            "",
            lambda s, report: save_every_statement(s, year, folder, report),
            self._saved,
        )

    def _saved(self, result: Path | list[Path]) -> None:
        paths = result if isinstance(result, list) else [result]
        self.last_saved = paths
        if len(paths) == 1:
            self.page.message.emit(_("Saved {path}.").format(path=paths[0]))
        else:
            self.page.message.emit(_("{n} statements saved.").format(n=len(paths)))
