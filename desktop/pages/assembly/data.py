"""What the assembly screens show, read on the worker as plain values.

The worker owns the session and its pycrdt documents (ARCHITECTURE §12);
these functions run there and hand the GUI frozen values only: the node's
own :class:`~node.services.assembly.MeetingInfo`, the meeting's
:class:`~node.domain.meeting.Outcome` derived by the node, the attendance
and the ballots as the node reads them. The screens never count a vote:
the tally, the quorum and every figure come from the outcome.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from fractions import Fraction

from node.documents import assembly_doc, directory_doc
from node.domain.assembly import DECISION_MAJORITIES, Majority, Quorum, QuorumRule, Vote
from node.domain.meeting import (
    Attendance,
    Conflict,
    Item,
    ItemResult,
    MeetingKind,
    Mode,
    Outcome,
    owners_of,
)
from node.i18n import N_, _, current_language
from node.identity import device_identity
from node.services.assembly import BallotRecord, MeetingInfo, adoc_roll
from node.session import Session
from shared.protocol import Role, may_write

from ...inbox import Resident, read_residents
from ...labels import fmt_date, fmt_int, fmt_ratio, natural_key
from ...labels import fmt_moment as local_moment

ANY_MEETING = "assembly/" + "0" * 26  # write rights depend on the kind of document only

# -- words -------------------------------------------------------------------------------

KIND_LABELS = {
    MeetingKind.ORDINARY: N_("Ordinary general assembly"),
    MeetingKind.EXTRAORDINARY: N_("Extraordinary general assembly"),
    MeetingKind.WRITTEN: N_("Written procedure"),
    MeetingKind.POLL: N_("Poll"),
}

STATUS_LABELS = {
    "draft": N_("In preparation"),
    "convened": N_("Convened"),
    "open": N_("In session"),
    "closed": N_("Closed"),
}

MAJORITY_LABELS = {
    Majority.ABSOLUTE: N_("Absolute majority"),
    Majority.TWO_THIRDS: N_("Two-thirds majority"),
    Majority.FOUR_FIFTHS: N_("Four-fifths majority"),
    Majority.UNANIMITY: N_("Unanimity of all owners"),
}

CATEGORY_LABELS = {
    "ordinary": N_("Ordinary decision"),
    "syndic": N_("Appointing or dismissing the syndic"),
    "budget_accounts": N_("Budgets and accounts"),
    "auditor": N_("Auditor of accounts"),
    "council": N_("Members of the council"),
    "required_works": N_("Works required by law, conservatory works"),
    "common_works": N_("Works on common parts"),
    "bylaws_use": N_("By-laws on the use of common parts"),
    "quotes_threshold": N_("Threshold for competitive quotes"),
    "statutes": N_("Other statute changes, charge allocation"),
    "change_of_use": N_("Change of use of the building"),
    "property": N_("Acquiring or disposing of common property"),
    "reserve_waiver": N_("Waiving the reserve fund"),
    "reconstruction": N_("Reconstruction, demolition, dividing or merging lots"),
    "quotas": N_("Changing the quotas"),
}

VOTE_LABELS = {Vote.FOR: N_("For"), Vote.AGAINST: N_("Against"), Vote.ABSTAIN: N_("Abstention")}

CHANNEL_LABELS = {
    "email": N_("E-mail (agreed in writing)"),
    "registered_mail": N_("Registered mail"),
}

ANSWER_KINDS = {"yes_no": N_("Yes or no"), "choice": N_("A choice"), "rating": N_("A rating 1–5")}

POLL_ANSWER_LABELS = {"yes": N_("Yes"), "no": N_("No")}

QUORUM_VERDICTS = {
    QuorumRule.HEADS_AND_HALF: N_(
        "Quorum reached: more than half of the owners, holding at least half of the quotas."
    ),
    QuorumRule.THREE_QUARTERS: N_("Quorum reached: more than three quarters of the quotas."),
    QuorumRule.SECOND_ASSEMBLY: N_("Second assembly: it deliberates whatever the attendance."),
    None: N_(
        "Quorum not reached: the assembly cannot deliberate. Schedule a second "
        "assembly at least 15 days later."
    ),
}


def kind_label(kind: MeetingKind) -> str:
    return _(KIND_LABELS[kind])


def status_label(info: MeetingInfo) -> str:
    return _(STATUS_LABELS[info.status])


def majority_label(majority: Majority) -> str:
    return _(MAJORITY_LABELS[majority])


def category_label(category: str) -> str:
    return _(CATEGORY_LABELS[category]) if category in CATEGORY_LABELS else category


def category_reason(category: str) -> str:
    """Why the category needs its majority, with the article (DECISION_MAJORITIES)."""
    return _(DECISION_MAJORITIES[category][1]) if category in DECISION_MAJORITIES else ""


def vote_label(vote: Vote | None) -> str:
    return _(VOTE_LABELS[vote]) if vote is not None else "—"


def answer_label(answer: str) -> str:
    return _(POLL_ANSWER_LABELS[answer]) if answer in POLL_ANSWER_LABELS else answer


def answer_text(answer: str) -> str:
    """A ballot's answer in words: a vote, yes or no, or a poll's own option."""
    try:
        return vote_label(Vote(answer))
    except ValueError:
        return answer_label(answer)


def fmt_votes(value: Fraction | int) -> str:
    """Votes (quotas) as a figure; a capped proxy holder's owners may count
    in fractions, shown with two decimals."""
    value = Fraction(value)
    if value.denominator == 1:
        return fmt_int(int(value))
    whole, cents = divmod(round(value * 100), 100)
    separator = "." if current_language() == "en" else ","
    return f"{fmt_int(whole)}{separator}{cents:02d}"


def fmt_share(share: Fraction | None) -> str:
    return "—" if share is None else fmt_ratio(share.numerator, share.denominator)


def fmt_moment(moment: datetime | None) -> str:
    """An instant the node stored in UTC, in this computer's local time."""
    return local_moment(moment.astimezone()) if moment else ""


