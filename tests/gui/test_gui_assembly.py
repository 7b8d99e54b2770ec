"""Issue 5, points 1–6, in the desktop app, on the demo building.

The syndic prepares an ordinary assembly with two items through the
dialogs (the category sets the majority, shown with its reason; a late
request is kept for the next assembly), convenes it late and is told the
day it should have left; then runs the session from the keyboard:
attendance, a proxy the law refuses (the node's reason, nothing
recorded), the opening with the quorum's figures, votes with the keys and
the live tally, a remote ballot shown as such and replaced by a vote in
the room, closing. Against a real relay: an owner signs a remote ballot on
their own device, the council and the owner see everything and change
nothing, and on the building's shared computer a wrong PIN signs nothing.
Assertions read the widgets and the node, never pixels or timings.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from pathlib import Path

import pytest
from gui_helpers import WAIT_MS, connected_demo, join_with_code, on_worker, open_demo, wait_idle

from desktop.controller import AppController
from desktop.pages.assembly.base import AssemblyPage
from desktop.qt import QDate, QDateTime, Qt
from node.domain.assembly import Vote
from node.domain.meeting import Mode
from node.errors import ReadOnlyError
from node.i18n import format_day
from shared.protocol import Role
from tests.relay import fixtures

pytestmark = pytest.mark.gui

relay_process = fixtures.relay_process

STARTS = datetime.combine(date.today() + timedelta(days=40), time(18, 30))
PERIOD = STARTS.date() - timedelta(days=5)  # the by-laws' 15-day period


def show(qtbot, controller: AppController, name: str) -> AssemblyPage:  # type: ignore[no-untyped-def]
    """Go to an assembly page and wait until the meetings were read."""
    main = controller.main
    qtbot.waitUntil(lambda: main.assembly.access is not None, timeout=WAIT_MS)
    main.go_to(name)
    assert main.current_page() == name
    page = main.pages[name]
    wait_idle(qtbot, controller)
    return page


def column(table, header: str) -> list[str]:  # type: ignore[no-untyped-def]
    index = next(i for i, c in enumerate(table.source.columns) if c.header == header)
    return [table.cell_text(row, index) for row in range(table.proxy.rowCount())]


def test_an_assembly_is_prepared_convened_late_and_run_from_the_keyboard(  # type: ignore[no-untyped-def]
    qtbot, start_app
) -> None:
    controller = start_app()
    main = open_demo(qtbot, controller)
    persons = {p.name: p.id for p in main.state.registry.persons}
    # the syndic of this building is one of its owners, Luc Janssens
    on_worker(
        qtbot, controller, lambda s: s.profile.store.set_meta({"person": persons["Luc Janssens"]})
    )
    meetings = show(qtbot, controller, "assembly_meetings")
    assert meetings.empty.isVisible() and not meetings.convene_button.isEnabled()

    meetings.new_button.click()
    dialog = meetings.dialog
    dialog.title.setText("Assemblée générale ordinaire")
    dialog.starts.setDateTime(QDateTime(STARTS))
    dialog.place.setText("Salle du rez-de-chaussée")
    dialog.period.setChecked(True)
    dialog.period_start.setDate(QDate(PERIOD))
    dialog.save_button.click()
    qtbot.waitUntil(lambda: meetings.dialog is None, timeout=WAIT_MS)
    assert len(meetings.table.rows()) == 1
    meeting = meetings.table.current_id()
    info = on_worker(qtbot, controller, lambda s: s.assembly.info(meeting))
    assert (info.title, info.starts, info.kind.value) == (
        "Assemblée générale ordinaire",
        STARTS,
        "ordinary",
    )

    # two items; the category sets the majority, shown with its reason
    meetings.add_button.click()
    item = meetings.dialog
    item.title.setText("Comptes et budget")
    item.choose_category("budget_accounts")
    assert item.majority.text() == "Absolute majority"
    item.save_button.click()
    qtbot.waitUntil(lambda: meetings.dialog is None, timeout=WAIT_MS)
    meetings.add_button.click()
    item = meetings.dialog
    item.title.setText("Ravalement de la façade")
    item.choose_category("common_works")
    assert item.majority.text() == "Two-thirds majority"
    assert item.reason.text() == "Works on common parts: two thirds (art. 3.88 §1, 1°)."
    item.save_button.click()
    qtbot.waitUntil(lambda: meetings.dialog is None, timeout=WAIT_MS)
    assert column(meetings.agenda, "Majority") == ["Absolute majority", "Two-thirds majority"]
    assert meetings.item_reason.text().startswith("Works on common parts")

    # an owner's request arriving after the deadline goes to the next assembly
    deadline = PERIOD - timedelta(weeks=3)
    meetings.add_button.click()
    item = meetings.dialog
    item.title.setText("Installer des bornes de recharge")
    item.choose_category("common_works")
    item.requested_by.setCurrentText("Marie Lambert")
    item.requested_on.setDate(QDate(deadline + timedelta(days=1)))
    assert format_day(deadline) in item.deferral.text()
    assert "next assembly" in item.deferral.text()
    item.save_button.click()
    qtbot.waitUntil(lambda: meetings.dialog is None, timeout=WAIT_MS)
    assert column(meetings.agenda, "No.") == ["1", "2", "—"]
    note = column(meetings.agenda, "Note")[2]
    assert note.startswith("Deferred:") and format_day(deadline) in note
    assert (
        column(meetings.agenda, "Requested")[2]
        == f"Marie Lambert on {format_day(deadline + timedelta(days=1))}"
    )

    # convened ten days before the meeting: the day it should have left is said
    meetings.convene_button.click()
    convene = meetings.dialog
    sent = STARTS.date() - timedelta(days=10)
    due = STARTS.date() - timedelta(days=15)
    convene.sent_on.setDate(QDate(sent))
    assert format_day(due) in convene.warning.text()
    convene.save_button.click()
    qtbot.waitUntil(lambda: convene.check is not None, timeout=WAIT_MS)
    assert not convene.check.in_time and convene.check.due == due
    assert convene.warning.isVisible()
    assert convene.warning.text() == (
        f"Sent on {format_day(sent)}, less than 15 days before the meeting: the convocation "
        f"should have been sent by {format_day(due)} (art. 3.87 §3)."
    )
    channels = set(column(convene.recipients, "Sent by"))
    assert channels == {"Registered mail", "E-mail (agreed in writing)"}
    assert len(convene.recipients.rows()) == 16
    convene.reject()
    assert format_day(due) in meetings.convocation.text()
    assert meetings.convocation.objectName() == "inlineError"
    recorded = on_worker(qtbot, controller, lambda s: s.assembly.recipients(meeting))
    assert len(recorded) == 16 and {r["on"] for r in recorded.values()} == {sent.isoformat()}
    # the agenda is now as it was sent
    meetings.agenda.selectRow(0)
    assert not meetings.remove_button.isEnabled()
    assert "as it was sent" in meetings.remove_button.toolTip()

    run_the_session(qtbot, controller, meeting, persons)


def press(qtbot, controller, table, key) -> None:  # type: ignore[no-untyped-def]
    """One key on a list of the session screen, then the node's answer."""
    qtbot.keyClick(table, key)
    wait_idle(qtbot, controller)


