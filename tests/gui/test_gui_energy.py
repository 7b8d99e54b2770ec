"""Issue 6, point 8: the group energy purchase in the desktop app.

On the demo building, the syndic creates a campaign through its dialog and
sees where it stands and the next step; moving on too early is refused in
the node's words (no mandate adopted, fewer than 5 verified participants),
and below 5 the figures say why nothing is shown. The syndic, also an owner
here, opts in from the same laptop — the consent box is required, the bill's
PDF gives only its fingerprint —, sees their data, the syndic checks the
bill, the owner withdraws and erases. Against a real relay: owners take
part on the building's shared computer behind their PIN (a wrong one does
nothing), five verified participants make the figures appear, they go to
the relay's purchase pool, a broker answers with offers that the syndic
fetches and compares side by side (green score, the building's savings),
the final vote's choice is recorded and marked, the summary PDF saved, the
campaign completed. Assertions read the widgets and the node, never pixels
or timings.
"""

from __future__ import annotations

import hashlib
from datetime import date, datetime, time, timedelta
from pathlib import Path

import pytest
from gui_helpers import WAIT_MS, connected_demo, join_with_code, on_worker, open_demo, wait_idle

from desktop.controller import AppController
from desktop.pages.energy.base import EnergyPage
from desktop.qt import QDate
from node.i18n import format_day
from shared.protocol import Role
from tests.relay import fixtures

pytestmark = pytest.mark.gui

relay_process = fixtures.relay_process

STARTS = datetime.combine(date.today() + timedelta(days=40), time(18, 30))
DEADLINE = date.today() + timedelta(days=300)
PERIOD = (date(2025, 1, 1), date(2025, 12, 31))


def show(qtbot, controller: AppController, name: str) -> EnergyPage:  # type: ignore[no-untyped-def]
    """Go to an energy page and wait until the campaigns were read."""
    main = controller.main
    qtbot.waitUntil(lambda: main.energy.access is not None, timeout=WAIT_MS)
    main.go_to(name)
    assert main.current_page() == name
    wait_idle(qtbot, controller)
    return main.pages[name]


def reload(qtbot, controller: AppController) -> None:  # type: ignore[no-untyped-def]
    """Read the campaigns again after a change made behind the screens' back."""
    controller.main.energy.load()
    wait_idle(qtbot, controller)


def column(table, header: str) -> list[str]:  # type: ignore[no-untyped-def]
    index = next(i for i, c in enumerate(table.source.columns) if c.header == header)
    return [table.cell_text(row, index) for row in range(table.proxy.rowCount())]


def nav_entries(window) -> dict[str, bool]:  # type: ignore[no-untyped-def]
    return {
        window.nav.item(r).text(): not window.nav.item(r).isHidden()
        for r in range(window.nav.count())
    }


def held_meeting(session, title: str, item_title: str) -> tuple[str, str]:  # type: ignore[no-untyped-def]
    """An assembly that adopted one ordinary resolution (on the worker)."""
    meeting, item = convened_meeting(session, title, item_title)
    hold(session, meeting, item)
    return meeting, item


def convened_meeting(  # type: ignore[no-untyped-def]
    session, title: str = "AG 2027", item_title: str = "Achat groupé d'énergie"
) -> tuple[str, str]:
    """An assembly with one ordinary resolution on its agenda, not held yet."""
    assembly = session.assembly
    meeting = assembly.create("ordinary", title, STARTS, "Salle commune")
    item = assembly.add_item(meeting, item_title, "ordinary")
    assembly.convene(meeting, STARTS.date() - timedelta(days=20))
    return meeting, item


def hold(session, meeting: str, item: str) -> None:  # type: ignore[no-untyped-def]
    assembly = session.assembly
    held = STARTS.astimezone()
    for person in sorted(assembly.outcome(meeting).owners)[:11]:
        assembly.attend(meeting, person, at=held - timedelta(minutes=10))
    assembly.open(meeting, held, chair="Klaus Becker", secretary="Julie Martin")
    assembly.vote_all(meeting, item, "for")
    assembly.close(meeting, held + timedelta(hours=2))


