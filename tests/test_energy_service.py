"""The energy service on one profile (issue 6): every bad input ends in a
clear message and changes nothing; a tampered opt-in never counts; the
final vote by a poll picks the offer; the state machine's checks."""

from __future__ import annotations

import io
import json
import time
from datetime import UTC, date, datetime, timedelta

import pytest
from pypdf import PdfReader

from node.documents import energy_doc as edoc
from node.domain.energy import EnergyType, Status
from node.errors import InputError, KoprogoError, NotFoundError
from node.services.energy import reading
from shared.energy import Offer
from tests.relay import fixtures
from tests.test_assembly_service import CLOSE, OPEN, STARTS, building, ordinary

SHA = "cd" * 32
relay_factory = fixtures.relay_factory  # a real relay process


@pytest.fixture
def acp(tmp_path):
    session, people = building(tmp_path / "syndic")
    yield session, people
    session.close()


def campaign_collecting(session, people):  # type: ignore[no-untyped-def]
    """A campaign whose mandate was adopted in a closed meeting."""
    campaign = session.energy.create("Hiver", ["electricity"], date(2099, 1, 31))
    meeting = ordinary(session)
    item = session.assembly.add_item(meeting, "Achat groupé", category="ordinary")
    session.energy.submit_to_assembly(campaign, meeting, item)
    session.assembly.convene(meeting, date(2027, 2, 20))
    for name in ("Ann", "Bob", "Cem"):
        session.assembly.attend(meeting, people[name], "present", at=OPEN)
    session.assembly.open(meeting, at=OPEN)
    with pytest.raises(InputError, match="mandate"):
        session.energy.start_collecting(campaign)  # adopted only once the meeting closed
    session.assembly.vote_all(meeting, item, "for")
    session.assembly.close(meeting, at=CLOSE)
    session.energy.start_collecting(campaign)
    return campaign


def ann_reading(**changes):  # type: ignore[no-untyped-def]
    fields = dict(
        energy_type="electricity",
        kwh={"electricity": 2400},
        period_start=date(2025, 1, 1),
        period_end=date(2025, 12, 31),
        postal_code="1180",
        bill_sha256=SHA,
    )
    fields.update(changes)
    return reading(**fields)


def test_bad_campaigns_are_refused_and_nothing_is_made(acp):
    session, _people = acp
    for args, message in [
        (("", ["gas"], date(2099, 1, 1)), "needs a name"),
        (("X", [], date(2099, 1, 1)), "Choose the energies"),
        (("X", ["coal"], date(2099, 1, 1)), "Choose the energies"),
        (("X", ["gas"], date(2000, 1, 1)), "already past"),
        (("X", ["gas"], date(2099, 1, 1), 0), "1 to 120 months"),
        (("X", ["gas"], date(2099, 1, 1), 12, "spot"), "fixed or variable"),
    ]:
        with pytest.raises(InputError, match=message):
            session.energy.create(*args)
    assert session.energy.campaigns() == []
    with pytest.raises(NotFoundError):
        session.energy.info("01M81JCW92EWKSY2232930GEN1")


def test_the_mandate_is_a_resolution_not_a_poll(acp):
    session, _people = acp
    campaign = session.energy.create("Hiver", ["gas"], date(2099, 1, 31))
    poll = session.assembly.create("poll", "Avis", STARTS, "")
    question = session.assembly.add_item(poll, "Pour ?", answers="yes_no")
    with pytest.raises(InputError, match="poll decides nothing"):
        session.energy.submit_to_assembly(campaign, poll, question)
    assert session.energy.info(campaign).status is Status.DRAFT
    with pytest.raises(InputError, match="step by step"):
        session.energy.negotiate(campaign)