def fmt_clock(moment: datetime | None) -> str:
    return moment.astimezone().strftime("%H:%M") if moment else ""


def fmt_starts(info: MeetingInfo) -> str:
    return local_moment(info.starts)


def quorum_verdict(quorum: Quorum) -> str:
    return _(QUORUM_VERDICTS[quorum.rule])


def quorum_figures(quorum: Quorum) -> str:
    return _(
        "{owners} of {owners_total} owners present or represented, holding {quotas} of "
        "{quotas_total} quotas."
    ).format(
        owners=quorum.owners_present,
        owners_total=quorum.owners_total,
        quotas=fmt_int(quorum.quotas_present),
        quotas_total=fmt_int(quorum.quotas_total),
    )


def meeting_label(info: MeetingInfo) -> str:
    """A meeting in a list: its day, its title and where it stands."""
    return f"{fmt_date(info.starts.date())} · {info.title} ({status_label(info)})"


# -- who this device is ----------------------------------------------------------------------


@dataclass(frozen=True)
class Voter:
    """An owner who votes for lots of the building, from the registry."""

    id: str
    name: str
    votes: int


@dataclass(frozen=True)
class Access:
    """What this device may do with the assemblies."""

    role: str  # "" on the building's own profile, never synced: the syndic's
    writable: bool  # prepares and runs meetings (the syndic's device)
    reason: str  # why not, in words ("" when writable)
    person: str  # the owner this device signs ballots for ("" none)
    device: str  # this device's id (to say which ballot was signed here)
    residents: tuple[Resident, ...] = ()  # on the building's shared computer
    voters: tuple[Voter, ...] = ()  # from the registry, on the syndic's device
    quota_total: int = 0

    @property
    def kiosk(self) -> bool:
        return self.role == Role.KIOSK.value

    @property
    def follows_sessions(self) -> bool:
        """The session screen: the syndic runs it; the council watches it."""
        return self.writable or self.role == Role.COUNCIL.value

    @property
    def casts_ballots(self) -> bool:
        return self.kiosk or bool(self.person)


def read_access(session: Session) -> Access:
    store = session.profile.store
    role = store.get_meta("role") or ""
    writable = not role or may_write(Role(role), ANY_MEETING)
    reason = (
        ""
        if writable
        else _("Only the syndic's device prepares and runs the assemblies; this one shows them.")
    )
    voters: tuple[Voter, ...] = ()
    total = 0
    if writable and session.can_read("registry"):
        registry = session.registry.read()
        content = directory_doc.derive(registry)
        names = {p: f["name"] for p, f in content["persons"].items()}
        voters = tuple(
            sorted(
                (
                    Voter(p, names.get(p, p), votes)
                    for p, votes in owners_of(adoc_roll(content)).items()
                ),
                key=lambda v: v.name.casefold(),
            )
        )
        total = sum(int(lot["quota"]) for lot in content["lots"].values())
    return Access(
        role,
        writable,
        reason,
        store.get_meta("person") or "",
        device_identity(store).device_id,
        read_residents(session) if role == Role.KIOSK.value else (),
        voters,
        total,
    )


