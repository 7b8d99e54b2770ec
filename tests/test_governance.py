"""The council (art. 3.90), the auditor of accounts (art. 3.91), the syndic's
mandate (art. 3.89 §1) and the syndic's task list: rules as tables with no
document, then the service on a real profile."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import pycrdt
import pytest

from node.documents import registry_doc as rdoc
from node.domain.governance import (
    Auditor,
    CouncilMandate,
    CouncilRole,
    Severity,
    Task,
    auditor_problems,
    auditor_tasks,
    council_mandate_problems,
    council_tasks,
    severity_of,
    syndic_mandate_end,
    syndic_mandate_tasks,
    syndic_tasks,
)
from node.domain.registry import LotType
from node.errors import InputError, NotFoundError
from tests.helpers import make_session, reopen

D = date.fromisoformat
P, M = CouncilRole.PRESIDENT, CouncilRole.MEMBER
NAMES = {"ann": "Ann", "bob": "Bob", "cec": "Cécile", "syn": "Sam Syndic"}


def mandate(id_: str, person: str, role: CouncilRole, start: str, until: str | None = None):
    return CouncilMandate(id_, person, role, D(start), D(until) if until else None)


# -- values ---------------------------------------------------------------------------------


def test_a_mandate_cannot_end_before_it_starts() -> None:
    with pytest.raises(InputError, match="cannot end"):
        mandate("m", "ann", M, "2027-06-01", "2027-05-31")
    assert mandate("m", "ann", M, "2027-06-01", "2027-06-01").running_on(D("2027-06-01"))


@pytest.mark.parametrize(
    ("a", "b", "overlap"),
    [
        (("2026-01-01", "2026-12-31"), ("2027-01-01", None), False),
        (("2026-01-01", "2027-01-01"), ("2027-01-01", None), True),  # both hold 1 January
        (("2026-01-01", None), ("2030-01-01", "2030-12-31"), True),
        (("2027-03-01", "2027-04-01"), ("2027-01-01", "2027-02-28"), False),
    ],
)
def test_mandates_overlap_on_days_both_hold(a, b, overlap) -> None:
    first, second = mandate("a", "ann", P, *a), mandate("b", "bob", P, *b)
    assert first.overlaps(second) is overlap and second.overlaps(first) is overlap


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"year": 2027}, "Name the auditor"),  # neither a person nor a name
        ({"year": 2027, "person_id": "ann", "name": "Ann"}, "Name the auditor"),
        ({"year": 27, "name": "X"}, "four digits"),
    ],
)
def test_an_auditor_is_one_person_for_one_year(fields, message) -> None:
    with pytest.raises(InputError, match=message):
        Auditor(**fields)


# -- council rules (art. 3.90) ------------------------------------------------------------------

COUNCIL = [
    mandate("m1", "ann", P, "2026-06-01", "2027-05-31"),
    mandate("m2", "bob", M, "2026-06-01"),
]


@pytest.mark.parametrize(
    ("candidate", "problem"),
    [
        (mandate("new", "cec", M, "2026-09-01"), None),
        # art. 3.90: members are persons of the registry
        (mandate("new", "nobody", M, "2026-09-01"), "no person with id nobody"),
        # the council supervises the syndic: the syndic is not a member
        (mandate("new", "syn", M, "2026-09-01"), "The syndic cannot be a member"),
        # one president at a time: the message names the one in office
        (mandate("new", "cec", P, "2027-05-01"), "Ann is already president"),
        (mandate("new", "cec", P, "2027-06-01"), None),  # after Ann's mandate ended
        (mandate("new", "cec", P, "2025-01-01", "2026-05-31"), None),  # before it
        # one seat per person at a time
        (mandate("new", "bob", P, "2028-01-01"), "Bob already sits on the council since"),
        (mandate("m2", "bob", M, "2026-06-01", "2027-12-31"), None),  # ending its own mandate
        (mandate("m1", "ann", P, "2026-06-01", "2028-05-31"), None),  # extending its own
    ],
)
def test_council_mandate_rules(candidate, problem) -> None:
    problems = council_mandate_problems(candidate, COUNCIL, NAMES, syndic_person="syn")
    if problem is None:
        assert problems == []
    else:
        assert len(problems) == 1 and problem in problems[0]


def test_without_a_known_syndic_anyone_of_the_registry_may_sit() -> None:
    assert council_mandate_problems(mandate("n", "syn", M, "2027-01-01"), [], NAMES, None) == []


# -- auditor rules (art. 3.91) -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("auditor", "problem"),
    [
        (Auditor(2027, person_id="ann", owner=True), None),
        (Auditor(2027, name="Fiduciaire Dupont"), None),
        (Auditor(2027, person_id="syn"), "never be the auditor of accounts (art. 3.91)"),
        (Auditor(2027, name=" sam SYNDIC "), "never be the auditor of accounts (art. 3.91)"),
        (Auditor(2027, person_id="nobody"), "no person with id nobody"),
    ],
)
def test_auditor_rules(auditor, problem) -> None:
    problems = auditor_problems(auditor, NAMES, syndic_person="syn")
    if problem is None:
        assert problems == []
    else:
        assert len(problems) == 1 and problem in problems[0]


# -- the syndic's mandate (art. 3.89 §1: at most three years) ------------------------------


@pytest.mark.parametrize(
    ("start", "until", "end"),
    [
        ("2024-06-15", None, "2027-06-15"),  # no end recorded: three years by law
        ("2024-06-15", "2027-06-15", "2027-06-15"),  # exactly three years
        ("2024-06-15", "2027-06-16", "2027-06-15"),  # one day too long: cut by law
        ("2024-06-15", "2025-06-14", "2025-06-14"),
        (None, "2027-01-01", "2027-01-01"),  # start unknown: as recorded
        ("2024-02-29", None, "2027-02-28"),
        (None, None, None),
    ],
)
def test_syndic_mandate_ends_within_three_years(start, until, end) -> None:
    assert syndic_mandate_end(start and D(start), until and D(until)) == (end and D(end))


@pytest.mark.parametrize(
    ("today", "start", "until", "expected"),
    [
        ("2027-01-01", "2024-06-15", "2027-06-15", []),  # 165 days left
        ("2027-03-17", "2024-06-15", "2027-06-15", [("syndic-mandate-ending", "soon")]),  # 90
        ("2027-03-16", "2024-06-15", "2027-06-15", []),  # 91 days left
        ("2027-06-16", "2024-06-15", "2027-06-15", [("syndic-mandate-ending", "overdue")]),
        ("2025-01-01", "2024-06-15", "2028-06-15", [("syndic-mandate-too-long", "later")]),
        ("2027-04-01", "2024-06-15", None, [("syndic-mandate-too-long", "soon")]),
        ("2027-04-01", None, None, []),  # nothing recorded: nothing to say
    ],
)
def test_syndic_mandate_tasks(today, start, until, expected) -> None:
    tasks = syndic_mandate_tasks(D(today), start and D(start), until and D(until))
    assert [(t.kind, t.severity.value) for t in tasks] == expected
    assert all(t.ref == "syndic" and "3.89" in t.message for t in tasks)


# -- council tasks -----------------------------------------------------------------------------


def kinds(tasks: list[Task]) -> list[tuple[str, str, str, str]]:
    return [(t.kind, t.due.isoformat(), t.severity.value, t.ref) for t in tasks]


@pytest.mark.parametrize(
    ("required", "mandates", "expected"),
    [
        # art. 3.90 §1: from 20 lots the council is mandatory
        (True, [], [("council-missing", "2027-03-01", "overdue", "council")]),
        (False, [], []),
        # the last member left on 31 January: missing since 1 February
        (
            True,
            [mandate("m", "ann", M, "2026-01-01", "2027-01-31")],
            [("council-missing", "2027-02-01", "overdue", "council")],
        ),
        # a mandate starting later does not fill the council today
        (
            True,
            [mandate("m", "ann", M, "2027-06-01")],
            [("council-missing", "2027-03-01", "overdue", "council")],
        ),
        # ending within 60 days: announced
        (
            True,
            [mandate("m", "ann", M, "2026-01-01", "2027-04-30")],
            [("council-mandate-ending", "2027-04-30", "soon", "m")],
        ),
        (True, [mandate("m", "bob", M, "2026-06-01")], []),  # someone sits: nothing to do
        # 61 days left: not yet
        (True, [mandate("m", "ann", M, "2026-01-01", "2027-05-01")], []),
        # renewed by a new mandate of the same person: nothing to do
        (
            True,
            [
                mandate("m", "ann", M, "2026-01-01", "2027-04-30"),
                mandate("r", "ann", P, "2027-05-01"),
            ],
            [],
        ),
        # two presidents at once (after merging concurrent edits)
        (
            False,
            [mandate("a", "ann", P, "2026-01-01"), mandate("b", "bob", P, "2027-01-01")],
            [("council-presidents", "2027-03-01", "overdue", "a,b")],
        ),
    ],
)
def test_council_tasks(required, mandates, expected) -> None:
    assert kinds(council_tasks(D("2027-03-01"), required, mandates, NAMES)) == expected


def test_council_task_names_the_person_and_role() -> None:
    (task,) = council_tasks(
        D("2027-03-01"), True, [mandate("m", "ann", P, "2026-01-01", "2027-04-30")], NAMES
    )
    assert task.message.startswith("The council mandate of Ann (president) ends on 30/04/2027")


# -- auditor tasks (art. 3.91: every year) ------------------------------------------------------


@pytest.mark.parametrize(
    ("appointed", "period", "expected"),
    [
        (False, None, []),  # the ordinary assembly's period is not known yet
        (True, "2027-06-01", []),
        (False, "2027-06-01", [("auditor-missing", "2027-06-01", "later", "2027")]),
        (False, "2027-04-15", [("auditor-missing", "2027-04-15", "soon", "2027")]),  # 45 days
        (False, "2027-02-15", [("auditor-missing", "2027-02-15", "overdue", "2027")]),
    ],
)
def test_auditor_tasks(appointed, period, expected) -> None:
    tasks = auditor_tasks(D("2027-03-01"), 2027, appointed, period and D(period))
    assert kinds(tasks) == expected


# -- merging the sources ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("due", "window", "severity"),
    [
        ("2027-02-28", 30, "overdue"),
        ("2027-03-01", 0, "soon"),
        ("2027-03-31", 30, "soon"),
        ("2027-04-01", 30, "later"),
    ],
)
def test_severity_follows_the_due_day(due, window, severity) -> None:
    assert severity_of(D(due), D("2027-03-01"), window) is Severity(severity)


def test_other_modules_add_their_tasks_merged_and_sorted() -> None:
    today = D("2027-03-01")
    own = council_tasks(today, True, [], NAMES)
    assembly = [
        Task(D("2027-05-20"), "convocation", "Send the convocation", Severity.LATER, "AG1"),
        Task(D("2027-02-27"), "minutes", "Send the minutes", Severity.SOON, "AG0"),  # now late
        Task(D("2027-05-25"), "convocation", "Send the convocation", Severity.LATER, "AG1"),
    ]
    merged = syndic_tasks(today, own, assembly)
    assert kinds(merged) == [
        ("minutes", "2027-02-27", "overdue", "AG0"),
        ("council-missing", "2027-03-01", "overdue", "council"),
        ("convocation", "2027-05-20", "later", "AG1"),  # one per (kind, ref), the earliest
    ]


# -- the document: an added map, old documents read as before ------------------------------


def test_a_document_without_the_new_maps_reads_as_no_council_and_no_auditor() -> None:
    old = pycrdt.Doc()
    old.get("meta", type=pycrdt.Map)["schema"] = 1
    old.get("association", type=pycrdt.Map).update({"name": "ACP Old", "quota_total": 1000})
    doc = pycrdt.Doc()
    doc.apply_update(old.get_update())
    registry = rdoc.read_registry(doc)
    assert registry.association.name == "ACP Old"
    assert registry.association.syndic_mandate_from is None
    assert (registry.council, registry.auditors, registry.unreadable) == ((), (), ())


def test_an_unreadable_mandate_is_reported_not_dropped() -> None:
    doc = pycrdt.Doc()
    council = doc.get("council", type=pycrdt.Map)
    council["bad"] = pycrdt.Map({"person_id": "ann", "role": "king", "from": "2027-01-01"})
    doc.get("auditors", type=pycrdt.Map)["20x7"] = pycrdt.Map({"name": "X"})
    assert rdoc.read_registry(doc).unreadable == (("auditors", "20x7"), ("council", "bad"))


# -- the service on a real profile ---------------------------------------------------------------


@pytest.fixture
def session(tmp_path: Path):
    with make_session(tmp_path / "acp") as session:
        yield session


def person(session, name: str) -> str:
    return session.registry.add_person(name).record_id


def state(session) -> bytes:
    return session.document("registry").get_state()


def test_council_members_are_recorded_ended_and_kept(session, tmp_path) -> None:
    ann, bob = person(session, "Ann"), person(session, "Bob")
    change = session.governance.add_council_member(ann, D("2027-06-12"), P, meeting_id=" AG-2027 ")
    assert change.collections == {"council"}
    first = change.record_id
    session.governance.add_council_member(bob, D("2027-06-12"))
    session.governance.end_council_member(first, D("2028-06-11"))
    session.close()
    with reopen(tmp_path / "acp") as again:
        council = again.governance.council()
        # both start the same day: in the order of their ids, made in the same
        # millisecond here, so compared as a set
        assert {(m.person_id, m.role, m.until, m.meeting_id) for m in council} == {
            (ann, P, D("2028-06-11"), "AG-2027"),
            (bob, M, None, ""),
        }
        assert [m.person_id for m in again.governance.council(on=D("2028-07-01"))] == [bob]


@pytest.mark.parametrize(
    ("act", "message"),
    [
        (lambda s, ids: s.governance.add_council_member("nobody", D("2027-01-01")), "no person"),
        (
            lambda s, ids: s.governance.add_council_member(
                ids["bob"], D("2027-01-01"), until=D("2026-12-31")
            ),
            "cannot end",
        ),
        (
            lambda s, ids: s.governance.add_council_member(ids["bob"], D("2027-09-01"), P),
            "Ann is already president of the council since 12/06/2027",
        ),
        (
            lambda s, ids: s.governance.add_council_member(ids["syn"], D("2027-09-01")),
            "The syndic cannot be a member",
        ),
        (
            lambda s, ids: s.governance.end_council_member(ids["m"], D("2027-06-11")),
            "cannot end (2027-06-11) before it starts (2027-06-12)",
        ),
        (lambda s, ids: s.governance.end_council_member("nope", D("2027-06-11")), "no council"),
        (
            lambda s, ids: s.governance.set_auditor(2027, person_id=ids["syn"]),
            "The syndic can never be the auditor of accounts (art. 3.91).",
        ),
        (lambda s, ids: s.governance.set_auditor(2027), "Name the auditor"),
        (lambda s, ids: s.governance.remove_auditor(2031), "No auditor"),
        (
            lambda s, ids: s.governance.set_syndic_mandate(D("2027-01-01"), D("2026-01-01")),
            "cannot end",
        ),
    ],
)
def test_bad_input_is_explained_and_changes_nothing(session, act, message) -> None:
    ids = {"ann": person(session, "Ann"), "bob": person(session, "Bob")}
    ids["syn"] = person(session, "Sam Syndic")
    session.profile.store.set_meta({"person": ids["syn"]})  # the syndic's own profile
    ids["m"] = session.governance.add_council_member(ids["ann"], D("2027-06-12"), P).record_id
    before, registry = state(session), session.registry.read()
    with pytest.raises(InputError) as raised:
        act(session, ids)
    assert message in str(raised.value)
    assert state(session) == before and session.registry.read() == registry


def test_on_a_council_members_device_the_syndic_is_not_its_person(session) -> None:
    ann = person(session, "Ann")
    session.profile.store.set_meta({"person": ann, "role": "council"})
    assert session.governance.syndic_person() is None


def test_undo_and_redo_cover_the_council_and_the_auditor(session) -> None:
    ann = person(session, "Ann")
    session.governance.add_council_member(ann, D("2027-06-12"))
    session.governance.set_auditor(2027, name="Fiduciaire Dupont")
    assert session.registry.undo().collections >= {"council", "auditors"}
    assert session.governance.auditor(2027) is None and len(session.governance.council()) == 1
    session.registry.undo()
    assert session.governance.council() == ()
    session.registry.redo()
    session.registry.redo()
    assert session.governance.auditor_name(session.governance.auditor(2027)) == "Fiduciaire Dupont"


def test_the_auditor_of_each_year(session) -> None:
    ann = person(session, "Ann")
    lot = session.registry.add_lot("A1", LotType.APARTMENT, 1000).record_id
    session.registry.set_owner(lot, ann, 10_000, voting=True)
    session.governance.set_auditor(2027, person_id=ann, meeting_id="AG-2027")
    session.governance.set_auditor(2028, name="Fiduciaire Dupont")
    assert session.governance.auditor(2027) == Auditor(2027, ann, "", True, "AG-2027")
    session.governance.set_auditor(2027, name="Expert X", owner=False)  # replaced by a decision
    assert [
        (a.year, session.governance.auditor_name(a)) for a in session.governance.auditors()
    ] == [
        (2027, "Expert X"),
        (2028, "Fiduciaire Dupont"),
    ]
    session.governance.remove_auditor(2028)
    assert session.governance.auditor(2028) is None


def test_tasks_of_a_building_of_twenty_lots(session) -> None:
    for number in range(20):
        session.registry.add_lot(f"A{number}", LotType.APARTMENT, 50)
    session.registry.add_lot("G1", LotType.GARAGE, 0)
    today = D("2027-03-01")
    assert [t.kind for t in session.governance.tasks(today)] == ["council-missing"]

    ann = person(session, "Ann")
    session.governance.add_council_member(ann, D("2026-06-01"), P, until=D("2027-04-20"))
    session.governance.set_syndic_mandate(D("2024-05-01"), D("2027-05-01"))
    session.governance.contribute(
        lambda day: [Task(D("2027-04-01"), "convocation", "Convene", Severity.SOON, "AG")]
    )
    assert [(t.kind, t.due.isoformat()) for t in session.governance.tasks(today)] == [
        ("convocation", "2027-04-01"),
        ("council-mandate-ending", "2027-04-20"),
        ("syndic-mandate-ending", "2027-05-01"),
    ]
    # once the ordinary assembly is planned, the auditor it must appoint is a task
    session.assembly.create(
        "ordinary", "AG 2027", datetime(2027, 6, 10, 19), "Salle", period_start=D("2027-06-01")
    )
    missing = [t for t in session.governance.tasks(today) if t.kind == "auditor-missing"]
    assert kinds(missing) == [("auditor-missing", "2027-06-01", "later", "2027")]
    session.governance.set_auditor(2027, name="Fiduciaire Dupont")
    assert "auditor-missing" not in {t.kind for t in session.governance.tasks(today)}


def test_mandate_lookup_says_what_is_missing(session) -> None:
    with pytest.raises(NotFoundError, match="There is no council mandate nope"):
        session.governance.find_mandate("nope")


def test_the_export_keeps_the_council_and_the_auditors(session) -> None:
    from node.export import registry_tables

    ann = person(session, "Ann")
    session.governance.add_council_member(ann, D("2027-06-12"), P, meeting_id="AG-2027")
    session.governance.set_auditor(2027, name="Fiduciaire Dupont")
    session.governance.set_syndic_mandate(D("2025-06-14"), None)
    tables = registry_tables(session.registry.read())
    assert [
        (r["person_name"], r["role"], r["from"], r["until"]) for r in tables["council_mandates"][0]
    ] == [("Ann", "president", "2027-06-12", None)]
    assert tables["auditors"][0] == [
        {
            "year": 2027,
            "person_id": None,
            "name": "Fiduciaire Dupont",
            "owner": False,
            "meeting_id": None,
        }
    ]
    assert tables["association"][0][0]["syndic_mandate_from"] == "2025-06-14"