def test_an_owner_opts_in_reads_back_and_withdraws(acp):
    session, people = acp
    campaign = campaign_collecting(session, people)
    with pytest.raises(InputError, match="belongs to no owner"):
        session.energy.opt_in(campaign, "A1", ann_reading())
    session.profile.store.set_meta({"person": people["Ann"]})  # as if on Ann's laptop
    for changes, lot, message in [
        ({}, "A2", "Only an owner of the unit"),  # Bob's
        ({}, "P1", "no unit P1"),  # a parking does not take part
        ({"postal_code": "118"}, "A1", "four digits"),
        ({"energy_type": "gas", "kwh": {"gas": 5}}, "A1", "does not buy"),
        ({"kwh": {"electricity": 0}}, "A1", "above zero"),
        (
            {"period_start": date(2098, 12, 1), "period_end": date(2099, 11, 30)},
            "A1",
            "ends in the future",
        ),
    ]:
        with pytest.raises(InputError, match=message):
            session.energy.opt_in(campaign, lot, ann_reading(**changes))
    with pytest.raises(InputError, match="Choose the energies"):
        ann_reading(energy_type="wind")
    assert session.energy.optins(campaign) == []

    optin = session.energy.opt_in(campaign, "A1", ann_reading())
    with pytest.raises(InputError, match="already opted in"):
        session.energy.opt_in(campaign, "A1", ann_reading())
    (mine,) = session.energy.mine(campaign)
    assert mine.kwh == {"electricity": 2400} and mine.record.consent_valid
    assert mine.record.energy_type == EnergyType.ELECTRICITY.value
    stats = session.energy.refresh(campaign)
    assert stats[0].participants == 0  # not verified yet
    with pytest.raises(InputError, match="SHA-256 differs"):
        session.energy.verify(campaign, optin, sha256="ab" * 32)
    session.energy.verify(campaign, optin, sha256=SHA.upper())
    (figure,) = session.energy.refresh(campaign)
    assert figure.participants == 1 and not figure.shown and figure.total_kwh is None

    session.energy.withdraw(campaign, optin)
    with pytest.raises(InputError, match="already withdrawn"):
        session.energy.withdraw(campaign, optin)
    assert session.energy.refresh(campaign)[0].participants == 0
    with pytest.raises(InputError, match="withdrawn"):
        session.energy.verify(campaign, optin, sha256=SHA)
    again = session.energy.opt_in(campaign, "A1", ann_reading())  # a new consent is possible
    assert again != optin


def test_a_tampered_opt_in_does_not_count(acp):
    session, people = acp
    campaign = campaign_collecting(session, people)
    session.profile.store.set_meta({"person": people["Ann"]})
    optin = session.energy.opt_in(campaign, "A1", ann_reading())
    doc_id = f"optins/{campaign}/{people['Ann']}"
    (genuine,) = session.energy.optins(campaign)
    with session.document(doc_id).edit() as doc:  # someone rewrites the unit afterwards
        edoc.put_record(doc, "optins", optin, {"lot": "A2"})
    (record,) = session.energy.optins(campaign)
    assert not record.consent_valid and not record.counts
    with pytest.raises(InputError, match="does not verify"):
        session.energy.verify(campaign, optin, sha256=SHA)
    with session.document(doc_id).edit() as doc:
        edoc.put_record(doc, "optins", optin, {"lot": genuine.lot})
    assert session.energy.optins(campaign)[0].consent_valid  # restored, genuine again
    fields = edoc.records(session.document(doc_id).doc, "optins")[optin]
    sealed = json.loads(fields["sealed"])
    sealed["aggregator"] = sealed[next(k for k in sealed if k != "aggregator")]
    with session.document(doc_id).edit() as doc:  # swapped ciphertext: consent breaks
        edoc.put_record(doc, "optins", optin, {"sealed": sealed})
    assert not session.energy.optins(campaign)[0].consent_valid


def negotiating_with_two_offers(session, campaign):  # type: ignore[no-untyped-def]
    """The campaign negotiating, as after publishing, with two offers fetched."""
    offers = [
        Offer("01M81JCW92EWKSY2232930AAAA", "electricity:1", "Lampiris", 25_000, 500, 100, 12, 12,
              "2099-06-30"),
        Offer("01M81JCW92EWKSY2232930BBBB", "electricity:1", "Engie", 24_000, 700, 40, 24, 15,
              "2099-06-30"),
    ]  # fmt: skip
    with session.document(f"energy/{campaign}").edit() as doc:
        edoc.set_meta(doc, status=Status.NEGOTIATING.value)
        for offer in offers:
            edoc.put_record(doc, "offers", offer.id, {"offer": json.dumps(offer.to_json())})
    return offers