def run_the_session(qtbot, controller, meeting: str, persons: dict[str, str]) -> None:  # type: ignore[no-untyped-def]
    room = show(qtbot, controller, "assembly_session")
    assert room.data is not None and room.data.id == meeting
    attendance = room.attendance
    names = [r.name for r in attendance.rows()]
    assert names[:9] == [
        "Ahmed Benali",
        "Annelies Peeters-Claes",
        "Boulangerie Delvaux SRL",
        "Fatima El Amrani",
        "Hélène Verstraete",
        "Isabelle Fontaine",
        "Julie Martin",
        "Klaus Becker",
        "Luc Janssens",
    ]
    # eight owners arrive: P on each, the arrow key to the next
    attendance.setFocus()
    attendance.selectRow(0)
    for name in names[:8]:
        assert attendance.current_row().name == name
        press(qtbot, controller, attendance, "p")
        qtbot.keyClick(attendance, Qt.Key.Key_Down)
    recorded = on_worker(qtbot, controller, lambda s: s.assembly.attendance(meeting))
    assert {persons[n] for n in names[:8]} == set(recorded)
    assert {a.mode for a in recorded.values()} == {Mode.PRESENT}
    assert column(attendance, "Attendance")[0].startswith("Present, ")
    assert room.quorum_title.text() == "If the meeting opened now:"
    assert room.quorum_verdict.text().startswith("Quorum not reached")
    assert room.quorum_figures.text() == (
        "8 of 16 owners present or represented, holding 4,550 of 10,000 quotas."
    )

    # Marie Lambert gives her proxy to the syndic: the law refuses it, nothing is recorded
    attendance.select_id(persons["Marie Lambert"])
    press(qtbot, controller, attendance, "r")
    proxy = room.dialog
    assert proxy.windowTitle() == "Proxy for Marie Lambert"
    proxy.holder.setCurrentText("Luc Janssens")
    proxy.save_button.click()
    qtbot.waitUntil(lambda: proxy.error.isVisible(), timeout=WAIT_MS)
    assert proxy.error.text() == "The syndic can never hold a proxy (art. 3.87 §7)."
    assert persons["Marie Lambert"] not in on_worker(
        qtbot, controller, lambda s: s.assembly.attendance(meeting)
    )
    proxy.holder.setCurrentText("Klaus Becker")
    proxy.save_button.click()
    qtbot.waitUntil(lambda: room.dialog is None, timeout=WAIT_MS)
    record = on_worker(qtbot, controller, lambda s: s.assembly.attendance(meeting))[
        persons["Marie Lambert"]
    ]
    assert (record.mode, record.holder) == (Mode.PROXY, persons["Klaus Becker"])
    assert attendance.current_row().presence == "Proxy: Klaus Becker"

    # no vote before the opening
    press(qtbot, controller, room.votes, "f")
    assert room.error.text() == "Open the meeting first."
    assert not room.vote_buttons[Vote.FOR].isEnabled()

    # the opening: the quorum with its figures
    room.open_button.click()
    opening = room.dialog
    opening.chair.setCurrentText("Klaus Becker")
    opening.secretary.setCurrentText("Julie Martin")
    opening.save_button.click()
    qtbot.waitUntil(lambda: room.dialog is None, timeout=WAIT_MS)
    assert room.quorum_title.text().startswith("Quorum at the opening, ")
    assert room.quorum_verdict.text() == (
        "Quorum reached: more than half of the owners, holding at least half of the quotas."
    )
    assert room.quorum_figures.text() == (
        "9 of 16 owners present or represented, holding 5,630 of 10,000 quotas."
    )
    assert not room.open_button.isVisible() and not room.second_button.isVisible()
    assert room.vote_buttons[Vote.FOR].isEnabled()
    info = on_worker(qtbot, controller, lambda s: s.assembly.info(meeting))
    assert info.opened_at is not None and info.chair == "Klaus Becker"

    # resolution 1: everyone for, then the exceptions, with the keys
    votes = room.votes
    assert room.position.text() == "Resolution 1 of 2"
    assert room.majority.text() == (
        "Absolute majority — Budgets and accounts: absolute majority (art. 3.88 §1)."
    )
    assert room.tally.texts()["verdict"] == "No vote recorded yet."
    votes.setFocus()
    press(qtbot, controller, votes, "e")
    assert room.tally.texts()["for"] == "5,630" and room.tally.texts()["against"] == "0"
    assert room.tally.texts()["share"] == "100.00 %"
    votes.select_id(persons["Fatima El Amrani"])
    press(qtbot, controller, votes, "a")
    qtbot.keyClick(votes, Qt.Key.Key_Down)
    assert votes.current_row().name == "Hélène Verstraete"
    press(qtbot, controller, votes, "s")
    tally = room.tally.texts()
    assert (tally["for"], tally["against"], tally["abstentions"]) == ("4,730", "470", "430")
    assert tally["share"] == "90.96 %"
    assert tally["verdict"] == "Adopted — Absolute majority"
    assert column(votes, "Vote")[:5] == ["For", "For", "For", "Against", "Abstention"]
    assert column(votes, "Counted from")[9 - 1] == "Proxy: Klaus Becker"
    data = on_worker(qtbot, controller, lambda s: s.assembly.minutes_data(meeting))
    first = data["resolutions"][0]
    assert (first["for"], first["against"], first["abstentions"]) == ("4730", "470", "430")
    assert first["against_names"] == ["Fatima El Amrani"]

    # Page Down: resolution 2, two thirds; the result turns as the votes come
    press(qtbot, controller, votes, Qt.Key.Key_PageDown)
    assert room.position.text() == "Resolution 2 of 2"
    assert room.resolution_title.text() == "2. Ravalement de la façade"
    press(qtbot, controller, votes, "e")
    assert room.tally.texts()["verdict"] == "Adopted — Two-thirds majority"
    votes.select_id(persons["Klaus Becker"])
    press(qtbot, controller, votes, "a")
    assert room.tally.texts()["verdict"] == "Adopted — Two-thirds majority"
    votes.select_id(persons["Marie Lambert"])  # voted by her proxy holder
    press(qtbot, controller, votes, "a")
    tally = room.tally.texts()
    assert (tally["for"], tally["against"], tally["share"]) == ("3,410", "2,220", "60.57 %")
    assert tally["verdict"] == (
        "Rejected — Two-thirds majority: two thirds of the votes cast needed"
    )
    press(qtbot, controller, votes, Qt.Key.Key_Delete)  # Marie's vote cleared
    assert room.tally.texts()["share"] == "74.95 %"
    assert room.tally.texts()["verdict"] == "Adopted — Two-thirds majority"
    press(qtbot, controller, votes, Qt.Key.Key_PageUp)
    assert room.position.text() == "Resolution 1 of 2"
    press(qtbot, controller, votes, Qt.Key.Key_PageDown)

    # the chair closes the vote: no more votes on it
    room.close_item_button.click()
    wait_idle(qtbot, controller)
    item = room.current_item()
    assert item.voted_at is not None and "Vote closed at" in room.item_state.text()
    assert not room.vote_buttons[Vote.AGAINST].isEnabled()
    assert "closed" in room.vote_buttons[Vote.AGAINST].toolTip()

    # closing the meeting asks first
    room.close_button.click()
    box = room.confirm
    assert "refused" in box.informativeText()
    next(b for b in box.buttons() if b.text() == "Close the meeting").click()
    qtbot.waitUntil(
        lambda: room.data is not None and room.data.info.closed_at is not None, timeout=WAIT_MS
    )
    assert not room.present_button.isEnabled()
    assert room.present_button.toolTip() == "The meeting is closed."

    results = show(qtbot, controller, "assembly_results")
    assert column(results.table, "Result") == ["Adopted", "Adopted"]
    assert column(results.table, "For") == ["4,730", "3,410"]
    results.table.selectRow(0)
    assert results.detail.text().splitlines()[:2] == [
        "Against: Fatima El Amrani",
        "Abstained: Hélène Verstraete",
    ]
    assert "30 days" in results.minutes_state.text()


