"""The general assembly's documents: the convocation each owner receives,
in their language, with its proxy form (art. 3.87 §3 and §7), and the
minutes of the meeting (art. 3.87 §10) — quorum, figures, the names of
those who voted against or abstained, signatures and deadlines."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime
from fractions import Fraction

import pytest

from node.domain.assembly import DECISION_MAJORITIES, Majority, Quorum, QuorumRule, quorum
from node.domain.meeting import REFUSAL_REASONS, MeetingKind, Mode, Refusal
from node.errors import InputError
from node.pdf.assembly import (
    AgendaItem,
    Agreement,
    Attendee,
    BallotIssue,
    BallotNote,
    Channel,
    ConvocationLetter,
    LotVotes,
    Minutes,
    Resolution,
    convocation_section,
    render_convocation,
    render_convocations,
    render_minutes,
)
from tests.test_pdf_helpers import MarkedTranslations, letterhead, pages_text, reader, recipient


def item(number: int, title: str, category: str = "ordinary", text: str = "") -> AgendaItem:
    majority, reason = DECISION_MAJORITIES[category]
    return AgendaItem(number, title, majority, reason, text)


AGENDA = (
    item(1, "Approval of the 2026 accounts", "budget_accounts"),
    item(2, "Renovation of the roof", "common_works", "Quote of Toitures Janssens: 84 000 €."),
    item(3, "Waiving the reserve fund for 2027", "reserve_waiver"),
)


def letter(language: str = "en", **changes: object) -> ConvocationLetter:
    """Madame Dœuvre-Müller (lots A3 and C12, 998 votes of 10 000) is
    convened by registered mail to the ordinary assembly of 20 May 2027."""
    values: dict[str, object] = {
        "letterhead": letterhead(),
        "language": language,
        "recipient": recipient(),
        "sent_on": date(2027, 5, 1),
        "channel": Channel.REGISTERED_MAIL,
        "kind": MeetingKind.ORDINARY,
        "title": "AGO 2027",
        "starts": datetime(2027, 5, 20, 19, 30),
        "place": "Salle Saint-Marc, Rue du Doyenné 3, 1180 Uccle",
        "lots": (LotVotes("A3", 945), LotVotes("C12", 53)),
        "quota_total": 10_000,
        "agenda": AGENDA,
    }
    values.update(changes)
    return ConvocationLetter(**values)  # type: ignore[arg-type]


def convocation_text(the_letter: ConvocationLetter) -> list[str]:
    return pages_text(render_convocation(the_letter))


def flat(text: str) -> str:
    """Text with its lines joined, to read sentences the page wrapped."""
    return " ".join(text.split())


# -- the convocation ---------------------------------------------------------------------


def test_what_the_owner_reads_in_the_convocation():
    first, _ = convocation_text(letter())
    for expected in (
        "Convocation to the ordinary general assembly",
        "AGO 2027",
        "Madame Françoise Dœuvre-Müller\nRue de l’Église 3 bte 2\n1000 Bruxelles",
        "Uccle, 1 May 2027",
        "Sent\nby registered mail",
        "Date and time\n20 May 2027 at 19:30",
        "Place\nSalle Saint-Marc, Rue du Doyenné 3, 1180 Uccle",
        "Your lots (votes)\nA3 (945), C12 (53)",
        "Your votes\n998 / 10,000",
        "1. Approval of the 2026 accounts",
        "Majority required: absolute majority (more than half of the votes cast).",
        "Budgets and accounts: absolute majority (art. 3.88 §1).",
        "2. Renovation of the roof\nQuote of Toitures Janssens: 84 000 €.",
        "Majority required: two-thirds majority of the votes cast.",
        "3. Waiving the reserve fund for 2027",
        "Majority required: four-fifths majority of the votes cast.",
        "Waiving the reserve fund: four fifths (art. 3.86 §3).",
        "Page 1 / 2",
    ):
        assert expected in first
    assert "second assembly" not in first
    assert "distance" not in first


def test_the_proxy_form_is_its_own_page_filled_in_for_the_principal():
    _, proxy = convocation_text(letter())
    for expected in (
        "Proxy",
        "The undersigned (principal)\nMadame Françoise Dœuvre-Müller",
        "Owner of the lots (votes)\nA3 (945), C12 (53)",
        "Name of the proxy holder",
        "Agenda item\n For\n Against\n Abstain",
        "1\nApproval of the 2026 accounts\n2\nRenovation of the roof\n3\nWaiving the reserve",
        "Signature of the principal",
        "Page 2 / 2",
    ):
        assert expected in proxy
    for sentence in (
        "to represent me at the general assembly of ACP Résidence Les Tilleuls on 20 May 2027 "
        "at 19:30, Salle Saint-Marc, Rue du Doyenné 3, 1180 Uccle,",
        "A proxy holder may hold at most three proxies, unless their own votes and those of "
        "their principals make at most 10 % of the votes of all lots.",
        "The syndic can never hold a proxy (Civil Code, art. 3.87 §7).",
    ):
        assert sentence in flat(proxy)


def test_remote_participation_is_printed_only_when_allowed():
    allowed = letter(
        remote_allowed=True,
        remote_terms="Vote in the KoproGo app before the meeting.\nOr follow it on Jitsi.",
        remote_until=datetime(2027, 5, 20, 12, 0),
    )
    text = convocation_text(allowed)[0]
    assert "Taking part from a distance" in text
    assert "Vote in the KoproGo app before the meeting.\nOr follow it on Jitsi." in text
    assert "Remote ballots are accepted until 20 May 2027 at 12:00." in text
    not_allowed = convocation_text(replace(allowed, remote_allowed=False))[0]
    assert "Taking part from a distance" not in not_allowed
    assert "Jitsi" not in not_allowed
    assert "Remote ballots" not in not_allowed


def test_a_second_assembly_says_it_deliberates_whatever_the_attendance():
    second = letter(second_assembly=True, first_meeting=date(2027, 5, 3))
    text = flat(convocation_text(second)[0])
    assert "Convocation to the second ordinary general assembly" in text
    assert "The assembly of 3 May 2027 did not reach the quorum." in text
    assert "whatever the number of owners present or represented" in text
    assert "art. 3.87 §5" in text


def test_an_email_convocation_says_so_discreetly():
    section = convocation_section(letter(channel="email", reference="AG 2027/1"))
    assert section.details == (
        ("Reference", "AG 2027/1"),
        ("Meeting", "20 May 2027"),
        ("Lots", "A3, C12"),
        ("Sent", "by e-mail (agreed in writing)"),
    )


@pytest.mark.parametrize(
    ("language", "when", "proxy", "votes"),
    [
        ("fr", "20 mai 2027 à 19:30", "Procuration", "998 / 10 000"),
        ("nl", "20 mei 2027 om 19:30", "Volmacht", "998 / 10.000"),
        ("de", "20. Mai 2027 um 19:30", "Vollmacht", "998 / 10.000"),
        ("en", "20 May 2027 at 19:30", "Proxy", "998 / 10,000"),
    ],
)
def test_the_convocation_follows_the_owners_language(
    language: str, when: str, proxy: str, votes: str
):
    data = render_convocation(letter(language))
    first, form = pages_text(data)
    assert when in first
    assert votes in first
    assert f"\n{proxy}\n" in form
    assert reader(data).trailer["/Root"]["/Lang"].startswith(language)


@pytest.mark.parametrize("language", ["fr", "nl", "de", "en"])
def test_every_word_of_the_convocation_goes_through_the_owners_translations(language: str):
    data = render_convocation(letter(language), translate=MarkedTranslations)
    text = "\n".join(pages_text(data))
    title = f"«[{language}] Convocation to the ordinary general assembly»"
    assert reader(data).metadata.title == title
    for message in (
        "Agenda",
        "Proxy",
        "two-thirds majority of the votes cast",
        "Waiving the reserve fund: four fifths (art. 3.86 §3).",
        "by registered mail",
    ):
        assert f"«[{language}] {message}" in text


def test_a_long_agenda_runs_over_pages_with_page_numbers():
    agenda = tuple(
        item(n, f"Point {n:02d}", "ordinary", "A proposal of a few words. " * 8)
        for n in range(1, 31)
    )
    pages = convocation_text(letter(agenda=agenda))
    assert len(pages) >= 4
    for number, text in enumerate(pages, start=1):
        assert f"Page {number} / {len(pages)}" in text
    everything = "\n".join(pages)
    assert all(f"{n}. Point {n:02d}" in everything for n in range(1, 31))
    form = pages[next(i for i, p in enumerate(pages) if "Name of the proxy holder" in p) :]
    assert all(f"Point {n:02d}" in "\n".join(form) for n in range(1, 31))


def test_convocations_printed_together_are_numbered_letter_by_letter():
    dutch = letter("nl", recipient=recipient("Jan Peeters"), lots=(LotVotes("B1", 1_200),))
    pages = pages_text(render_convocations([letter("fr"), dutch]))
    assert len(pages) == 4
    assert "Page 1 / 2" in pages[0] and "Page 2 / 2" in pages[1]
    assert "Pagina 1 / 2" in pages[2] and "Pagina 2 / 2" in pages[3]
    assert "Jan Peeters" in pages[3] and "B1 (1.200)" in pages[3]


def test_convocations_of_two_associations_are_not_printed_together():
    other = letter()
    other = replace(
        other,
        letterhead=replace(
            other.letterhead, association=replace(other.letterhead.association, name="ACP Autre")
        ),
    )
    with pytest.raises(InputError, match="one association"):
        render_convocations([letter(), other])


@pytest.mark.parametrize(
    ("make", "words"),
    [
        (lambda: letter(language="es"), "language"),
        (lambda: letter(agenda=()), "agenda of at least one item"),
        (lambda: letter(agenda=(AGENDA[0], AGENDA[0])), "Agenda item 1 appears twice"),
        (lambda: letter(kind="written"), "ordinary or extraordinary"),
        (lambda: letter(kind="annual"), "Unknown kind of meeting"),
        (lambda: letter(channel="fax"), "Unknown way of sending"),
        (lambda: letter(place=" "), "place of the meeting"),
        (lambda: letter(lots=()), "at least one lot"),
        (lambda: letter(quota_total=900), "between zero and the quota total"),
        (lambda: letter(sent_on=date(2027, 6, 1)), "after the meeting"),
        (lambda: letter(second_assembly=True), "date of the first one"),
        (lambda: letter(remote_allowed=True), "must say how"),
        (lambda: AgendaItem(0, "x", Majority.ABSOLUTE), "number above zero"),
        (lambda: AgendaItem(4, " ", Majority.ABSOLUTE), "Agenda item 4 needs a title"),
        (lambda: AgendaItem(4, "x", "simple"), "Unknown majority"),  # type: ignore[arg-type]
        (lambda: LotVotes("A3", -1), "votes of lot A3"),
    ],
)
def test_bad_convocations_are_refused_in_words(make, words: str):
    with pytest.raises(InputError, match=words):
        make()


# -- the minutes -------------------------------------------------------------------------

ATTENDANCE = (
    Attendee("Françoise Dœuvre-Müller", ("A3", "C12"), 998, Mode.PRESENT),
    Attendee("Jan Peeters", ("B1",), 1_200, Mode.PROXY, holder="Marc Lambert"),
    Attendee("Marc Lambert", ("B2",), 2_100, Mode.PRESENT),
    Attendee("Sofia Rossi", ("A1",), 1_850, Mode.REMOTE),
)
"""Four of the seven owners, holding 6 148 of the 10 000 quotas."""


def resolutions() -> tuple[Resolution, ...]:
    """The accounts pass (Jan Peeters abstains), the roof fails at two
    thirds, the waiver passes at four fifths with votes shared by the cap."""
    accounts, roof, reserve = AGENDA
    return (
        Resolution(
            accounts.number,
            accounts.title,
            accounts.majority,
            votes_for=4_948,
            votes_against=0,
            abstentions=1_200,
            adopted=True,
            reason=accounts.reason,
            abstained=("Jan Peeters",),
        ),
        Resolution(
            roof.number,
            roof.title,
            roof.majority,
            votes_for=2_100,
            votes_against=2_848,
            abstentions=0,
            adopted=False,
            reason=roof.reason,
            against=("Françoise Dœuvre-Müller", "Sofia Rossi"),
            excluded=(("Toitures Janssens SRL", "the contractor of the works"),),
        ),
        Resolution(
            reserve.number,
            reserve.title,
            reserve.majority,
            votes_for=Fraction(8_251, 2),
            votes_against=Fraction(1_649, 2),
            abstentions=0,
            adopted=True,
            reason=reserve.reason,
            against=("Sofia Rossi",),
            ballot_notes=(BallotNote(BallotIssue.CONFLICT, 1, "two different answers"),),
        ),
    )


def minutes(language: str = "en", **changes: object) -> Minutes:
    values: dict[str, object] = {
        "letterhead": letterhead(),
        "language": language,
        "kind": MeetingKind.ORDINARY,
        "title": "AGO 2027",
        "starts": datetime(2027, 5, 20, 19, 30),
        "made_on": date(2027, 5, 20),
        "resolutions": resolutions(),
        "place": "Salle Saint-Marc, Rue du Doyenné 3, 1180 Uccle",
        "opened_at": datetime(2027, 5, 20, 19, 42),
        "closed_at": datetime(2027, 5, 20, 22, 5),
        "chair": "Marc Lambert",
        "secretary": "Gestion Dupont SRL",
        "attendance": ATTENDANCE,
        "quorum": quorum(4, 7, 6_148, 10_000),
        "signatories": ("Françoise Dœuvre-Müller", "Marc Lambert"),
        "ballot_notes": (BallotNote(BallotIssue.REFUSED, 2, REFUSAL_REASONS[Refusal.AFTER_CLOSE]),),
    }
    values.update(changes)
    return Minutes(**values)  # type: ignore[arg-type]


def minutes_text(the_minutes: Minutes) -> str:
    return "\n".join(pages_text(render_minutes(the_minutes)))


def test_the_minutes_show_attendance_and_the_quorum_with_its_rule():
    text = minutes_text(minutes())
    for expected in (
        "Minutes of the ordinary general assembly",
        "Date and time\n20 May 2027 at 19:30",
        "Opened at\n19:42",
        "Chair\nMarc Lambert",
        "Secretary\nGestion Dupont SRL",
        "Jan Peeters\nB1\n 1,200\nrepresented by Marc Lambert",
        "Sofia Rossi\nA1\n 1,850\nremote ballot",
        "Françoise Dœuvre-Müller\nA3, C12\n 998\npresent",
        "4 of 7 owners\n 6,148 / 10,000\n61.48%",
    ):
        assert expected in text
    for sentence in (
        "At the opening, 4 of 7 owners are present or represented, holding 6,148 of 10,000 "
        "quotas (61.48%).",
        "Quorum reached: more than half of the owners are present or represented and they hold "
        "at least half of the quotas (Civil Code, art. 3.87 §5).",
    ):
        assert sentence in flat(text)


def test_each_resolution_gives_its_figures_its_result_and_who_did_not_vote_for():
    text = minutes_text(minutes())
    for expected in (
        "1. Approval of the 2026 accounts",
        "Budgets and accounts: absolute majority (art. 3.88 §1).",
        " 4,948\n 0\n 1,200\n 4,948\n 100.00%",
        "The resolution is adopted.",
        "Voted against: nobody.\nAbstained: Jan Peeters.",
        "2. Renovation of the roof",
        "Majority required: two-thirds majority of the votes cast.",
        " 2,100\n 2,848\n 0\n 4,948\n 42.44%",
        "The resolution is rejected.",
        "Voted against: Françoise Dœuvre-Müller, Sofia Rossi.\nAbstained: nobody.",
        "Did not take part in the vote: Toitures Janssens SRL (the contractor of the works).",
        "3. Waiving the reserve fund for 2027",
        "1 remote ballot in conflict with another of the same owner, not counted: two "
        "different answers.",
        "2 remote ballots refused: signed after the meeting closed.",
    ):
        assert expected in text


def test_a_resolution_never_voted_is_not_called_rejected():
    """Found by hand: the minutes said "The resolution is rejected." of an
    item the meeting never voted on, where the screens said "Not voted"."""
    never = Resolution(1, "Painting the hall", Majority.ABSOLUTE, 0, 0, 0, False, voted=False)
    text = minutes_text(minutes(resolutions=(never,)))
    assert "The resolution was not put to the vote." in text
    assert "rejected" not in text


def test_fractional_votes_are_printed_with_two_decimals():
    text = minutes_text(minutes())
    assert " 4,125.50\n 824.50\n 0\n 4,950\n 83.34%" in text  # 8 251/2 for, 1 649/2 against
    french = minutes_text(minutes("fr"))
    assert " 4 125,50\n 824,50\n 0\n 4 950\n 83,34 %" in french


def test_the_minutes_close_with_signatures_and_deadlines():
    text = minutes_text(minutes())
    for expected in (
        "The chair closes the meeting at 22:05.",
        "Signatures",
        "Chair\nMarc Lambert\nSecretary\nGestion Dupont SRL",
        "Owner present at the end\nFrançoise Dœuvre-Müller\nOwner present at the end\nMarc Lambert",
        "To be sent to the owners by 19 June 2027 (within 30 days, Civil Code, art. 3.87 §10).",
        "until 20 September 2027 (four months, Civil Code, art. 3.92 §3)",
    ):
        assert expected in text


@pytest.mark.parametrize(
    ("the_quorum", "expected"),
    [
        (Quorum(True, QuorumRule.THREE_QUARTERS, 3, 7, 7_600, 10_000), "more than three quarters"),
        (
            Quorum(True, QuorumRule.SECOND_ASSEMBLY, 2, 7, 2_000, 10_000),
            "Second assembly: it deliberates validly whatever the number of owners",
        ),
    ],
)
def test_the_other_quorum_rules(the_quorum: Quorum, expected: str):
    text = flat(minutes_text(minutes(quorum=the_quorum, second_assembly=True)))
    assert "Minutes of the second ordinary general assembly" in text
    assert expected in text


def test_without_quorum_the_minutes_record_that_nothing_was_decided():
    text = minutes_text(minutes(quorum=quorum(2, 7, 2_000, 10_000), resolutions=()))
    assert "The quorum is not reached: the assembly cannot deliberate." in text
    assert "Resolutions" not in text
    with pytest.raises(InputError, match="without quorum decides nothing"):
        minutes(quorum=quorum(2, 7, 2_000, 10_000))


def test_a_written_decision_lists_each_owners_agreement():
    written = minutes(
        kind=MeetingKind.WRITTEN,
        starts=datetime(2027, 9, 1, 9, 0),
        made_on=date(2027, 9, 20),
        resolutions=(Resolution(1, "Painting the hall", Majority.UNANIMITY, 10_000, 0, 0, True),),
        agreements=(
            Agreement("Françoise Dœuvre-Müller", date(2027, 9, 3)),
            Agreement("Jan Peeters", date(2027, 9, 14)),
            Agreement("Marc Lambert", date(2027, 9, 7)),
        ),
        place="",
        quorum=None,
        attendance=(),
        signatories=(),
        ballot_notes=(),
    )
    text = minutes_text(written)
    for expected in (
        "Written decision of the owners",
        "art. 3.87 §4",
        "Proposal sent on 1 September 2027.",
        "Jan Peeters\n 14 September 2027",
        "3 of 3 owners",
        "1. Painting the hall",
        "Majority required: unanimity of all owners.",
        "The resolution is adopted.",
        "Syndic\nGestion Dupont SRL",
        "by 14 October 2027",  # 30 days from the last signature
    ):
        assert expected in text
    for absent in ("Quorum", "Attendance", "The chair closes"):
        assert absent not in text


@pytest.mark.parametrize(
    ("language", "words"),
    [
        ("fr", ("Procès-verbal de l’assemblée générale ordinaire", "20 mai 2027 à 19:30")),
        ("nl", ("Notulen van de gewone algemene vergadering", "20 mei 2027 om 19:30")),
        ("de", ("Protokoll der ordentlichen Generalversammlung", "20. Mai 2027 um 19:30")),
    ],
)
def test_the_minutes_are_written_in_the_assemblys_language(language: str, words: tuple[str, ...]):
    text = minutes_text(minutes(language))
    for expected in words:
        assert expected in text


@pytest.mark.parametrize("language", ["fr", "nl", "de", "en"])
def test_every_word_of_the_minutes_goes_through_the_translations(language: str):
    data = render_minutes(minutes(language), translate=MarkedTranslations)
    text = "\n".join(pages_text(data))
    assert reader(data).metadata.title == f"«[{language}] Minutes of the ordinary general assembly»"
    for message in (
        "Quorum»",
        "The resolution is adopted.»",
        "Voted against: «",
        "2 remote ballots refused: «[",
        "Signatures»",
        "two-thirds majority of the votes cast»",
    ):
        assert f"«[{language}] {message}" in text


def test_the_same_minutes_give_the_same_document():
    first, second = render_minutes(minutes()), render_minutes(minutes())
    assert pages_text(first) == pages_text(second)
    assert first == second


@pytest.mark.parametrize(
    ("make", "words"),
    [
        (lambda: minutes(language="es"), "language"),
        (lambda: minutes(kind=MeetingKind.POLL), "poll decides nothing"),
        (lambda: minutes(quorum=None), "quorum at the opening"),
        (lambda: minutes(chair=""), "chair and the secretary"),
        (lambda: minutes(place=""), "place of the meeting"),
        (lambda: minutes(made_on=date(2027, 5, 19)), "before the meeting"),
        (lambda: minutes(closed_at=datetime(2027, 5, 20, 19, 0)), "closes before it opens"),
        (lambda: minutes(resolutions=resolutions()[:1] * 2), "Resolution 1 appears twice"),
        (lambda: minutes(kind=MeetingKind.WRITTEN), "agreement of every owner"),
        (lambda: Resolution(1, "x", Majority.ABSOLUTE, 1.5, 0, 0, True), "whole or fractional"),
        (lambda: Resolution(1, "x", Majority.ABSOLUTE, -1, 0, 0, True), "whole or fractional"),
        (lambda: Attendee("Jan", ("B1",), 10, Mode.PROXY), "proxy holder of Jan"),
        (lambda: Attendee("Jan", ("B1",), 10, "absent"), "Unknown way of attending"),
        (lambda: BallotNote(BallotIssue.REFUSED, 0, "x"), "at least one ballot"),
        (lambda: BallotNote(BallotIssue.REFUSED, 1, " "), "says why"),
    ],
)
def test_bad_minutes_are_refused_in_words(make, words: str):
    with pytest.raises(InputError, match=words):
        make()
