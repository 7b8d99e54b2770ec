"""``python -m desktop.screenshots OUTDIR``: pictures of the app for the docs.

Runs the real app (``make screenshots`` runs it under Xvfb) on the demo
building in a temporary profile, with temporary settings, so nothing of the
user's own buildings or preferences is touched or shown. Writes
``first-run.png``, ``main-window.png`` (the Lots page), ``ownership.png``
(a lot split between usufruct and bare ownership), ``occupants.png``
(a rented flat: its owner and its tenant), ``devices.png`` (the Devices
page with an invite for a council member, the building connected to a
throwaway relay started on 127.0.0.1 for the picture), ``messages.png``
(the Persons page with a message in an owner's inbox) and
``kiosk-inbox.png`` (the building's shared computer, joined in a second
temporary profile, where an enrolled resident is asked for their PIN),
``accounts-calls.png`` (a quarterly call for funds, what each owner is
asked for and one owner's notice) and ``accounts-year-end.png`` (the
budget against what was spent, with its chart), on a year of accounts
made up for the pictures (:func:`seed_accounts`), and
``assembly-session.png`` (the session screen of an assembly, a resolution
being voted with its live tally, :func:`seed_assembly`),
``tasks-alert.png`` (the band that tells the syndic at start-up that tasks
are overdue), ``council.png`` and ``syndic-tasks.png`` (the council's
mandates and the syndic's task list, :func:`seed_governance`).

``energy-campaign.png``, ``energy-offers.png`` and ``energy-optin.png``: a
group energy purchase collecting data, one owner's bill verified and the
figures withheld below 5 participants; the offers side by side; an owner
taking part (:func:`seed_energy`; the offers are put in as fetching them
from a purchase pool would).
"""

from __future__ import annotations

import argparse
import os
import secrets
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

SIZE = (1280, 800)