# -- other devices, against a real relay ---------------------------------------------------

PIN = "271828"


def invite(qtbot, syndic, role, person=None, kiosk=False) -> str:  # type: ignore[no-untyped-def]
    made: list = []
    syndic.sync.create_invite(role, person, made.append, pytest.fail, kiosk=kiosk)
    qtbot.waitUntil(lambda: bool(made), timeout=WAIT_MS)
    return made[0].code


def push(qtbot, controller) -> None:  # type: ignore[no-untyped-def]
    """A sync round that starts after every change made so far."""
    wait_idle(qtbot, controller)
    qtbot.waitUntil(lambda: not controller.sync.busy, timeout=WAIT_MS)
    with qtbot.waitSignal(controller.sync.synced, timeout=WAIT_MS):
        controller.sync.sync_now()
    wait_idle(qtbot, controller)


def nav_entries(window) -> dict[str, bool]:  # type: ignore[no-untyped-def]
    return {
        window.nav.item(r).text(): not window.nav.item(r).isHidden()
        for r in range(window.nav.count())
    }


def prepare_remote_meeting(session) -> tuple[str, list[str]]:  # type: ignore[no-untyped-def]
    """An ordinary assembly allowing remote ballots, convened in time (on the worker)."""
    meeting = session.assembly.create(
        "ordinary",
        "AG ordinaire",
        STARTS,
        "Salle du rez",
        remote_allowed=True,
        remote_terms="Bulletin signé dans KoproGo jusqu'à la veille.",
    )
    items = [
        session.assembly.add_item(meeting, "Comptes et budget", "budget_accounts"),
        session.assembly.add_item(meeting, "Ravalement de la façade", "common_works"),
    ]
    session.assembly.convene(meeting, STARTS.date() - timedelta(days=20))
    return meeting, items


