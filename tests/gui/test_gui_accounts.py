"""Issue 4, point 8, in the desktop app: the accounting pages on the demo
building (created from the first-run screen).

A budget typed in the Budgets page becomes quarterly calls whose owners'
amounts add up to each call; a supplier invoice split by the lift key is
previewed lot by lot to the cent; a CODA file pays one owner's call by its
structured communication and leaves an unknown movement in the matching
queue, resolved to account 740; the year-end balance sheet balances and its
chart is drawn; a notice saved as PDF carries the structured
communication; a damaged CODA file is refused with the node's message and
changes nothing. Assertions read the widgets and the node, never timings.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from gui_helpers import (
    WAIT_MS,
    connected_demo,
    join_with_code,
    message_boxes,
    on_worker,
    open_demo,
    wait_idle,
)
from pypdf import PdfReader

from desktop.controller import AppController
from desktop.pages.accounts.base import AccountsPage
from desktop.qt import QColor, QLabel, Qt
from node.domain.accounting.calls import BudgetKind, Fund, Schedule
from node.domain.payments import parse_eur
from shared.protocol import Role
from tests.coda_gen import Break, break_coda, movement, statement, write_coda
from tests.helpers import clock_at
from tests.relay import fixtures

pytestmark = pytest.mark.gui

relay_process = fixtures.relay_process


def show(qtbot, controller: AppController, name: str) -> AccountsPage:  # type: ignore[no-untyped-def]
    """Go to an accounting page and wait until it has read the ledger."""
    main = controller.main
    main.go_to(name)
    page = main.pages[name]
    assert isinstance(page, AccountsPage)
    qtbot.waitUntil(lambda: page.data is not None, timeout=WAIT_MS)
    wait_idle(qtbot, controller)
    return page


def column(table, header: str) -> list[str]:  # type: ignore[no-untyped-def]
    """The texts of one column of a RecordTable, in the order shown."""
    index = next(i for i, c in enumerate(table.source.columns) if c.header == header)
    return [table.cell_text(row, index) for row in range(table.proxy.rowCount())]


def lift_key(controller: AppController):  # type: ignore[no-untyped-def]
    return next(k for k in controller.main.state.registry.keys if "Lift" in k.name)


def test_budget_then_quarterly_calls_and_a_notice_as_pdf(  # type: ignore[no-untyped-def]
    qtbot, start_app, tmp_path: Path
) -> None:
    controller = start_app()
    main = open_demo(qtbot, controller)
    shown = {
        main.nav.item(r).text(): not main.nav.item(r).isHidden() for r in range(main.nav.count())
    }
    assert shown["ACCOUNTS"] and shown["Calls for funds"] and shown["Year-end"]

    budgets = show(qtbot, controller, "accounts_budgets")
    year = budgets.year
    assert "not opened yet" in budgets.year_choice.currentText()
    ordinary = budgets.tables[BudgetKind.ORDINARY]
    ordinary.set_amount("611", "12,000.00")
    ordinary.set_amount("612", "abc")  # found by hand: only the cell went red, no words
    assert ordinary.total.text().startswith("Total: — · Account 612: ")
    assert ordinary.total.property("wrong") is True
    ordinary.set_amount("612", "8000.01")
    assert ordinary.total.text() == "Total: €20,000.01"
    assert budgets.save_button.isEnabled()
    budgets.save_button.click()
    wait_idle(qtbot, controller)
    budget = on_worker(qtbot, controller, lambda s: s.ledger.budget(year, BudgetKind.ORDINARY))
    assert dict(budget.lines) == {"611": 1_200_000, "612": 800_001}
    assert budgets.year_choice.currentText() == str(year)  # the budget opened the year
    assert budgets.reserve_status.text()  # the reserve-fund check is said

    calls = show(qtbot, controller, "accounts_calls")
    calls.generate_button.click()
    dialog = calls.dialog
    assert dialog.amount.text() == "€20,000.01"  # the ordinary budget, for the working fund
    assert dialog.schedule.currentData() == Schedule.QUARTERLY.value
    assert dialog.plan.text().count("\n") == 3  # four instalments shown before generating
    dialog.save_button.click()
    qtbot.waitUntil(lambda: len(calls.table.rows()) == 4, timeout=WAIT_MS)
    wait_idle(qtbot, controller)
    made = on_worker(qtbot, controller, lambda s: s.ledger.calls(year))
    assert sorted(made) == [f"{year}-working-0{n}" for n in (1, 2, 3, 4)]
    assert sum(c["amount"] for c in made.values()) == 2_000_001

    first = made[f"{year}-working-01"]
    calls.table.select_id(f"{year}-working-01")
    amounts = [parse_eur(text) for text in column(calls.owners, "Amount")]
    assert sum(amounts) == first["amount"] == 500_001  # the owners' amounts make the call
    assert calls.owners_check.property("ok") is True

    owner = calls.owners.rows()[0]
    calls.owners.select_id(owner.id)
    qtbot.waitUntil(lambda: calls.preview.notice is not None, timeout=WAIT_MS)
    reference = calls.preview.notice.payment.structured_reference
    assert reference == owner.reference
    assert any(reference[3:-3] in text for text in calls.preview.texts())

    calls.pdfs.ask_notice()
    file_dialog = calls.pdfs.file_dialog
    target = tmp_path / "notice.pdf"
    file_dialog.selectFile(str(target))
    file_dialog.accept()
    qtbot.waitUntil(target.exists, timeout=WAIT_MS)
    wait_idle(qtbot, controller)
    text = "".join(page.extract_text() for page in PdfReader(target).pages)
    assert reference.strip("+") in text.replace(" ", "")
    assert owner.name in text

    # every notice of the call in one PDF, for printing
    calls.pdfs.ask_all()
    everything = tmp_path / "all.pdf"
    calls.pdfs.file_dialog.selectFile(str(everything))
    calls.pdfs.file_dialog.accept()
    qtbot.waitUntil(lambda: calls.pdfs.last_saved == [everything], timeout=WAIT_MS)
    assert len(PdfReader(everything).pages) >= len(amounts)

    # every notice of the call, one file per owner, with a progress fed owner by owner
    folder = tmp_path / "notices"
    folder.mkdir()
    calls.pdfs.ask_each()
    calls.pdfs.file_dialog.selectFile(str(folder))
    calls.pdfs.file_dialog.accept()
    qtbot.waitUntil(lambda: len(calls.pdfs.last_saved) == len(amounts), timeout=WAIT_MS)
    assert sorted(p.name for p in folder.iterdir()) == sorted(p.name for p in calls.pdfs.last_saved)
    assert calls.steps.total == len(amounts)

    calls.deliver_button.click()
    wait_idle(qtbot, controller)
    inbox = on_worker(qtbot, controller, lambda s: s.inbox.items(owner.id))
    assert any(item.kind == "call" for item in inbox)


def test_an_invoice_split_by_the_lift_key_is_previewed_to_the_cent(  # type: ignore[no-untyped-def]
    qtbot, start_app
) -> None:
    controller = start_app()
    open_demo(qtbot, controller)
    lift = lift_key(controller)
    invoices = show(qtbot, controller, "accounts_invoices")
    invoices.new_button.click()
    dialog = invoices.dialog
    dialog.supplier.setText("Kone SA")
    dialog.number.setText("F-118")
    dialog.set_account(0, "611")
    dialog.set_key(0, lift.id)
    dialog.set_amount(0, "1,234.57")
    rows = dialog.preview_rows()
    lots, total = rows[:-1], rows[-1]
    assert total[0] == "Total" and parse_eur(total[-1]) == 123_457
    assert sum(parse_eur(row[-1]) for row in lots) == 123_457  # every cent, once
    assert {row[0] for row in lots} == {
        lot.number for lot in controller.main.state.registry.lots if lift.weights.get(lot.id, 0) > 0
    }
    assert dialog.check.property("ok") is True

    second = dialog.add_line("612", "45.67", "general", "Électricité")
    assert second == 1
    assert parse_eur(dialog.preview_rows()[-1][-1]) == 123_457 + 4_567
    dialog.set_amount(1, "12.345")
    assert dialog.check.property("ok") is False and "Line 2" in dialog.check.text()
    dialog.set_amount(1, "45.67")

    dialog.save_button.click()
    qtbot.waitUntil(lambda: len(invoices.table.rows()) == 1, timeout=WAIT_MS)
    row = invoices.table.rows()[0]
    assert (row.supplier, row.number, row.total, row.open) == ("Kone SA", "F-118", 128_024, True)
    year = invoices.year
    recorded = on_worker(qtbot, controller, lambda s: s.ledger.invoices(year))
    assert [x["key"] for x in recorded[row.id]["lines"]] == [lift.id, "general"]

    invoices.table.select_id(row.id)
    invoices.pay_button.click()
    invoices.dialog.save_button.click()
    qtbot.waitUntil(lambda: not invoices.table.rows()[0].open, timeout=WAIT_MS)
    view = on_worker(qtbot, controller, lambda s: s.ledger.view(year))
    assert view.balance("4400") == 0 and view.is_balanced()

    # the purchases journal numbers it; a correction is a reversal, never an edit
    journals = show(qtbot, controller, "accounts_journals")
    journals.journal.setCurrentIndex(journals.journal.findData("purchases"))
    assert column(journals.table, "Number") == [f"ACH-{year}-0001"]
    entry = journals.table.rows()[0].entry
    journals.table.select_id(entry.id)
    assert [(r.line.account, r.line.debit, r.line.credit) for r in journals.lines.rows()] == [
        ("611", 123_457, 0),
        ("612", 4_567, 0),
        ("4400", 0, 128_024),
    ]
    journals.reverse_button.click()
    dialog = journals.dialog
    assert any("never change" in label.text() for label in dialog.findChildren(QLabel))
    dialog.save_button.click()
    qtbot.waitUntil(lambda: len(journals.table.rows()) == 2, timeout=WAIT_MS)
    assert column(journals.table, "Status") == [
        f"Reversed by ACH-{year}-0002",
        f"Reverses ACH-{year}-0001",
    ]
    assert not journals.reverse_button.isEnabled()
    view = on_worker(qtbot, controller, lambda s: s.ledger.view(year))
    assert view.balance("611") == 0 and view.is_balanced()


def test_a_sub_account_is_added_to_the_chart(qtbot, start_app) -> None:  # type: ignore[no-untyped-def]
    controller = start_app()
    open_demo(qtbot, controller)
    chart = show(qtbot, controller, "accounts_chart")
    assert "Sub-account" not in column(chart.table, "Note")[:10]
    chart.add_button.click()
    dialog = chart.dialog
    dialog.number.setText("6120")
    assert "612" in dialog.parent_label.text()
    dialog.labels["fr"].setText("Électricité communs")
    dialog.labels["en"].setText("Common parts electricity")
    dialog.save_button.click()
    qtbot.waitUntil(lambda: chart.table.current_id() == "6120", timeout=WAIT_MS)
    row = chart.table.current_row()
    assert row.account.custom and row.postable
    assert column(chart.table, "Account")[chart.table.rows().index(row)].strip() == (
        "Common parts electricity"
    )
    year = chart.year
    accounts = on_worker(qtbot, controller, lambda s: s.ledger.chart(year).get("6120"))
    assert accounts is not None and accounts.labels["fr"] == "Électricité communs"
    # a number that extends nothing is refused in the dialog, which stays open
    chart.add_button.click()
    dialog = chart.dialog
    dialog.number.setText("8123")
    dialog.labels["en"].setText("Nothing")
    dialog.save_button.click()
    qtbot.waitUntil(lambda: dialog.error.isVisible(), timeout=WAIT_MS)
    assert "8123" in dialog.error.text()


def test_a_coda_file_pays_an_owner_and_queues_the_rest(  # type: ignore[no-untyped-def]
    qtbot, start_app, tmp_path: Path, monkeypatch
) -> None:
    controller = start_app()
    main = open_demo(qtbot, controller)
    year = date.today().year

    def prepare(session):  # type: ignore[no-untyped-def]
        session.ledger.set_budget(year, BudgetKind.ORDINARY, {"611": 1_000_000, "612": 600_000})
        session.ledger.generate_calls(year, Fund.WORKING, Schedule.QUARTERLY)
        return session.ledger.calls(year)[f"{year}-working-01"]["shares"]

    shares = on_worker(qtbot, controller, prepare)
    payer = shares[0]["person"]
    owed = sum(s["amount"] for s in shares if s["person"] == payer)
    on = date(year, 2, 10)
    data = write_coda(
        [
            statement(
                [
                    movement(1, owed, reference=shares[0]["reference"], on=on, name="PAYER"),
                    movement(2, 12_345, communication="loyer parking", on=on, name="DUPONT"),
                    movement(3, -1_503, communication="frais", on=on, name="BANQUE"),
                ],
                old_date=on,
                new_date=on,
            )
        ]
    )
    good = tmp_path / "statement.cod"
    good.write_bytes(data.encode("latin-1"))

    bank = show(qtbot, controller, "accounts_bank")
    bank.ask_import()
    bank.file_dialog.selectFile(str(good))
    bank.file_dialog.accept()
    qtbot.waitUntil(lambda: bank.report is not None, timeout=WAIT_MS)
    wait_idle(qtbot, controller)
    assert (bank.report.movements, bank.report.matched, bank.report.queued) == (3, 1, 2)
    assert "1 payments matched" in bank.report_label.text()
    queue = sorted(bank.table.rows(), key=lambda r: r.amount, reverse=True)
    assert [r.amount for r in queue] == [12_345, -1_503]
    assert sorted(column(bank.table, "Communication")) == ["frais", "loyer parking"]
    assert "DUPONT" in column(bank.table, "Counterparty")[0]

    balances = show(qtbot, controller, "accounts_balances")
    row = next(r for r in balances.table.rows() if r.person == payer)
    calls = on_worker(qtbot, controller, lambda s: s.ledger.calls(year))
    called = sum(s["amount"] for c in calls.values() for s in c["shares"] if s["person"] == payer)
    assert row.balance == called - owed  # the bank payment is on the owner's account
    headers = [balances.table.model().headerData(i, Qt.Orientation.Horizontal) for i in range(2, 6)]
    assert headers == ["0–30 days", "31–60 days", "61–90 days", "> 90 days"]

    # the unknown movement goes to sundry income (740)
    bank = show(qtbot, controller, "accounts_bank")
    bank.table.select_id(queue[0].id)
    bank.resolve_button.click()
    dialog = bank.dialog
    dialog.choose(2)
    dialog.select_account("740")
    assert not dialog.key.isEnabled()  # income is not split between the lots
    dialog.save_button.click()
    qtbot.waitUntil(lambda: len(bank.table.rows()) == 1, timeout=WAIT_MS)
    view = on_worker(qtbot, controller, lambda s: s.ledger.view(year))
    assert view.balance("740") == -12_345

    # the bank charges are the owners', split by the key chosen (the lift's)
    bank.table.select_id(queue[1].id)
    bank.resolve_button.click()
    dialog = bank.dialog
    dialog.choose(2)
    dialog.select_account("650")
    assert dialog.key.isEnabled()
    lift = on_worker(
        qtbot, controller, lambda s: next(k for k in s.registry.read().keys if "Lift" in k.name)
    )
    dialog.key.setCurrentIndex(dialog.key.findData(lift.id))
    dialog.save_button.click()
    qtbot.waitUntil(lambda: bank.table.rows() == [], timeout=WAIT_MS)
    view = on_worker(qtbot, controller, lambda s: s.ledger.view(year))
    assert view.balance("650") == 1_503 and view.balance("499") == 0
    [charge] = [
        i
        for i in on_worker(qtbot, controller, lambda s: s.ledger.invoices(year)).values()
        if i["lines"][0]["account"] == "650"
    ]
    assert charge["lines"][0]["key"] == lift.id and charge["paid_entry"]

    # a damaged file: refused whole, with the line at fault, and nothing changes
    before = on_worker(
        qtbot, controller, lambda s: (len(s.ledger.view(year).entries), s.bank.queue())
    )
    broken_text, line = break_coda(
        write_coda(
            [
                statement(
                    [
                        movement(1, 5_000, communication="a long communication", on=on, name="X"),
                        movement(2, 7_000, communication="other", on=on),
                    ],
                    number=2,
                    old_date=on,
                    new_date=on,
                )
            ]
        ),
        Break.WRONG_TOTAL,
    )
    broken = tmp_path / "broken.cod"
    broken.write_bytes(broken_text.encode("latin-1"))
    bank.import_file(broken)
    qtbot.waitUntil(lambda: bool(message_boxes(main)), timeout=WAIT_MS)
    refusal = message_boxes(main)[0].text()
    assert refusal.startswith(f"Line {line} of the CODA file:")
    assert bank.report is None and "was not imported" in bank.report_label.text()
    message_boxes(main)[0].accept()
    after = on_worker(
        qtbot, controller, lambda s: (len(s.ledger.view(year).entries), s.bank.queue())
    )
    assert after == before

    # year-end: the balance sheet balances, and the budget chart is drawn
    year_end = show(qtbot, controller, "accounts_year_end")
    sheet = year_end.data.sheet
    assert sheet.total_assets == sheet.total_liabilities > 0
    assert "are equal" in year_end.sheet.check.text()
    assert year_end.data.full  # the demo has 24 lots: the full presentation
    year_end.tabs.setCurrentIndex(2)
    qtbot.waitUntil(lambda: year_end.chart.painted > 0, timeout=WAIT_MS)
    image = year_end.chart.grab().toImage()
    assert not image.isNull() and image.width() > 100
    colours = {
        image.pixelColor(x, y).name()
        for x in range(0, image.width(), 3)
        for y in range(0, image.height(), 3)
    }
    assert QColor("#c9d6e3").name() in colours  # budget bars were painted

    # the payer's charge statement
    year_end.tabs.setCurrentIndex(3)
    year_end.statements.select_owner(payer)
    qtbot.waitUntil(
        lambda: (
            year_end.statements.statement is not None
            and year_end.statements.statement.person == payer
        ),
        timeout=WAIT_MS,
    )
    assert year_end.statements.statement.paid == owed

    # before the year has ended it cannot be closed, and the page says why
    year_end.close_button.click()
    box = year_end.confirm
    assert "cannot be closed yet" in box.text()
    assert f"it can be closed from 01/01/{year + 1} on" in box.informativeText()
    assert [b.text() for b in box.buttons()] == ["OK"]
    box.buttons()[0].click()
    assert on_worker(qtbot, controller, lambda s: s.ledger.year(year).closed) is False

    # once it has ended, closing asks first, saying the year will be frozen
    clock_at(monkeypatch, date(year + 1, 1, 3))
    year_end = show(qtbot, controller, "accounts_year_end")
    year_end.refresh()
    qtbot.waitUntil(
        lambda: year_end.data is not None and not year_end.data.too_early, timeout=WAIT_MS
    )
    year_end.close_button.click()
    box = year_end.confirm
    assert "frozen" in box.informativeText()
    next(b for b in box.buttons() if b.text() == "Close the year").click()
    qtbot.waitUntil(lambda: "closed" in year_end.year_status.text(), timeout=WAIT_MS)
    assert not year_end.close_button.isEnabled()
    years = on_worker(qtbot, controller, lambda s: (s.ledger.years(), s.ledger.year(year).closed))
    assert years == ([year, year + 1], True)
    assert year_end.year_choice.findData(year + 1) >= 0


def test_the_council_reads_the_accounts_and_owners_never_see_them(  # type: ignore[no-untyped-def]
    qtbot, start_app, relay_process, tmp_path: Path
) -> None:
    syndic = start_app()
    connected_demo(qtbot, syndic, relay_process.url)
    year = date.today().year

    def prepare(session):  # type: ignore[no-untyped-def]
        session.ledger.set_budget(year, BudgetKind.ORDINARY, {"611": 400_000})
        session.ledger.generate_calls(year, Fund.WORKING, Schedule.QUARTERLY)
        registry = session.registry.read()
        return next(p.id for p in registry.persons if p.name == "Marie Lambert")

    marie = on_worker(qtbot, syndic, prepare)
    with qtbot.waitSignal(syndic.sync.synced, timeout=WAIT_MS):
        syndic.sync.sync_now()

    def invite(role: Role, person: str | None = None) -> str:
        made: list = []
        syndic.sync.create_invite(role, person, made.append, pytest.fail)
        qtbot.waitUntil(lambda: bool(made), timeout=WAIT_MS)
        return made[0].code

    council = start_app(tmp_path / "council-computer")
    board = join_with_code(qtbot, council, relay_process.url, invite(Role.COUNCIL))
    qtbot.waitUntil(lambda: board.state is not None and board.state.readable, timeout=WAIT_MS)
    calls = show(qtbot, council, "accounts_calls")
    qtbot.waitUntil(lambda: len(calls.table.rows()) == 4, timeout=WAIT_MS)
    assert "read-only" in calls.year_status.text()
    assert not calls.generate_button.isEnabled() and not calls.deliver_button.isEnabled()
    budgets = show(qtbot, council, "accounts_budgets")
    assert budgets.tables[BudgetKind.ORDINARY].total.text() == "Total: €4,000.00"
    assert not budgets.save_button.isEnabled() and not budgets.waive_button.isEnabled()
    bank = show(qtbot, council, "accounts_bank")
    assert not bank.import_button.isEnabled()

    owner = start_app(tmp_path / "marie-computer")
    window = join_with_code(qtbot, owner, relay_process.url, invite(Role.OWNER, marie))
    qtbot.waitUntil(lambda: window.state is not None, timeout=WAIT_MS)
    shown = {
        window.nav.item(r).text(): not window.nav.item(r).isHidden()
        for r in range(window.nav.count())
    }
    assert not shown["ACCOUNTS"] and not shown["Calls for funds"] and not shown["Year-end"]
    window.go_to("accounts_calls")
    assert window.current_page() != "accounts_calls"


def test_a_small_building_gets_the_simplified_presentation(qtbot, start_app) -> None:  # type: ignore[no-untyped-def]
    from gui_helpers import create_building

    controller = start_app()
    create_building(qtbot, controller)
    assert not on_worker(qtbot, controller, lambda s: s.registry.facts().full_accounting_mandatory)
    year_end = show(qtbot, controller, "accounts_year_end")
    assert not year_end.data.full
    assert "Simplified presentation" in year_end.presentation.text()
    assert year_end.tabs.tabText(0) == "Cash, funds and owners"
    assert year_end.situation.isVisibleTo(year_end) and not year_end.sheet.isVisibleTo(year_end)
    assert [r.label for r in year_end.situation.rows()][:3] == [
        "Cash at the bank and in hand",
        "Working fund",
        "Reserve fund",
    ]
    assert not year_end.close_button.isEnabled()  # nothing kept yet: nothing to close
