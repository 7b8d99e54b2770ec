"""The assembly's PDFs made from a meeting's records (issue 5, points 1 and
4): convocations in each owner's language with the proxy form, minutes with
the names of those against; parsed back with pypdf."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime

import pytest
from pypdf import PdfReader

from node.domain.assembly import Vote
from node.errors import InputError
from node.first_run import create_demo
from tests.helpers import PASSPHRASE

OPEN = datetime(2027, 3, 15, 17, 40, tzinfo=UTC)


def text_of(data: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


@pytest.fixture
def demo(tmp_path):
    session = create_demo(tmp_path / "demo", lambda _c: PASSPHRASE)
    yield session
    session.close()


def people(session) -> dict[str, str]:
    return {p.name: p.id for p in session.registry.read().persons}


def meeting_with_agenda(session) -> str:
    meeting = session.assembly.create(
        "ordinary", "AG 2027", datetime(2027, 3, 15, 18, 30), "Salle commune", remote_allowed=True,
        remote_terms="Vote dans KoproGo avant la séance",
    )  # fmt: skip
    session.assembly.add_item(meeting, "Budget 2027", "budget_accounts")
    session.assembly.add_item(meeting, "Ravalement de façade", "common_works")
    session.assembly.convene(meeting, date(2027, 2, 20))
    return meeting


def test_each_owner_gets_a_convocation_in_their_language(demo):
    meeting = meeting_with_agenda(demo)
    letters = dict(demo.assembly_documents.convocations(meeting))
    assert len(letters) == len(demo.assembly.outcome(meeting).owners)
    klaus = people(demo)["Klaus Becker"]
    text = text_of(demo.assembly_documents.convocation_pdf(meeting, klaus))
    assert "Klaus Becker" in text and "Hauptstraße 21" in text
    assert "15. März 2027" in text and "Ravalement de façade" in text
    assert "Vote dans KoproGo avant la séance" in text  # the remote terms, as written
    assert "Vollmacht" in text  # the proxy form
    everyone = PdfReader(io.BytesIO(demo.assembly_documents.convocation_pdf(meeting)))
    assert len(everyone.pages) >= 2 * len(letters)  # a letter and a proxy form each


def test_the_minutes_name_those_against_in_the_meetings_language(demo):
    meeting = meeting_with_agenda(demo)
    owners = demo.assembly.outcome(meeting).owners
    names = people(demo)
    for person in owners:
        demo.assembly.attend(meeting, person, at=OPEN)
    demo.assembly.open(meeting, at=OPEN, chair="Annelies Peeters-Claes")
    demo.assembly.vote_all(meeting, "1", Vote.FOR, {names["Luc Janssens"]: Vote.AGAINST})
    demo.assembly.vote_all(meeting, "2", Vote.FOR, {names["Sophie Dubois"]: Vote.ABSTAIN})
    with pytest.raises(InputError, match="once the meeting is closed"):
        demo.assembly_documents.minutes_pdf(meeting)
    demo.assembly.close(meeting, at=datetime(2027, 3, 15, 20, 0, tzinfo=UTC), secretary="G. Dupont")
    text = text_of(demo.assembly_documents.minutes_pdf(meeting))
    assert "Procès-verbal" in text or "procès-verbal" in text
    assert "Luc Janssens" in text and "Sophie Dubois" in text
    dutch = text_of(demo.assembly_documents.minutes_pdf(meeting, "nl"))
    assert "Luc Janssens" in dutch and "otulen" in dutch


def test_a_poll_has_results_not_minutes(demo):
    poll = demo.assembly.create("poll", "Couleur", datetime(2027, 6, 1), "")
    with pytest.raises(InputError, match="decides nothing"):
        demo.assembly_documents.minutes_pdf(poll)
    with pytest.raises(InputError, match="Only an assembly is convened"):
        demo.assembly_documents.convocation_pdf(poll)