def test_remote_ballots_on_an_owners_device_and_the_shared_computer(  # type: ignore[no-untyped-def]
    qtbot, start_app, relay_process, tmp_path: Path
) -> None:
    syndic = start_app()
    main = connected_demo(qtbot, syndic, relay_process.url)
    persons = {p.name: p.id for p in main.state.registry.persons}
    marie = persons["Marie Lambert"]
    meeting, (accounts, works) = on_worker(qtbot, syndic, prepare_remote_meeting)
    push(qtbot, syndic)

    # The building's shared computer: Marie enrols there, and votes with her PIN.
    shared = start_app(tmp_path / "shared-computer")
    kiosk = join_with_code(qtbot, shared, relay_process.url, invite(qtbot, syndic, Role.KIOSK))
    enrolled: list = []
    code = invite(qtbot, syndic, Role.OWNER, marie, kiosk=True)
    shared.sync.enrol_resident(code, PIN, enrolled.append, pytest.fail)
    qtbot.waitUntil(lambda: bool(enrolled), timeout=WAIT_MS)
    qtbot.waitUntil(lambda: kiosk.assembly.access is not None, timeout=WAIT_MS)
    entries = nav_entries(kiosk)
    assert entries["Remote ballot"] and entries["Meetings"] and not entries["Session"]
    ballot = show(qtbot, shared, "assembly_ballot")
    qtbot.waitUntil(lambda: ballot.who.resident.count() == 1, timeout=WAIT_MS)
    qtbot.waitUntil(lambda: ballot.data is not None and ballot.data.id == meeting, timeout=WAIT_MS)
    assert ballot.who.resident.currentText() == "Marie Lambert"
    assert "Bulletin signé" in ballot.terms.text()
    ballot.choose(accounts, "for")
    ballot.choose(works, "for")
    ballot.who.pin.setText("000000")  # a wrong PIN signs nothing
    ballot.sign_button.click()
    qtbot.waitUntil(lambda: ballot.error.isVisible(), timeout=WAIT_MS)
    assert ballot.error.text().startswith("The PIN is not correct.")
    assert ballot.who.pin.text() == "" and not ballot.mine.isVisible()
    assert on_worker(qtbot, shared, lambda s: s.assembly.ballots(meeting)) == []
    ballot.who.pin.setText(PIN)
    ballot.sign_button.click()
    qtbot.waitUntil(lambda: len(ballot.mine.rows()) == 1, timeout=WAIT_MS)
    assert not ballot.error.isVisible() and ballot.mine.isVisible()
    assert column(ballot.mine, "Signed on") == ["The building's shared computer"]
    assert column(ballot.mine, "Answers") == ["1. For · 2. For"]
    push(qtbot, shared)
    kiosk.go_to("residents")  # leaving the page: the next person finds nothing
    assert ballot.who.pin.text() == "" and ballot.answers() == {} and ballot.mine.rows() == []

    # Marie's own computer: her ballot from the shared computer is there; she
    # signs another one that differs on item 1: a conflict, settled by withdrawing.
    owner = start_app(tmp_path / "marie-computer")
    window = join_with_code(
        qtbot, owner, relay_process.url, invite(qtbot, syndic, Role.OWNER, marie)
    )
    qtbot.waitUntil(lambda: window.assembly.access is not None, timeout=WAIT_MS)
    entries = nav_entries(window)
    assert entries["Remote ballot"] and entries["Results and minutes"] and not entries["Session"]
    meetings = show(qtbot, owner, "assembly_meetings")
    qtbot.waitUntil(lambda: len(meetings.table.rows()) == 1, timeout=WAIT_MS)
    assert column(meetings.agenda, "Item") == ["Comptes et budget", "Ravalement de la façade"]
    assert not meetings.new_button.isEnabled() and not meetings.add_button.isEnabled()
    assert meetings.new_button.toolTip() == (
        "Only the syndic's device prepares and runs the assemblies; this one shows them."
    )
    mine = show(qtbot, owner, "assembly_ballot")
    qtbot.waitUntil(lambda: len(mine.mine.rows()) == 1, timeout=WAIT_MS)
    assert not mine.who.form.isVisible()
    mine.choose(accounts, "against")
    mine.choose(works, "for")
    mine.sign_button.click()
    qtbot.waitUntil(lambda: len(mine.mine.rows()) == 2, timeout=WAIT_MS)
    statuses = column(mine.mine, "Status")
    assert statuses == ["Differs from another of your ballots: withdraw one"] * 2
    kiosk_ballot = next(r for r in mine.mine.rows() if r.signed_on != "This device")
    mine.mine.select_id(kiosk_ballot.id)
    assert mine.withdraw_button.isEnabled()
    mine.withdraw_button.click()
    qtbot.waitUntil(lambda: len(mine.mine.rows()) == 1, timeout=WAIT_MS)
    assert column(mine.mine, "Signed on") == ["This device"]
    assert column(mine.mine, "Status") == ["Counted (a vote in the room replaces it)"]
    push(qtbot, owner)

    # The syndic's laptop, in the room: her ballot is shown as remote, and
    # replaced when she votes in the room.
    push(qtbot, syndic)

    def seat(session):  # type: ignore[no-untyped-def]
        others = sorted(set(session.assembly.outcome(meeting).owners) - {marie})
        for person in others[:9]:
            session.assembly.attend(meeting, person)

    on_worker(qtbot, syndic, seat)
    room = show(qtbot, syndic, "assembly_session")
    qtbot.waitUntil(lambda: room.data is not None and bool(room.data.ballots), timeout=WAIT_MS)
    row = next(r for r in room.votes.rows() if r.id == marie)
    assert (row.vote, row.source) == (Vote.AGAINST, "remote")
    assert column(room.votes, "Vote")[room.votes.rows().index(row)] == "Against (remote)"
    attendance = room.attendance
    attendance.select_id(marie)
    assert attendance.current_row().presence == "Remote ballot"
    press(qtbot, syndic, attendance, "p")
    room.open_button.click()
    room.dialog.save_button.click()
    qtbot.waitUntil(lambda: room.dialog is None, timeout=WAIT_MS)
    room.votes.select_id(marie)
    press(qtbot, syndic, room.votes, "f")
    row = next(r for r in room.votes.rows() if r.id == marie)
    assert (row.vote, row.source) == (Vote.FOR, "room")
    assert column(room.votes, "Counted from")[room.votes.rows().index(row)] == "In the room"
    result = on_worker(qtbot, syndic, lambda s: s.assembly.outcome(meeting).results[0])
    assert (result.votes[marie], result.source[marie]) == (Vote.FOR, "room")
    push(qtbot, syndic)

    # The council follows the session and changes nothing.
    council = start_app(tmp_path / "council-computer")
    board = join_with_code(qtbot, council, relay_process.url, invite(qtbot, syndic, Role.COUNCIL))
    qtbot.waitUntil(lambda: board.assembly.access is not None, timeout=WAIT_MS)
    entries = nav_entries(board)
    assert entries["Session"] and entries["Meetings"] and not entries["Remote ballot"]
    watch = show(qtbot, council, "assembly_session")
    qtbot.waitUntil(
        lambda: watch.data is not None and watch.data.info.opened_at is not None, timeout=WAIT_MS
    )
    reason = "Only the syndic's device prepares and runs the assemblies; this one shows them."
    for button in (watch.present_button, watch.vote_buttons[Vote.FOR], watch.close_button):
        assert not button.isEnabled() and button.toolTip() == reason
    watch.votes.select_id(marie)
    press(qtbot, council, watch.votes, "a")
    assert watch.error.text() == reason
    refused = on_worker(
        qtbot, council, lambda s: s.assembly.vote(meeting, accounts, marie, "against")
    )
    assert isinstance(refused, ReadOnlyError)
    outcome = on_worker(qtbot, council, lambda s: s.assembly.outcome(meeting))
    assert outcome.results[0].votes[marie] is Vote.FOR