def test_a_campaign_from_draft_and_an_owner_taking_part(  # type: ignore[no-untyped-def]
    qtbot, start_app, tmp_path: Path
) -> None:
    controller = start_app()
    main = open_demo(qtbot, controller)
    persons = {p.name: p.id for p in main.state.registry.persons}
    luc = persons["Luc Janssens"]
    # the syndic of this building is one of its owners, Luc Janssens
    on_worker(qtbot, controller, lambda s: s.profile.store.set_meta({"person": luc}))
    campaigns = show(qtbot, controller, "energy_campaigns")
    assert campaigns.empty.isVisible() and not campaigns.open_button.isEnabled()
    assert nav_entries(main)["Take part"]  # this device belongs to an owner too

    # a new campaign through its dialog; the node refuses a nameless one
    campaigns.new_button.click()
    dialog = campaigns.dialog
    dialog.save_button.click()
    qtbot.waitUntil(lambda: dialog.error.isVisible(), timeout=WAIT_MS)
    assert dialog.error.text() == "The campaign needs a name."
    dialog.name.setText("Hiver 2027")
    dialog.energies["gas"].setChecked(False)
    dialog.deadline.setDate(QDate(DEADLINE))
    dialog.months.setValue(24)
    dialog.contract.setCurrentIndex(dialog.contract.findData("variable"))
    dialog.save_button.click()
    qtbot.waitUntil(lambda: campaigns.dialog is None, timeout=WAIT_MS)
    assert column(campaigns.table, "Campaign") == ["Hiver 2027"]
    assert column(campaigns.table, "Status") == ["Draft"]
    assert column(campaigns.table, "Contract") == ["24 months, variable price"]
    campaign = campaigns.table.current_id()
    info = on_worker(qtbot, controller, lambda s: s.energy.info(campaign))
    assert (info.energy_types, info.deadline, info.contract_type) == (
        ("electricity",),
        DEADLINE,
        "variable",
    )
    assert campaigns.step.text().startswith("Hiver 2027: Put the group purchase")

    # the campaign's page: its state, the next step, only that step's button
    campaigns.open_button.click()
    assert main.current_page() == "energy_campaign"
    page = main.pages["energy_campaign"]
    assert page.heading.text() == "Hiver 2027 — Draft"
    assert page.step_text.text().startswith("Next step: Put the group purchase on an assembly")
    assert page.steps["mandate"].isEnabled() and page.steps["mandate"].objectName() == "primary"
    assert not page.steps["collect"].isEnabled()
    assert page.steps["collect"].toolTip() == "Not at this stage of the campaign."
    assert not page.publish_button.isEnabled()

    # the mandate: an item of the coming assembly, chosen in the dialog
    meeting, item = on_worker(qtbot, controller, convened_meeting)
    page.steps["mandate"].click()
    qtbot.waitUntil(lambda: page.dialog is not None, timeout=WAIT_MS)
    link = page.dialog
    link.choose(meeting, item)
    assert link.item.currentText() == "1. Achat groupé d'énergie"
    link.save_button.click()
    qtbot.waitUntil(lambda: page.dialog is None, timeout=WAIT_MS)
    assert page.heading.text() == "Hiver 2027 — Awaiting the assembly's vote"
    assert (
        f"Mandate: AG 2027 ({STARTS:%d/%m/%Y}), item 1: Achat groupé d'énergie — not decided"
        in page.facts.text()
    )
    assert page.step_problem.isVisible()
    assert page.step_problem.text().startswith("Not yet: Collecting data needs the assembly's")

    # moving on too early: the node refuses, in its words, and nothing changes
    page.steps["collect"].click()
    qtbot.waitUntil(lambda: page.error.isVisible(), timeout=WAIT_MS)
    assert page.error.text() == (
        "Collecting data needs the assembly's mandate: a resolution adopted by absolute "
        "majority, linked to the campaign."
    )
    assert on_worker(qtbot, controller, lambda s: s.energy.info(campaign)).status.value == (
        "awaiting_ag_vote"
    )

    on_worker(qtbot, controller, lambda s: hold(s, meeting, item))
    reload(qtbot, controller)
    assert not page.step_problem.isVisible() and "— adopted" in page.facts.text()
    page.steps["collect"].click()
    qtbot.waitUntil(
        lambda: page.heading.text() == "Hiver 2027 — Collecting consumption data", timeout=WAIT_MS
    )
    assert not page.error.isVisible()

    # below 5 verified participants: the count and why, never an amount
    page.tabs.setCurrentIndex(1)
    assert column(page.figures, "Verified participants") == ["0"]
    assert column(page.figures, "Total a year") == ["—"]
    assert column(page.figures, "Median") == ["—"]
    headers = [c.header for c in page.figures.source.columns]
    assert not any("Min" in h or "Max" in h for h in headers)
    assert page.figures_why.isVisible()
    assert page.figures_why.text() == (
        "Electricity: Fewer than 5 verified participants: nothing is shown, so that no "
        "one's consumption can be guessed."
    )
    assert page.steps["negotiate"].objectName() != "primary"  # not offered as the next step
    page.steps["negotiate"].click()
    qtbot.waitUntil(lambda: page.error.isVisible(), timeout=WAIT_MS)
    assert page.error.text() == (
        "Negotiation needs at least 5 verified participants: below that nothing may leave "
        "the building."
    )

    owner_takes_part(qtbot, controller, campaign, luc, tmp_path)

    # cancelling asks first
    campaign_page = show(qtbot, controller, "energy_campaign")
    campaign_page.cancel_button.click()
    box = campaign_page.confirm
    assert "never starts again" in box.informativeText()
    next(b for b in box.buttons() if b.text() == "Cancel the campaign").click()
    qtbot.waitUntil(lambda: "Cancelled" in campaign_page.heading.text(), timeout=WAIT_MS)
    over = "The campaign is over: it does not change any more."
    assert not campaign_page.cancel_button.isEnabled()
    assert campaign_page.cancel_button.toolTip() == over
    purge = format_day(date.today() + timedelta(days=90))
    assert f"Per-unit data is deleted on {purge}." in campaign_page.step_text.text()