def test_the_final_poll_picks_the_offer(acp):
    session, people = acp
    campaign = campaign_collecting(session, people)
    offers = negotiating_with_two_offers(session, campaign)
    views = session.energy.offers(campaign)
    assert [(v.offer.provider, v.green_score) for v in views] == [("Engie", 0), ("Lampiris", 10)]
    poll = session.assembly.create("poll", "Quelle offre ?", STARTS, "")
    labels = [session.energy.offer_label(o) for o in offers]
    question = session.assembly.add_item(poll, "Offre", answers="choice", options=labels)
    session.energy.submit_final_vote(campaign, poll, question)
    with pytest.raises(InputError, match="has not chosen"):
        session.energy.finalize(campaign, offers[0].id)  # nobody answered yet
    session.profile.store.set_meta({"person": people["Ann"]})  # Ann's laptop
    session.assembly.cast(poll, {question: labels[0]}, at=OPEN)
    with pytest.raises(InputError, match="has not chosen"):
        session.energy.finalize(campaign, offers[1].id)
    with pytest.raises(NotFoundError):
        session.energy.finalize(campaign, "nope")
    session.energy.finalize(campaign, offers[0].id)
    info = session.energy.info(campaign)
    assert info.status is Status.FINALIZED and info.chosen_offer == offers[0].id
    text = "".join(
        page.extract_text() for page in PdfReader(io.BytesIO(session.energy.summary_pdf(
            campaign, "en"))).pages
    )  # fmt: skip
    assert "Hiver" in text and "Lampiris" in text and "Engie" in text
    assert "Achat groupé" in text  # the mandate's resolution
    assert "Nothing is shown below 5 participants" in text  # one verified participant at most
    with pytest.raises(InputError, match="step by step"):
        session.energy.negotiate(campaign)
    session.energy.complete(campaign, date(2027, 9, 1))
    with pytest.raises(InputError, match="over"):
        session.energy.cancel(campaign)
    assert session.energy.retention(date(2027, 11, 29)).purged == []
    assert session.energy.retention(date(2027, 11, 30)).purged == [campaign]
    assert session.energy.info(campaign).purged_on == date(2027, 11, 30)
    assert session.energy.retention(date(2028, 1, 1)).purged == []  # once
    dropped = session.energy.retention(date(2033, 1, 1)).audit_dropped
    assert dropped >= 1 and session.energy.audit(campaign) == []  # five years later


def test_retention_on_a_device_that_is_not_the_syndics_does_nothing(acp):
    session, _people = acp
    session.profile.store.set_meta({"role": "owner"})
    assert session.energy.retention(datetime(2099, 1, 1, tzinfo=UTC).date()).purged == []


def test_the_syndics_tasks_hold_the_assembly_and_campaign_deadlines(acp):
    session, people = acp
    campaign = campaign_collecting(session, people)
    (meeting,) = [m.id for m in session.assembly.meetings()]
    tasks = {(t.kind, t.ref): t for t in session.governance.tasks(date(2027, 4, 1))}
    minutes = tasks[("assembly-minutes", meeting)]
    assert minutes.due == date(2027, 4, 14) and minutes.severity.value == "soon"  # 30 days
    assert "minutes" in minutes.message
    collecting = tasks[("energy-collecting-ends", campaign)]
    assert collecting.due == date(2099, 1, 31) and collecting.severity.value == "later"
    session.assembly.distributed(meeting, date(2027, 4, 2))
    kinds = {t.kind for t in session.governance.tasks(date(2027, 4, 3))}
    assert "assembly-minutes" not in kinds and "energy-collecting-ends" in kinds