def closed_meeting(session) -> str:  # type: ignore[no-untyped-def]
    """An assembly held and closed (on the worker): two resolutions voted."""
    meeting, (accounts, works) = prepare_remote_meeting(session)
    owners = sorted(session.assembly.outcome(meeting).owners)
    held = STARTS.astimezone()  # on the day, as the minutes are
    for person in owners[:10]:
        session.assembly.attend(meeting, person, at=held - timedelta(minutes=10))
    session.assembly.open(meeting, held, chair="Klaus Becker", secretary="Julie Martin")
    session.assembly.vote_all(meeting, accounts, "for", {owners[0]: "against"})
    session.assembly.vote_all(meeting, works, "for")
    session.assembly.close(meeting, held + timedelta(hours=2))
    return meeting


def save_as(qtbot, saver, path: Path) -> Path:  # type: ignore[no-untyped-def]
    """Answer the save dialog that ``saver`` opened, wait for the file."""
    saver.file_dialog.selectFile(str(path))
    saver.file_dialog.accept()
    qtbot.waitUntil(lambda: saver.last_saved == path, timeout=WAIT_MS)
    return path


def pdf_text(path: Path) -> str:
    from pypdf import PdfReader

    return "\n".join(page.extract_text() for page in PdfReader(path).pages)