def owner_takes_part(qtbot, controller, campaign: str, luc: str, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """Luc opts in for his unit from the syndic's laptop, the syndic checks
    the bill, Luc withdraws, then erases."""
    bill = tmp_path / "facture.pdf"
    bill.write_bytes(b"%PDF-1.4 Luc's electricity bill")
    optin = show(qtbot, controller, "energy_optin")
    assert not optin.who.form.isVisible()  # his own device: no PIN
    units = on_worker(qtbot, controller, lambda s: s.energy.units(campaign))
    own = sorted(f["number"] for f in units.values() if luc in f["persons"])
    assert [optin.unit.itemText(i) for i in range(optin.unit.count())] == own
    assert [optin.energy_type.itemData(i) for i in range(optin.energy_type.count())] == [
        "electricity"
    ]  # the campaign buys electricity only
    assert not optin.kwh["gas"].isVisibleTo(optin)
    optin.kwh["electricity"].setValue(2650)
    optin.period_start.setDate(QDate(PERIOD[0]))
    optin.period_end.setDate(QDate(PERIOD[1]))
    optin.postal_code.setText("1180")
    optin.ask_bill()
    optin.file_dialog.selectFile(str(bill))
    optin.file_dialog.accept()
    qtbot.waitUntil(lambda: optin.bill == bill, timeout=WAIT_MS)
    assert optin.bill_name.text() == "facture.pdf"

    # the consent is required: no opt-in without the box ticked
    assert "90 days after the campaign ends" in optin.consent_text.text()
    assert not optin.optin_button.isEnabled()
    assert optin.optin_button.toolTip() == (
        "Tick the consent box first: taking part needs your explicit consent."
    )
    optin.consent.setChecked(True)
    assert optin.optin_button.isEnabled()
    optin.optin_button.click()
    qtbot.waitUntil(lambda: len(optin.mine.rows()) == 1, timeout=WAIT_MS)
    assert not optin.error.isVisible() and not optin.consent.isChecked()
    assert column(optin.mine, "Consumption") == ["Electricity 2,650 kWh"]
    assert column(optin.mine, "Status") == ["Waiting for the syndic to check your bill"]
    assert column(optin.mine, "Bill period") == ["01/01/2025 – 31/12/2025"]
    record = optin.mine.rows()[0].mine.record
    assert record.bill_sha256 == hashlib.sha256(bill.read_bytes()).hexdigest()
    assert record.consent_valid

    # the syndic checks the bill Luc shows: a wrong one is refused
    page = show(qtbot, controller, "energy_campaign")
    page.tabs.setCurrentIndex(0)
    assert page.participation_summary.text() == (
        "Units that may take part: 20 · opted in: 1 · verified and counted: 0"
    )
    assert not page.verify_button.isEnabled()
    page.participation.select_id(record.id)
    assert column(page.participation, "Bill")[0] == "Not yet"
    page.verify_button.click()
    verify = page.dialog
    verify.sha256.setText(hashlib.sha256(b"another bill").hexdigest())
    verify.save_button.click()
    qtbot.waitUntil(lambda: verify.error.isVisible(), timeout=WAIT_MS)
    assert verify.error.text() == (
        "This bill is not the one given with the opt-in (its SHA-256 differs)."
    )
    verify.choose_bill(bill)
    assert verify.sha256.text() == ""
    verify.save_button.click()
    qtbot.waitUntil(lambda: page.dialog is None, timeout=WAIT_MS)
    assert column(page.participation, "Bill")[0] == "Verified"
    assert column(page.participation, "Counts")[0] == "Yes"
    assert column(page.figures, "Verified participants") == ["1"]
    assert column(page.figures, "Average") == ["—"]

    # Luc withdraws his consent: it no longer counts
    optin = show(qtbot, controller, "energy_optin")
    qtbot.waitUntil(
        lambda: column(optin.mine, "Status") == ["Verified: counts in the building's figures"],
        timeout=WAIT_MS,
    )
    optin.mine.selectRow(0)
    optin.withdraw_button.click()
    qtbot.waitUntil(
        lambda: column(optin.mine, "Status")[0].startswith("Consent withdrawn on"),
        timeout=WAIT_MS,
    )
    optin.mine.selectRow(0)
    assert not optin.withdraw_button.isEnabled()
    assert optin.withdraw_button.toolTip() == "This consent was already withdrawn."

    # ... then erases everything he gave, after a confirmation
    optin.erase_button.click()
    box = optin.confirm
    assert "from the relay" in box.informativeText()
    next(b for b in box.buttons() if b.text() == "Erase").click()
    qtbot.waitUntil(lambda: optin.erased.isVisible(), timeout=WAIT_MS)
    wait_idle(qtbot, controller)
    assert optin.mine.rows() == [] and optin.mine_note.text() == "You have not opted in."
    assert optin.erased.text() == (
        "Your data in this campaign is erased from this computer. This building has no relay, "
        "so it was never anywhere else."
    )
    assert on_worker(qtbot, controller, lambda s: s.energy.mine(campaign)) == []

    page = show(qtbot, controller, "energy_campaign")
    page.tabs.setCurrentIndex(3)
    events = set(column(page.audit, "Event"))
    assert {
        "Campaign created",
        "Bill given (its fingerprint)",
        "Consent given",
        "Bill verified",
        "Consumption read by the syndic's device",
    } <= events
    assert "Luc Janssens" in column(page.audit, "Person")
    assert column(page.figures, "Verified participants") == ["0"]


# -- the building's shared computer and the offers, against a real relay ----------------------

KIOSK = {  # name -> (PIN, kWh over the bill's period)
    "Klaus Becker": ("271828", 3187),
    "Luc Janssens": ("271829", 4421),
    "Sophie Dubois": ("271830", 2093),
    "Ahmed Benali": ("271831", 5309),
    "Julie Martin": ("271832", 1877),
}


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


def collecting_campaign(session) -> str:  # type: ignore[no-untyped-def]
    """A campaign for electricity, its mandate adopted, collecting (on the worker)."""
    campaign = session.energy.create("Hiver 2027", ["electricity"], DEADLINE)
    meeting, item = held_meeting(session, "AG 2027", "Achat groupé d'énergie")
    session.energy.submit_to_assembly(campaign, meeting, item)
    session.energy.start_collecting(campaign)
    return campaign


VALID = (date.today() + timedelta(days=60)).isoformat()


def relay_cli(capsys, *args: str) -> str:  # type: ignore[no-untyped-def]
    """``koprogo-relay ...`` as its operator or a broker would run it."""
    from sync_server.cli import main as relay_main

    capsys.readouterr()
    code = relay_main(list(args))
    out, err = capsys.readouterr()
    assert code == 0, f"{args}: exit {code}: {err}"
    return out


def broker_offers(capsys, relay, key: Path) -> None:  # type: ignore[no-untyped-def]
    """A broker registered at the relay posts three offers to the pool."""
    public = relay_cli(capsys, "broker", "keygen", "--out", str(key)).strip()
    relay_cli(capsys, "broker", "add", f"Courtier {key.parent.name}", "--key", public,
              "--data-dir", str(relay.data_dir))  # fmt: skip
    for provider, price, fee, green, months, savings in (
        ("Lampiris", "0.2735", "4.50", "100", "24", "12"),
        ("Engie", "0.2699", "6.00", "50", "12", "9"),
        ("TotalEnergies", "0.28125", "3.95", "20", "36", "6"),
    ):
        relay_cli(capsys, "broker", "offer", "--relay", relay.url, "--key", str(key),
                  "--pool", "electricity:1", "--provider", provider, "--price-kwh", price,
                  "--monthly-fee", fee, "--green", green, "--months", months,
                  "--savings", savings, "--valid-until", VALID)  # fmt: skip


def test_owners_on_the_shared_computer_and_the_offers(  # type: ignore[no-untyped-def]
    qtbot, start_app, relay_process, tmp_path: Path, capsys
) -> None:
    syndic = start_app()
    main = connected_demo(qtbot, syndic, relay_process.url)
    persons = {p.name: p.id for p in main.state.registry.persons}
    campaign = on_worker(qtbot, syndic, collecting_campaign)
    push(qtbot, syndic)

    shared = start_app(tmp_path / "shared-computer")
    kiosk = join_with_code(qtbot, shared, relay_process.url, invite(qtbot, syndic, Role.KIOSK))
    for name, (pin, _kwh) in KIOSK.items():
        enrolled: list = []
        code = invite(qtbot, syndic, Role.OWNER, persons[name], kiosk=True)
        shared.sync.enrol_resident(code, pin, enrolled.append, pytest.fail)
        qtbot.waitUntil(lambda enrolled=enrolled: bool(enrolled), timeout=WAIT_MS)
    push(qtbot, shared)
    qtbot.waitUntil(lambda: kiosk.energy.access is not None, timeout=WAIT_MS)
    reload(qtbot, shared)
    entries = nav_entries(kiosk)
    assert entries["Take part"] and entries["Campaigns"] and entries["Campaign"]

    # Klaus at the shared computer: a wrong PIN does nothing, his own opts in
    page = show(qtbot, shared, "energy_optin")
    qtbot.waitUntil(lambda: page.who.resident.count() == 5, timeout=WAIT_MS)
    qtbot.waitUntil(lambda: page.data is not None and page.data.id == campaign, timeout=WAIT_MS)
    assert page.who.form.isVisible() and page.show_mine_button.isVisible()
    page.who.resident.setCurrentIndex(page.who.resident.findText("Klaus Becker"))
    assert [page.unit.itemText(i) for i in range(page.unit.count())] == ["A3.1", "A7.1"]
    bill = tmp_path / "klaus.pdf"
    bill.write_bytes(b"%PDF-1.4 Klaus")
    page.kwh["electricity"].setValue(KIOSK["Klaus Becker"][1])
    page.period_start.setDate(QDate(PERIOD[0]))
    page.period_end.setDate(QDate(PERIOD[1]))
    page.postal_code.setText("1180")
    page.choose_bill(bill)
    page.consent.setChecked(True)
    page.who.pin.setText("000000")
    page.optin_button.click()
    qtbot.waitUntil(lambda: page.error.isVisible(), timeout=WAIT_MS)
    assert page.error.text().startswith("The PIN is not correct.")
    assert page.who.pin.text() == "" and page.mine.rows() == []
    page.who.pin.setText(KIOSK["Klaus Becker"][0])
    page.optin_button.click()
    qtbot.waitUntil(lambda: len(page.mine.rows()) == 1, timeout=WAIT_MS)
    assert column(page.mine, "Consumption") == ["Electricity 3,187 kWh"]
    kiosk.go_to("energy_campaigns")  # leaving: the next person finds nothing of Klaus
    assert page.mine.rows() == [] and page.who.pin.text() == "" and page.bill is None

    # four more owners opt in there (through the node, with their PINs)
    def four_more(session) -> None:  # type: ignore[no-untyped-def]
        from node.services.energy import reading

        for name, (pin, kwh) in list(KIOSK.items())[1:]:
            units = session.energy.units(campaign)
            lot = next(lot for lot, f in units.items() if persons[name] in f["persons"])
            given = reading(
                "electricity", {"electricity": kwh}, *PERIOD, "1180",
                bill_sha256=hashlib.sha256(name.encode()).hexdigest(),
            )  # fmt: skip
            session.energy.opt_in(campaign, lot, given, persons[name], pin)

    on_worker(qtbot, shared, four_more)
    push(qtbot, shared)

    # Luc reads his data back at the shared computer with his PIN
    page = show(qtbot, shared, "energy_optin")
    page.who.resident.setCurrentIndex(page.who.resident.findText("Luc Janssens"))
    page.who.pin.setText(KIOSK["Luc Janssens"][0])
    page.show_mine_button.click()
    qtbot.waitUntil(lambda: len(page.mine.rows()) == 1, timeout=WAIT_MS)
    assert column(page.mine, "Consumption") == ["Electricity 4,421 kWh"]
    kiosk.go_to("energy_campaigns")

    # the syndic verifies the five bills; the figures appear
    push(qtbot, syndic)
    records = on_worker(qtbot, syndic, lambda s: s.energy.optins(campaign))
    assert len(records) == 5 and all(r.consent_valid for r in records)
    klaus = next(r for r in records if r.person == persons["Klaus Becker"])
    on_worker(
        qtbot,
        syndic,
        lambda s: [s.energy.verify(campaign, r.id, sha256=r.bill_sha256) for r in records[:5]],
    )
    campaign_page = show(qtbot, syndic, "energy_campaign")
    reload(qtbot, syndic)
    assert column(campaign_page.figures, "Verified participants") == ["5"]
    assert column(campaign_page.figures, "Total a year") != ["—"]
    assert not campaign_page.figures_why.isVisible()
    assert campaign_page.participation.select_id(klaus.id)
    assert column(campaign_page.participation, "Owner")[0] != ""
    campaign_page.steps["negotiate"].click()
    qtbot.waitUntil(lambda: "Negotiating" in campaign_page.heading.text(), timeout=WAIT_MS)
    assert campaign_page.publish_button.isEnabled() and campaign_page.fetch_button.isEnabled()
    assert campaign_page.step_problem.text() == (
        "Not yet: There is no offer to vote on yet: fetch the pool's offers."
    )

    # the anonymous figures go to the relay's purchase pool; a broker answers with offers
    main.statusBar().clearMessage()
    campaign_page.publish_button.click()
    wait_idle(qtbot, syndic)
    assert not campaign_page.error.isVisible()
    assert main.statusBar().currentMessage() == "Sent to the purchase pool: Electricity."
    assert column(campaign_page.figures, "In the pool")[0].startswith("since ")
    broker_offers(capsys, relay_process, tmp_path / "broker.key")
    campaign_page.fetch_button.click()
    wait_idle(qtbot, syndic)
    assert main.statusBar().currentMessage() == "3 offers in the pool."
    assert campaign_page.tabs.currentIndex() == 2

    # the offers side by side: price, fee, green share and score, the building's savings
    table = campaign_page.offers
    assert column(table, "Provider") == ["Engie", "Lampiris", "TotalEnergies"]
    assert column(table, "Price per kWh") == ["0.2699 €", "0.2735 €", "0.28125 €"]
    assert column(table, "Monthly fee") == ["€6.00", "€4.50", "€3.95"]
    assert column(table, "Green share") == ["50 %", "100 %", "20 %"]
    assert column(table, "Green score") == ["5/10", "10/10", "0/10"]
    assert column(table, "Contract") == ["12 months", "24 months", "36 months"]
    assert column(table, "Savings") == ["9 %", "12 %", "6 %"]
    assert column(table, "Valid until") == [format_day(date.fromisoformat(VALID))] * 3
    views = on_worker(qtbot, syndic, lambda s: s.energy.offers(campaign))
    savings = {v.offer.provider: v.yearly_savings_cents for v in views}
    assert all(savings.values())
    from desktop.labels import fmt_eur

    assert column(table, "Building, a year") == [
        fmt_eur(savings[p]) for p in ("Engie", "Lampiris", "TotalEnergies")
    ]
    assert [r.chosen for r in table.rows()] == [False, False, False]

    # the final vote adopts Lampiris's offer; the syndic records it
    lampiris = next(v.offer for v in views if v.offer.provider == "Lampiris")
    final = on_worker(
        qtbot, syndic, lambda s: held_meeting(s, "AG extraordinaire", "Offre Lampiris")
    )
    campaign_page.steps["final_vote"].click()
    qtbot.waitUntil(lambda: campaign_page.dialog is not None, timeout=WAIT_MS)
    link = campaign_page.dialog
    assert "Lampiris (" in link.note.text()  # how a poll would name the offer
    link.choose(*final)
    link.save_button.click()
    qtbot.waitUntil(lambda: campaign_page.dialog is None, timeout=WAIT_MS)
    assert "Awaiting the final vote" in campaign_page.heading.text()
    table.select_id(lampiris.id)
    campaign_page.steps["finalize"].click()
    chosen = campaign_page.dialog
    assert chosen.value() == lampiris.id
    chosen.save_button.click()
    qtbot.waitUntil(lambda: campaign_page.dialog is None, timeout=WAIT_MS)
    assert campaign_page.heading.text() == "Hiver 2027 — Finalized"
    assert "Chosen offer: Lampiris" in campaign_page.facts.text()
    assert column(table, "Provider") == ["Engie", "Lampiris ✓ chosen", "TotalEnergies"]

    # the summary for the assembly, as a PDF
    campaign_page.summary_button.click()
    saver = campaign_page.pdfs
    saver.file_dialog.selectFile(str(tmp_path / "summary.pdf"))
    saver.file_dialog.accept()
    qtbot.waitUntil(lambda: saver.last_saved == tmp_path / "summary.pdf", timeout=WAIT_MS)
    from pypdf import PdfReader

    text = "".join(p.extract_text() for p in PdfReader(saver.last_saved).pages)
    assert "Lampiris" in text and "Engie" in text and "Hiver 2027" in text

    # the owners' devices see the figures and the offers, and change nothing
    push(qtbot, syndic)
    push(qtbot, shared)
    view = show(qtbot, shared, "energy_campaign")
    qtbot.waitUntil(
        lambda: view.data is not None and view.data.info.chosen_offer == lampiris.id,
        timeout=WAIT_MS,
    )
    assert column(view.figures, "Verified participants") == ["5"]
    assert not view.tabs.isTabVisible(0) and not view.tabs.isTabVisible(3)  # who takes part
    assert not view.steps["complete"].isEnabled()
    assert view.steps["complete"].toolTip() == (
        "Only the syndic's device runs the campaigns; this one follows them."
    )
    assert not view.summary_button.isEnabled()

    # the contracts are signed: the syndic completes the campaign, after a confirmation
    campaign_page.steps["complete"].click()
    box = campaign_page.confirm
    next(b for b in box.buttons() if b.text() == "Complete").click()
    qtbot.waitUntil(lambda: "Completed" in campaign_page.heading.text(), timeout=WAIT_MS)
    purge = format_day(date.today() + timedelta(days=90))
    assert f"Per-unit data is deleted on {purge}." in campaign_page.step_text.text()