def test_next_step_says_what_the_moves_would_say(acp):
    session, people = acp
    campaign = session.energy.create("Hiver", ["electricity"], date(2099, 1, 31))
    assert session.energy.next_step(campaign) == (Status.AWAITING_AG_VOTE, None)
    meeting = ordinary(session)
    item = session.assembly.add_item(meeting, "Achat groupé", category="ordinary")
    session.energy.submit_to_assembly(campaign, meeting, item)
    target, why = session.energy.next_step(campaign)
    assert target is Status.COLLECTING_DATA and "mandate" in why
    session.energy.cancel(campaign)
    assert session.energy.next_step(campaign) == (None, None)

    collecting = campaign_collecting(session, people)
    target, why = session.energy.next_step(collecting)
    assert target is Status.NEGOTIATING and "at least 5 verified" in why
    assert session.energy.counted(collecting) == {"electricity": 0}
    session.profile.store.set_meta({"person": people["Ann"]})
    optin = session.energy.opt_in(collecting, "A1", ann_reading())
    session.energy.verify(collecting, optin, sha256=SHA)
    assert session.energy.counted(collecting) == {"electricity": 1}


def test_recounting_unchanged_figures_writes_nothing_new(acp):
    session, people = acp
    campaign = campaign_collecting(session, people)
    session.energy.refresh(campaign)
    live = session.document(f"energy/{campaign}")
    before = live.get_state()
    session.energy.refresh(campaign)
    assert live.get_state() == before


def test_erasing_with_the_relay_out_of_reach_deletes_nothing(acp):
    session, people = acp
    campaign = campaign_collecting(session, people)
    session.profile.store.set_meta({"person": people["Ann"]})
    session.energy.opt_in(campaign, "A1", ann_reading())
    session.profile.store.set_meta({"relay_url": "http://127.0.0.1:9"})  # nothing listens
    with pytest.raises(KoprogoError):
        session.energy.erase(campaign)
    assert [m.kwh for m in session.energy.mine(campaign)] == [{"electricity": 2400}]
    session.energy.cancel(campaign, date(2020, 1, 1))
    report = session.energy.retention(date(2020, 6, 1))
    assert report.purged == [] and report.errors  # retried at the next run
    assert session.energy.info(campaign).purged_on is None
    assert len(session.energy.optins(campaign)) == 1


def test_an_expired_offer_cannot_be_finalized(acp):
    session, people = acp
    campaign = campaign_collecting(session, people)
    old = Offer("01M81JCW92EWKSY2232930CCCC", "electricity:1", "Ancien", 20_000, 0, 100, 12, 10,
                "2026-01-31")  # fmt: skip
    with session.document(f"energy/{campaign}").edit() as doc:
        edoc.set_meta(doc, status=Status.NEGOTIATING.value)
        edoc.put_record(doc, "offers", old.id, {"offer": json.dumps(old.to_json())})
    (view,) = session.energy.offers(campaign)
    assert view.expired and not session.energy.offers(campaign, date(2026, 1, 31))[0].expired
    poll = session.assembly.create("poll", "Quelle offre ?", STARTS, "")
    question = session.assembly.add_item(
        poll, "Offre", answers="choice", options=[session.energy.offer_label(old), "Aucune"]
    )
    session.energy.submit_final_vote(campaign, poll, question)
    session.profile.store.set_meta({"person": people["Ann"]})
    session.assembly.cast(poll, {question: session.energy.offer_label(old)}, at=OPEN)
    with pytest.raises(InputError, match="expired on 31/01/2026"):
        session.energy.finalize(campaign, old.id)
    assert session.energy.info(campaign).status is Status.AWAITING_FINAL_VOTE


def test_energy_dates_follow_the_relays_clock_once_measured(acp):
    """Found by hand: a campaign's dates, consents and retention followed a
    computer's wrong clock, where assemblies already took the relay's."""
    session, _people = acp
    session.profile.store.set_meta(  # relay 400 days behind, measured now
        {"clock_offset": str(-400 * 86_400), "clock_offset_at": str(int(time.time()))}
    )
    campaign = session.energy.create("Hiver", ["electricity"], date(2099, 1, 31))
    created = datetime.fromisoformat(session.energy.info(campaign).created_at)
    expected = datetime.now(UTC).replace(microsecond=0) - timedelta(days=400)
    assert abs((created - expected).total_seconds()) < 120