def test_convocations_and_minutes_as_pdf_and_the_minutes_sent(  # type: ignore[no-untyped-def]
    qtbot, start_app, tmp_path: Path
) -> None:
    controller = start_app()
    main = open_demo(qtbot, controller)
    persons = {p.name: p.id for p in main.state.registry.persons}
    meeting = on_worker(qtbot, controller, closed_meeting)
    main.assembly.choose(meeting)
    meetings = show(qtbot, controller, "assembly_meetings")
    qtbot.waitUntil(lambda: meetings.data is not None, timeout=WAIT_MS)
    meetings.owners.select_id(persons["Klaus Becker"])
    assert meetings.pdf_one.isEnabled()
    meetings.ask_one()
    text = pdf_text(save_as(qtbot, meetings.pdfs, tmp_path / "klaus.pdf"))
    assert "Klaus Becker" in text and "Vollmacht" in text  # in his language, with the proxy form
    meetings.ask_all()
    save_as(qtbot, meetings.pdfs, tmp_path / "all.pdf")
    from pypdf import PdfReader

    assert len(PdfReader(tmp_path / "all.pdf").pages) >= 2 * 16

    results = show(qtbot, controller, "assembly_results")
    assert results.minutes_button.isEnabled()
    results.ask_minutes()
    text = pdf_text(save_as(qtbot, results.pdfs, tmp_path / "minutes.pdf"))
    assert "AG ordinaire" in text and "Comptes et budget" in text
    due = STARTS.date() + timedelta(days=30)
    assert results.minutes_state.text() == (
        f"To send to the owners by {format_day(due)} (30 days after the meeting)."
    )
    results.sent_button.click()
    dialog = results.dialog
    dialog.day.setDate(QDate(date.today()))
    dialog.save_button.click()
    qtbot.waitUntil(lambda: results.dialog is None, timeout=WAIT_MS)
    assert results.minutes_state.text() == (
        f"Minutes sent to the owners on {format_day(date.today())}."
    )
    info = on_worker(qtbot, controller, lambda s: s.assembly.info(meeting))
    assert info.distributed_on == date.today()
    results.tabs.setCurrentIndex(1)
    qtbot.waitUntil(lambda: len(results.register.rows()) == 2, timeout=WAIT_MS)
    assert column(results.register, "Decision") == ["Comptes et budget", "Ravalement de la façade"]