# -- one meeting ----------------------------------------------------------------------------


@dataclass(frozen=True)
class MeetingData:
    """Everything the screens show of one meeting, read at one moment."""

    info: MeetingInfo
    items: tuple[Item, ...]  # the whole agenda, deferred requests included, in order
    requests: Mapping[str, tuple[str, str]]  # item -> (requested by, requested on)
    names: Mapping[str, str]  # person -> name, from the meeting's roll
    lots: Mapping[str, tuple[str, ...]]  # owner -> the lot numbers they vote for
    outcome: Outcome
    attendance: Mapping[str, Attendance]
    ballots: tuple[BallotRecord, ...]
    recipients: Mapping[str, Mapping[str, str]]  # owner -> {channel, on}
    syndic: str  # the syndic's person id, "" when the syndic is no owner
    read_only: str  # why this meeting cannot be changed here ("" when it can)
    refusals: Mapping[str, str]  # refused ballot id -> why, in words

    @property
    def id(self) -> str:
        return self.info.id

    def name(self, person: str) -> str:
        if person.startswith("name:"):
            return person[5:]
        return self.names.get(person) or person[-6:]

    def agenda(self) -> tuple[Item, ...]:
        """The items the meeting decides on (not the deferred requests)."""
        return tuple(i for i in self.items if not i.deferred)

    def number(self, item: str) -> int:
        return next((n for n, i in enumerate(self.agenda(), start=1) if i.id == item), 0)

    def result(self, item: str) -> ItemResult | None:
        return next((r for r in self.outcome.results if r.item.id == item), None)

    def conflicts(self, item: str | None = None, person: str | None = None) -> list[Conflict]:
        return [
            c
            for c in self.outcome.conflicts
            if (item is None or c.item == item) and (person is None or c.person == person)
        ]

    def owners(self) -> list[str]:
        """The roll's owners, by name."""
        return sorted(self.outcome.owners, key=lambda p: (self.name(p).casefold(), p))

    def lots_text(self, person: str) -> str:
        return ", ".join(sorted(self.lots.get(person, ()), key=natural_key))

    @property
    def deliberates(self) -> bool:
        return self.info.kind.in_session

    @property
    def remote_voting(self) -> bool:
        return self.info.remote_allowed or not self.deliberates

    def in_room(self, person: str) -> bool:
        """Present or represented now (who can vote in the room)."""
        record = self.attendance.get(person)
        return record is not None and record.mode is not Mode.REMOTE and record.left is None


def read_meeting(session: Session, meeting: str) -> MeetingData:
    service = session.assembly
    info = service.info(meeting)
    live = session.document(f"assembly/{meeting}")
    doc = live.doc
    extra = assembly_doc.item_extra(doc)
    roll = assembly_doc.read_roll(doc)
    lots: dict[str, list[str]] = {}
    for lot in roll:
        if lot.voter:
            lots.setdefault(lot.voter, []).append(lot.number)
    outcome = service.outcome(meeting)
    refusals = {ballot: service.refusal_reason(why.value) for ballot, why in outcome.refused}
    return MeetingData(
        info=info,
        items=assembly_doc.read_items(doc),
        requests={
            i: (str(f.get("requested_by") or ""), str(f.get("requested_on") or ""))
            for i, f in extra.items()
        },
        names=service.names(meeting),
        lots={p: tuple(n) for p, n in lots.items()},
        outcome=outcome,
        attendance=service.attendance(meeting),
        ballots=tuple(service.ballots(meeting)),
        recipients=service.recipients(meeting),
        syndic=str(assembly_doc.meta(doc).get("syndic_person") or ""),
        read_only=live.read_only_reason or "",
        refusals=refusals,
    )


@dataclass(frozen=True)
class Snapshot:
    """The assemblies as one worker job read them."""

    access: Access
    meetings: tuple[MeetingInfo, ...]
    data: MeetingData | None  # the chosen meeting's, None when there is none


def read_snapshot(session: Session, meeting: str | None) -> Snapshot:
    meetings = tuple(session.assembly.meetings())
    ids = [m.id for m in meetings]
    if meeting not in ids:
        meeting = ids[0] if ids else None
    data = read_meeting(session, meeting) if meeting else None
    return Snapshot(read_access(session), meetings, data)