def test_a_campaign_ended_while_the_relay_was_away_leaves_the_pool_later(acp, relay_factory):
    """Found by hand: cancelled while the relay could not be reached, a
    campaign's figures stayed in the pool for good, and a completed one's
    were never taken out. The next retention run takes them out."""
    from node.sync import energy_client, service
    from shared.energy import Aggregate
    from sync_server import database
    from sync_server.energy_store import EnergyStore

    session, people = acp
    relay = relay_factory()
    service.connect(session, relay.url)
    campaign = campaign_collecting(session, people)
    aggregate = Aggregate(
        building_id=session.building_id, campaign_id=campaign, energy_type="electricity",
        region="1", participants=6, units=14, total_kwh=21_000, average_kwh=3_500,
        median_kwh=3_400, published_at="2027-01-10T10:00:00Z",
    )  # fmt: skip
    energy_client.publish(session, aggregate)  # as `publish` does, while negotiating
    with session.document(f"energy/{campaign}").edit() as doc:
        edoc.set_meta(doc, status=Status.NEGOTIATING.value)
        edoc.put_record(doc, "figures", "electricity", {"published": "2027-01-10T10:00:00Z"})
    assert session.energy.in_pool(campaign) == ["electricity"]

    relay.stop()
    session.energy.cancel(campaign, date(2027, 2, 1))
    assert session.energy.info(campaign).status is Status.CANCELLED
    assert session.energy.in_pool(campaign) == ["electricity"]  # said by the CLI
    report = session.energy.retention(date(2027, 2, 2))
    assert report.errors and session.energy.in_pool(campaign) == ["electricity"]

    relay = relay_factory(data_dir=relay.data_dir)
    session.profile.store.set_meta({"relay_url": relay.url})
    assert session.energy.retention(date(2027, 2, 3)).errors == []
    assert session.energy.in_pool(campaign) == []
    store = EnergyStore(database.make_engine(f"sqlite:///{relay.data_dir / 'relay.sqlite3'}"))
    try:
        assert list(store.aggregates(session.building_id)) == []  # out of the pool
    finally:
        store.engine.dispose()


def test_a_resolution_adopts_the_one_offer_it_names(acp):
    """Found by hand: a yes/no resolution "choice of the supplier" let the
    syndic finalize any of the offers. With several offers, the resolution
    names the one it adopts; only that one can be finalized."""
    session, people = acp
    campaign = campaign_collecting(session, people)
    offers = negotiating_with_two_offers(session, campaign)
    engie = session.energy.offer_label(offers[1])
    starts = datetime(2027, 4, 20, 18, 30)
    opened, closed = (
        datetime(2027, 4, 20, 17, 45, tzinfo=UTC),
        datetime(2027, 4, 20, 20, tzinfo=UTC),
    )
    meeting = ordinary(session, kind="extraordinary", title="AGE énergie", starts=starts)
    vague = session.assembly.add_item(meeting, "Choix du fournisseur", category="ordinary")
    named = session.assembly.add_item(meeting, f"Adopter l'offre {engie}", category="ordinary")
    by_provider = session.assembly.add_item(meeting, "Offre ENGIE", category="ordinary")
    with pytest.raises(InputError, match="names the one it adopts"):
        session.energy.submit_final_vote(campaign, meeting, vague)
    assert session.energy.info(campaign).status is Status.NEGOTIATING
    assert session.energy._adopted_offer(campaign, _item(session, meeting, by_provider)) == (
        offers[1].id
    )
    session.energy.submit_final_vote(campaign, meeting, named)
    session.assembly.convene(meeting, date(2027, 3, 25))
    for name in ("Ann", "Bob", "Cem"):
        session.assembly.attend(meeting, people[name], "present", at=opened)
    session.assembly.open(meeting, at=opened)
    session.assembly.vote_all(meeting, named, "for")
    session.assembly.vote_all(meeting, vague, "for")
    session.assembly.close(meeting, at=closed)
    with pytest.raises(InputError, match="has not chosen"):
        session.energy.finalize(campaign, offers[0].id)
    session.energy.finalize(campaign, offers[1].id)
    assert session.energy.info(campaign).chosen_offer == offers[1].id


def _item(session, meeting, item_id):  # type: ignore[no-untyped-def]
    return next(r.item for r in session.assembly.outcome(meeting).results if r.item.id == item_id)