def test_a_written_procedure_and_a_poll(qtbot, start_app) -> None:  # type: ignore[no-untyped-def]
    controller = start_app()
    main = open_demo(qtbot, controller)
    persons = {p.name: p.id for p in main.state.registry.persons}
    luc = persons["Luc Janssens"]
    on_worker(qtbot, controller, lambda s: s.profile.store.set_meta({"person": luc}))

    def prepare(session):  # type: ignore[no-untyped-def]
        written = session.assembly.create("written", "Décision écrite", STARTS, "")
        supplier = session.assembly.add_item(written, "Changer de fournisseur d'énergie")
        poll = session.assembly.create("poll", "Sondage", STARTS, "")
        bikes = session.assembly.add_item(poll, "Un local vélos ?", answers="yes_no")
        hall = session.assembly.add_item(poll, "Propreté du hall", answers="rating")
        return written, supplier, poll, bikes, hall

    written, supplier, poll, bikes, hall = on_worker(qtbot, controller, prepare)
    qtbot.waitUntil(lambda: main.assembly.access is not None, timeout=WAIT_MS)
    main.assembly.load()  # the device now signs for Luc: the ballot page appears
    qtbot.waitUntil(lambda: main.assembly.access.person == luc, timeout=WAIT_MS)
    assert nav_entries(main)["Remote ballot"]

    # the written procedure: Luc agrees in writing; one owner of sixteen
    main.assembly.choose(written)
    ballot = show(qtbot, controller, "assembly_ballot")
    qtbot.waitUntil(lambda: ballot.data is not None and ballot.data.id == written, timeout=WAIT_MS)
    assert "agreement of every owner" in ballot.terms.text()
    ballot.choose(supplier, "for")
    ballot.sign_button.click()
    qtbot.waitUntil(lambda: len(ballot.mine.rows()) == 1, timeout=WAIT_MS)
    results = show(qtbot, controller, "assembly_results")
    assert column(results.table, "Result") == ["Not adopted: 1 of 16 owners agreed"]
    results.table.selectRow(0)
    agreements = dict(
        zip(
            column(results.agreements, "Owner"),
            column(results.agreements, "Signed agreement"),
            strict=True,
        )
    )
    assert agreements["Luc Janssens"] == "For" and agreements["Marie Lambert"] == ""
    assert len(agreements) == 16

    # the poll: counts and the average, never a name
    main.assembly.choose(poll)
    ballot = show(qtbot, controller, "assembly_ballot")
    qtbot.waitUntil(lambda: ballot.data is not None and ballot.data.id == poll, timeout=WAIT_MS)
    # found by hand: every poll said "nobody's answer is shown by name"
    assert "shows who answered what" in ballot.terms.text()
    ballot.choose(bikes, "yes")
    ballot.choose(hall, "4")
    ballot.sign_button.click()
    qtbot.waitUntil(lambda: len(ballot.mine.rows()) == 1, timeout=WAIT_MS)
    results = show(qtbot, controller, "assembly_results")
    assert column(results.table, "Result") == ["Yes: 1", "4: 1"]
    results.table.selectRow(1)
    assert results.detail.text().splitlines() == ["4: 1", "1 answer", "Average: 4 of 5"]
    shown = results.detail.text() + results.ballot_notes.text() + results.summary.text()
    assert "Luc" not in shown
    assert not results.minutes_button.isEnabled()