def _wait(app, condition: Callable[[], bool], timeout: float = 60.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise SystemExit("screenshots: the app did not get there in time")
        app.processEvents()
        time.sleep(0.01)


def _settle(app, seconds: float = 0.3) -> None:  # type: ignore[no-untyped-def]
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        app.processEvents()
        time.sleep(0.01)


@contextmanager
def local_relay(folder: Path) -> Iterator[str]:
    """A ``koprogo-relay`` process on a free 127.0.0.1 port; its address."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    command = [sys.executable, "-m", "sync_server.cli", "serve", "--host", "127.0.0.1",
               "--port", str(port), "--data-dir", str(folder)]  # fmt: skip
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(url + "/healthz", timeout=1):
                    break
            except OSError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise SystemExit("screenshots: the relay did not start") from None
                time.sleep(0.1)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()


def take(outdir: Path, language: str) -> list[Path]:
    from .main import build
    from .qt import QApplication, QSettings

    app = QApplication.instance() or QApplication(sys.argv)
    written = []
    with tempfile.TemporaryDirectory(prefix="koprogo-screenshots-") as tmp:
        QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, tmp)
        from .settings import save_language

        save_language(language)
        controller = build(argparse.Namespace(profiles=str(Path(tmp) / "profiles")))
        try:
            _wait(app, lambda: controller.start_window is not None)
            start = controller.start_window
            assert start is not None
            start.resize(*SIZE)
            _settle(app)
            written.append(_save(start, outdir / "first-run.png"))

            controller.create_demo(secrets.token_urlsafe(16))
            _wait(app, lambda: controller.main is not None and controller.main.state is not None)
            main = controller.main
            assert main is not None
            main.resize(*SIZE)
            main.go_to("lots")
            # The demo has no council: the start-up band says so. Pictured
            # once, then closed so that it is in no other picture.
            _wait(app, lambda: main.governance.data is not None and not controller.ops.busy)
            _settle(app)
            written.append(_save(main, outdir / "tasks-alert.png"))
            main.task_alert.close_button.click()
            lots = main.pages["lots"].table
            lots.selectRow(2)
            lots.setFocus()
            _settle(app)
            written.append(_save(main, outdir / "main-window.png"))

            main.go_to("ownership")
            ownership = main.pages["ownership"]
            registry = main.state.registry if main.state else None
            for number, name in (("A2.3", "ownership.png"), ("A2.1", "occupants.png")):
                lot = registry.lot_by_number(number) if registry else None
                if lot is not None:
                    ownership.lots.select_id(lot.id)
                    ownership.occupants.selectRow(0)
                _settle(app)
                written.append(_save(main, outdir / name))

            written += _accounts(app, controller, outdir)
            written.append(_assembly(app, controller, outdir / "assembly-session.png"))
            written += _energy(app, controller, outdir)
            written += _governance(app, controller, outdir)

            with local_relay(Path(tmp) / "relay") as url:
                written.append(_devices(app, controller, url, outdir / "devices.png"))
                written.append(_messages(app, controller, outdir / "messages.png"))
                written.append(_kiosk(app, controller, url, Path(tmp), outdir / "kiosk-inbox.png"))
        finally:
            if controller.main is not None:
                controller._discard(controller.main)
            controller.shutdown()
    return written


def _devices(app, controller, url: str, path: Path) -> Path:  # type: ignore[no-untyped-def]
    """The Devices page with an invite dialog over it (one picture of both)."""
    from .qt import QColor, QPainter, QPoint

    sync, main = controller.sync, controller.main
    connected: list[object] = []
    sync.connect_relay(url, connected.append, lambda exc: connected.append(exc))
    _wait(app, lambda: bool(connected) and sync.status.last_sync is not None and not sync.busy)
    main.go_to("devices")
    devices = main.pages["devices"]
    _wait(app, lambda: devices.loaded)
    devices.invite()
    dialog = devices.invite_dialog
    dialog.role.setCurrentIndex(dialog.role.findData("council"))
    dialog.submit()
    _wait(app, lambda: dialog.invite is not None)
    _wait(app, lambda: len(devices.table.rows()) == 1 and not sync.busy)
    _settle(app, 0.6)
    picture = main.grab()
    over = dialog.grab()
    painter = QPainter(picture)
    corner = QPoint((picture.width() - over.width()) // 2, (picture.height() - over.height()) // 2)
    painter.fillRect(picture.rect(), QColor(0, 0, 0, 60))  # the window behind, dimmed
    painter.drawPixmap(corner, over)
    painter.end()
    dialog.accept()
    if not picture.save(str(path)):
        raise SystemExit(f"screenshots: could not write {path}")
    return path


MESSAGE = (
    "Roof works from 3 March",
    "The roofers start on Monday 3 March at 8:00. The attic stays closed until the 28th; "
    "please take out what you need before then.",
)
PIN = "271828"


def _messages(app, controller, path: Path) -> Path:  # type: ignore[no-untyped-def]
    """The Persons page: a message sent to Marie Lambert's inbox."""
    main = controller.main
    marie = next(p for p in main.state.registry.persons if p.name == "Marie Lambert")
    done: list[object] = []
    controller.ops.change(lambda s: s.inbox.send(marie.id, *MESSAGE), done.append, done.append)
    _wait(app, lambda: bool(done))
    main.go_to("persons")
    persons = main.pages["persons"]
    persons.select_record(marie.id)
    _wait(app, lambda: len(persons.inbox_view.items()) == 1)
    _settle(app)
    persons.table.scrollTo(persons.table.currentIndex())  # the table shrank: keep her in view
    persons.table.setFocus()
    _settle(app)
    return _save(main, path)


def _kiosk(app, controller, url: str, tmp: Path, path: Path) -> Path:  # type: ignore[no-untyped-def]
    """The building's shared computer (a second profile joined with a kiosk
    invite): Marie Lambert enrolled, asked for her PIN."""
    from shared.protocol import Role

    from .main import build

    sync = controller.sync
    marie = next(p for p in controller.main.state.registry.persons if p.name == "Marie Lambert")
    invites: list[object] = []
    sync.create_invite(Role.KIOSK, None, invites.append, invites.append)
    sync.create_invite(Role.OWNER, marie.id, invites.append, invites.append, kiosk=True)
    _wait(app, lambda: len(invites) == 2 and sync.status.pending == 0 and not sync.busy)
    device_code, resident_code = (getattr(i, "code", None) for i in invites)
    if not device_code or not resident_code:
        raise SystemExit(f"screenshots: no invite for the shared computer: {invites}")

    shared = build(argparse.Namespace(profiles=str(tmp / "shared-computer")))
    try:
        _wait(app, lambda: shared.start_window is not None)
        shared.join_building(url, device_code, secrets.token_urlsafe(16))
        _wait(app, lambda: shared.main is not None and shared.main.state is not None)
        _wait(app, lambda: shared.sync.status.role == "kiosk")
        window = shared.main
        window.resize(*SIZE)
        page = window.pages["residents"]
        enrolled: list[object] = []
        shared.sync.enrol_resident(resident_code, PIN, enrolled.append, enrolled.append)
        _wait(app, lambda: bool(enrolled))
        page.load(select=marie.id)
        _wait(app, lambda: page.resident.count() == 1 and not shared.ops.busy)
        window.go_to("residents")
        page.pin.setText(PIN)
        page.pin.setFocus()
        _settle(app, 0.6)
        return _save(window, path)
    finally:
        if shared.main is not None:
            shared._discard(shared.main)
        if shared.start_window is not None:
            shared.start_window.close()
        shared.shutdown()


def seed_accounts(session, year: int) -> None:  # type: ignore[no-untyped-def]
    """A plausible year of the demo building's accounts (on the worker):
    budgets, quarterly calls for both funds, supplier invoices by key, and
    owners' payments — most on time, a few late."""
    from datetime import date, timedelta

    from node.domain.accounting.calls import BudgetKind, Fund, Schedule
    from node.services.ledger import InvoiceLine

    ledger = session.ledger
    registry = session.registry.read()
    lift = next((k.id for k in registry.keys if "Lift" in k.name), "general")
    ledger.set_budget(
        year,
        BudgetKind.ORDINARY,
        {"611": 1_450_000, "612": 980_000, "613": 420_000, "614": 610_000, "616": 180_000,
         "650": 12_000},
    )  # fmt: skip
    ledger.set_budget(year, BudgetKind.EXTRAORDINARY, {"611": 2_400_000})
    ledger.generate_calls(year, Fund.WORKING, Schedule.QUARTERLY)
    ledger.generate_calls(year, Fund.RESERVE, Schedule.QUARTERLY, amount=480_000)
    invoices = (
        ("Kone Belgium", "KB-2031", (1, 14), [InvoiceLine("611", 312_450, lift, "Lift")]),
        ("Engie", "E-88127", (2, 3), [InvoiceLine("612", 243_180)]),
        ("AXA Belgium", "P-5512", (2, 20), [InvoiceLine("614", 608_900)]),
        ("Vanhoutte Toitures", "F-1190", (3, 11), [InvoiceLine("611", 187_600)]),
        ("Engie", "E-90410", (5, 4), [InvoiceLine("612", 251_940)]),
        ("Kone Belgium", "KB-2207", (6, 16), [InvoiceLine("611", 298_770, lift, "Lift")]),
        ("Bureau Dewinter", "H-2026-2", (7, 1), [InvoiceLine("613", 210_000)]),
        ("Engie", "E-93302", (8, 5), [InvoiceLine("612", 236_015)]),
        ("Clean & Co", "CC-771", (9, 9), [InvoiceLine("616", 96_480)]),
        ("Engie", "E-96654", (11, 4), [InvoiceLine("612", 259_330)]),
    )
    today = date.today()
    for supplier, number, (month, day), lines in invoices:
        on = date(year, month, day)
        if on > today:
            continue
        change = ledger.add_invoice(supplier, number, on, on + timedelta(days=30), lines)
        if on + timedelta(days=25) <= today:
            ledger.pay_invoice(change.record_id, on + timedelta(days=25))
    for call_id, call in sorted(ledger.calls(year).items()):
        due = date.fromisoformat(call["due"])
        owed: dict[str, tuple[int, str]] = {}
        for share in call["shares"]:
            amount, _ref = owed.get(share["person"], (0, share["reference"]))
            owed[share["person"]] = (amount + share["amount"], share["reference"])
        for index, (person, (amount, reference)) in enumerate(sorted(owed.items())):
            late = call_id.endswith(("-03", "-04")) and index % 5 == 1
            paid_on = due + timedelta(days=8 + index % 12)
            if not late and paid_on <= today:
                fund = Fund(call["fund"])
                ledger.record_payment(person, amount, paid_on, reference, fund)


def _accounts(app, controller, outdir: Path) -> list[Path]:  # type: ignore[no-untyped-def]
    """The calls for funds page and the year-end page on a year of accounts."""
    from datetime import date

    main = controller.main
    year = date.today().year
    done: list[object] = []
    controller.ops.run(lambda s: seed_accounts(s, year), done.append, done.append)
    _wait(app, lambda: bool(done))
    if done[0] is not None:
        raise SystemExit(f"screenshots: the accounts could not be made: {done[0]}")
    main.go_to("accounts_calls")
    calls = main.pages["accounts_calls"]
    calls.refresh()
    _wait(app, lambda: calls.data is not None and bool(calls.data.rows) and not controller.ops.busy)
    calls.table.select_id(f"{year}-working-03")
    marie = next(p for p in main.state.registry.persons if p.name == "Marie Lambert")
    calls.owners.select_id(marie.id)
    _wait(app, lambda: calls.preview.notice is not None)
    calls.owners.setFocus()
    _settle(app, 0.5)
    written = [_save(main, outdir / "accounts-calls.png")]

    main.go_to("accounts_year_end")
    year_end = main.pages["accounts_year_end"]
    _wait(app, lambda: year_end.data is not None and not controller.ops.busy)
    year_end.tabs.setCurrentIndex(2)
    _settle(app, 0.5)
    written.append(_save(main, outdir / "accounts-year-end.png"))
    main.go_to("lots")
    return written


def seed_assembly(session) -> tuple[str, str]:  # type: ignore[no-untyped-def]
    """An ordinary assembly of the demo building in session (on the worker):
    convened in time, most owners present or represented, the first
    resolution voted; the second being voted. Its id and the second item's."""
    from datetime import date, datetime, time, timedelta

    from node.domain.assembly import Vote
    from node.domain.meeting import Mode

    assembly = session.assembly
    today = date.today()
    meeting = assembly.create(
        "ordinary",
        "Assemblée générale ordinaire",
        datetime.combine(today, time(18, 30)),
        "Salle polyvalente, rez-de-chaussée",
        period_start=today - timedelta(days=5),
    )
    items = [
        assembly.add_item(meeting, "Approbation des comptes", "budget_accounts"),
        assembly.add_item(meeting, "Ravalement de la façade avant", "common_works"),
        assembly.add_item(meeting, "Remplacement de l'ascenseur", "common_works"),
        assembly.add_item(meeting, "Nouvelle clé de répartition chauffage", "statutes"),
    ]
    assembly.convene(meeting, today - timedelta(days=20))
    names = {n: p for p, n in assembly.names(meeting).items()}
    owners = sorted(assembly.outcome(meeting).owners, key=lambda p: assembly.name(meeting, p))
    arrived = datetime.combine(today, time(18, 20))
    for index, person in enumerate(owners[:12]):
        assembly.attend(meeting, person, Mode.PRESENT, at=arrived + timedelta(minutes=index))
    proxy = next(p for p in owners[12:] if p != names.get("Marie Lambert"))
    assembly.attend(
        meeting, proxy, Mode.PROXY, names.get("Marie Lambert", "name:Zoé Martin"), arrived
    )
    assembly.open(meeting, datetime.combine(today, time(18, 35)), "Luc Janssens", "Julie Martin")
    assembly.vote_all(meeting, items[0], Vote.FOR, {owners[3]: Vote.ABSTAIN})
    assembly.close_item(meeting, items[0], datetime.combine(today, time(18, 50)))
    assembly.vote_all(meeting, items[1], Vote.FOR, {owners[1]: Vote.AGAINST})
    assembly.vote(meeting, items[1], owners[5], Vote.AGAINST)
    assembly.vote(meeting, items[1], owners[7], Vote.ABSTAIN)
    return meeting, items[1]


def _assembly(app, controller, path: Path) -> Path:  # type: ignore[no-untyped-def]
    """The session screen in the meeting room: attendance, the quorum, the
    second resolution being voted with its live tally."""
    main = controller.main
    done: list[object] = []
    controller.ops.run(seed_assembly, done.append, done.append)
    _wait(app, lambda: bool(done))
    if not isinstance(done[0], tuple):
        raise SystemExit(f"screenshots: the assembly could not be made: {done[0]}")
    meeting, item = done[0]
    _wait(app, lambda: main.assembly.access is not None)
    main.go_to("assembly_session")
    page = main.pages["assembly_session"]
    main.assembly.choose(meeting)
    _wait(
        app, lambda: page.data is not None and page.data.id == meeting and not controller.ops.busy
    )
    page.item_id = item
    page.show_data(page.data)
    page.votes.selectRow(2)
    page.votes.setFocus()
    _settle(app, 0.5)
    saved = _save(main, path)
    main.go_to("lots")
    return saved


def seed_governance(session):  # type: ignore[no-untyped-def]
    """The demo building's council (a president whose mandate ends soon, a
    member) and a syndic's mandate recorded with no end (on the worker);
    what it changed."""
    from datetime import date, timedelta

    from node.domain.governance import CouncilRole, add_years
    from node.services.registry import Change

    today = date.today()
    names = {p.name: p.id for p in session.registry.read().persons}
    governance = session.governance
    start = today - timedelta(days=320)
    governance.add_council_member(
        names["Marie Lambert"], start, CouncilRole.PRESIDENT, today + timedelta(days=45)
    )
    governance.add_council_member(names["Julie Martin"], start)
    governance.set_syndic_mandate(add_years(today, -3) + timedelta(days=70), None)
    return Change.of("council", "association")


def _governance(app, controller, outdir: Path) -> list[Path]:  # type: ignore[no-untyped-def]
    """The council page and the syndic's tasks, overdue and soon ones."""
    main = controller.main
    done: list[object] = []
    controller.ops.change(seed_governance, done.append, done.append)
    _wait(app, lambda: bool(done))
    main.go_to("governance_council")
    council = main.pages["governance_council"]
    _wait(app, lambda: len(council.table.rows()) == 2 and not controller.ops.busy)
    council.table.selectRow(0)
    council.table.setFocus()
    _settle(app, 0.5)
    written = [_save(main, outdir / "council.png")]
    main.go_to("governance_tasks")
    tasks = main.pages["governance_tasks"]
    _wait(app, lambda: len(tasks.table.rows()) > 1 and not controller.ops.busy)
    tasks.table.setFocus()
    _settle(app, 0.5)
    written.append(_save(main, outdir / "syndic-tasks.png"))
    main.go_to("lots")
    return written


def seed_energy(session) -> tuple[str, str]:  # type: ignore[no-untyped-def]
    """A campaign of the demo building collecting data (on the worker): the
    assembly's mandate adopted, Luc Janssens (named as this device's owner
    for the pictures) opted in and his bill verified, offers for both
    energies kept as the pool would give them. The campaign's id and Luc's
    id."""
    import hashlib
    import json
    from datetime import date, datetime, time, timedelta

    from node.documents import energy_doc
    from node.services.energy import reading
    from shared.energy import Offer
    from shared.ids import new_ulid

    energy, assembly = session.energy, session.assembly
    today = date.today()
    campaign = energy.create("Achat groupé hiver", ["electricity", "gas"], today + timedelta(60))
    starts = datetime.combine(today - timedelta(days=2), time(18, 30))
    held = starts.astimezone()
    meeting = assembly.create("ordinary", "AG extraordinaire énergie", starts, "Salle polyvalente")
    item = assembly.add_item(meeting, "Mandat pour un achat groupé d'énergie", "ordinary")
    assembly.convene(meeting, held.date() - timedelta(days=20))
    for person in sorted(assembly.outcome(meeting).owners)[:11]:
        assembly.attend(meeting, person, at=held)
    assembly.open(meeting, held + timedelta(minutes=5), "Luc Janssens", "Julie Martin")
    assembly.vote_all(meeting, item, "for")
    assembly.close(meeting, held + timedelta(hours=1))
    energy.submit_to_assembly(campaign, meeting, item)
    energy.start_collecting(campaign)
    luc = next(p.id for p in session.registry.read().persons if p.name == "Luc Janssens")
    session.profile.store.set_meta({"person": luc})
    lot = next(lot for lot, f in energy.units(campaign).items() if luc in f["persons"])
    bill = hashlib.sha256(b"Luc's bill").hexdigest()
    given = reading(
        "both", {"electricity": 3120, "gas": 11850}, today - timedelta(400 - 35),
        today - timedelta(35), "1180", bill_sha256=bill,
    )  # fmt: skip
    energy.verify(campaign, energy.opt_in(campaign, lot, given), sha256=bill)
    valid = (today + timedelta(days=45)).isoformat()
    with session.document(f"energy/{campaign}").edit() as doc:
        for offer in (
            Offer(new_ulid(), "electricity:1", "Lampiris", 27_350, 450, 100, 24, 12, valid),
            Offer(new_ulid(), "electricity:1", "Engie", 26_990, 600, 50, 12, 9, valid),
            Offer(new_ulid(), "electricity:1", "TotalEnergies", 28_125, 395, 20, 36, 6, valid),
            Offer(new_ulid(), "gas:1", "Octa+", 8_410, 500, 0, 12, 8, valid),
        ):
            energy_doc.put_record(doc, "offers", offer.id, {"offer": json.dumps(offer.to_json())})
    return campaign, luc


def _energy(app, controller, outdir: Path) -> list[Path]:  # type: ignore[no-untyped-def]
    """The campaign page (participation, then the offers) and the page where
    an owner takes part; the device is no owner's again afterwards."""
    main = controller.main
    done: list[object] = []
    controller.ops.run(seed_energy, done.append, done.append)
    _wait(app, lambda: bool(done))
    if not isinstance(done[0], tuple):
        raise SystemExit(f"screenshots: the campaign could not be made: {done[0]}")
    campaign, _luc = done[0]
    context = main.energy
    _wait(app, lambda: context.access is not None)
    context.campaign = campaign
    context.load()
    _wait(app, lambda: context.data is not None and not controller.ops.busy)
    main.go_to("energy_campaign")
    page = main.pages["energy_campaign"]
    _wait(app, lambda: page.data is not None and not controller.ops.busy)
    page.tabs.setCurrentIndex(0)
    page.participation.selectRow(0)
    page.participation.setFocus()
    _settle(app, 0.5)
    written = [_save(main, outdir / "energy-campaign.png")]
    page.tabs.setCurrentIndex(2)
    page.offers.selectRow(0)
    page.offers.setFocus()
    _settle(app, 0.5)
    written.append(_save(main, outdir / "energy-offers.png"))
    main.go_to("energy_optin")
    optin = main.pages["energy_optin"]
    _wait(app, lambda: len(optin.mine.rows()) == 1 and not controller.ops.busy)
    optin.postal_code.setText("1180")
    optin.consent.setFocus()
    _settle(app, 0.5)
    written.append(_save(main, outdir / "energy-optin.png"))
    done.clear()
    controller.ops.run(lambda s: s.profile.store.set_meta({"person": ""}), done.append)
    _wait(app, lambda: bool(done))
    context.load()
    main.go_to("lots")
    return written


def _save(widget, path: Path) -> Path:  # type: ignore[no-untyped-def]
    if not widget.grab().save(str(path)):
        raise SystemExit(f"screenshots: could not write {path}")
    return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m desktop.screenshots")
    parser.add_argument("outdir", type=Path, help="folder for the PNG files")
    parser.add_argument("--language", default="en", choices=("fr", "nl", "de", "en"))
    args = parser.parse_args(argv)
    args.outdir.mkdir(parents=True, exist_ok=True)
    # A throwaway profile: never the user's keyring, a random passphrase
    # given as the app gives it, and a cheap key derivation.
    os.environ["KOPROGO_KEY_STORAGE"] = "passphrase-file"
    os.environ.pop("KOPROGO_PASSPHRASE", None)
    os.environ["KOPROGO_ARGON2"] = "interactive"
    for path in take(args.outdir, args.language):
        print(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