def test_without_quorum_a_second_assembly_is_scheduled_15_days_later(  # type: ignore[no-untyped-def]
    qtbot, start_app
) -> None:
    controller = start_app()
    main = open_demo(qtbot, controller)

    def prepare(session):  # type: ignore[no-untyped-def]
        meeting, _items = prepare_remote_meeting(session)
        for person in sorted(session.assembly.outcome(meeting).owners)[:3]:
            session.assembly.attend(meeting, person)
        return meeting

    meeting = on_worker(qtbot, controller, prepare)
    main.assembly.choose(meeting)
    room = show(qtbot, controller, "assembly_session")
    qtbot.waitUntil(lambda: room.data is not None and room.data.id == meeting, timeout=WAIT_MS)
    assert not room.second_button.isVisible() or not room.second_button.isEnabled()
    room.open_button.click()
    room.dialog.save_button.click()
    qtbot.waitUntil(lambda: room.dialog is None, timeout=WAIT_MS)
    assert room.quorum_verdict.text().startswith("Quorum not reached")
    assert room.quorum_verdict.property("reached") == "false"
    assert room.quorum_figures.text().startswith("3 of 16 owners present or represented")
    assert not room.vote_buttons[Vote.FOR].isEnabled()
    assert room.vote_buttons[Vote.FOR].toolTip() == (
        "The quorum is not reached: the meeting cannot vote."
    )
    assert room.second_button.isVisible() and room.second_button.isEnabled()
    room.second_button.click()
    second = room.dialog
    earliest = STARTS.date() + timedelta(days=15)
    second.starts.setDateTime(QDateTime(STARTS + timedelta(days=14)))
    second.save_button.click()
    qtbot.waitUntil(lambda: second.error.isVisible(), timeout=WAIT_MS)
    assert second.error.text() == (
        "The second assembly is held at least 15 days later: on "
        f"{format_day(earliest)} at the earliest."
    )
    second.starts.setDateTime(QDateTime(STARTS + timedelta(days=15)))
    second.save_button.click()
    qtbot.waitUntil(lambda: room.dialog is None, timeout=WAIT_MS)
    new = room.data
    assert new is not None and new.id != meeting and new.info.second_of == meeting
    assert [i.title for i in new.agenda()] == ["Comptes et budget", "Ravalement de la façade"]
    first = on_worker(qtbot, controller, lambda s: s.assembly.info(meeting))
    assert first.closed_at is not None
