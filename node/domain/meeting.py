"""What a meeting decided, derived from what was recorded (ARCHITECTURE §8).

Pure functions over plain values: the voter roll fixed at the convocation,
the agenda, the attendance and votes the syndic recorded in the room, and
the remote ballots owners signed on their own devices (already checked
against the members log by the service). Every device that holds the same
records derives the same outcome, byte for byte — the minutes come from
here. Nothing is typed in: owners, quotas and votes are counted from the
roll and the attendance.

Fixed rules for what arrives out of order (ARCHITECTURE §8):

* an owner's vote in the room replaces their remote ballot on that item;
* a remote ballot signed after the meeting closed is refused, and so is one
  from someone who votes for no lot, or for a meeting that allowed none;
* two remote ballots of one owner that differ on an item are a conflict:
  listed, and neither counts until the owner withdraws one or votes in the
  room.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import StrEnum
from fractions import Fraction

from ..i18n import N_
from .assembly import Majority, Quorum, Tally, Vote, quorum, tally_groups


class MeetingKind(StrEnum):
    ORDINARY = "ordinary"
    EXTRAORDINARY = "extraordinary"
    WRITTEN = "written"  # written procedure: all owners, unanimously (art. 3.87 §4)
    POLL = "poll"  # an informal consultation, decides nothing

    @property
    def in_session(self) -> bool:
        """An assembly held in session (opened, with a quorum, then closed)."""
        return self in (MeetingKind.ORDINARY, MeetingKind.EXTRAORDINARY)


class Mode(StrEnum):
    PRESENT = "present"
    PROXY = "proxy"  # represented by a proxy holder
    REMOTE = "remote"  # took part from a distance (a remote ballot, or online)


class Refusal(StrEnum):
    AFTER_CLOSE = "after_close"
    NOT_A_VOTER = "not_a_voter"
    NOT_ALLOWED = "not_allowed"
    BAD_SIGNATURE = "bad_signature"
    UNKNOWN_ITEM = "unknown_item"


REFUSAL_REASONS = {
    Refusal.AFTER_CLOSE: N_("signed after the meeting closed"),
    Refusal.NOT_A_VOTER: N_("the signer votes for no lot of this meeting"),
    Refusal.NOT_ALLOWED: N_("the convocation did not allow remote voting"),
    Refusal.BAD_SIGNATURE: N_("the signature does not verify against the members log"),
    Refusal.UNKNOWN_ITEM: N_("it answers an item that is not on the agenda"),
}


@dataclass(frozen=True)
class RollLot:
    lot_id: str
    number: str
    quota: int
    voter: str  # person id, "" when nobody is designated to vote for the lot


@dataclass(frozen=True)
class Item:
    id: str
    order: int
    title: str
    majority: Majority
    category: str = "ordinary"
    text: str = ""
    excluded: Mapping[str, str] = field(default_factory=dict)  # person -> why they do not vote
    voted_at: datetime | None = None  # when the chair closed the vote in the room
    deferred: str = ""  # why it is not on this agenda (a late request), "" when it is
    answers: str = ""  # polls: "yes_no", "choice", "rating"
    options: tuple[str, ...] = ()  # polls with a choice
    # what the vote was decided on when the chair closed it: {"weights":
    # {owner: votes}, "votes": {owner: vote}, "holder": {owner: who cast it}}
    closed_with: Mapping[str, Mapping[str, object]] | None = None
    # two devices closed the vote, each unaware of the other, on different
    # records (two chairs offline): which one is right needs a person
    closed_twice: bool = False


@dataclass(frozen=True)
class Attendance:
    person: str
    mode: Mode
    holder: str = ""  # proxies: the person id holding it, or "name:<the holder's name>"
    arrived: datetime | None = None
    left: datetime | None = None


@dataclass(frozen=True)
class RemoteBallot:
    id: str
    person: str
    votes: Mapping[str, str]  # item id -> "for" / "against" / "abstain" (polls: the answer)
    signed_at: datetime
    signer: str  # the device (or kiosk) whose key signed it
    valid_signature: bool = True


@dataclass(frozen=True)
class Meeting:
    kind: MeetingKind
    starts: datetime
    roll: Sequence[RollLot]
    items: Sequence[Item]
    attendance: Mapping[str, Attendance] = field(default_factory=dict)
    room_votes: Mapping[tuple[str, str], Vote] = field(default_factory=dict)  # (item, owner)
    ballots: Sequence[RemoteBallot] = ()
    remote_allowed: bool = False
    second_assembly: bool = False
    opened_at: datetime | None = None
    closed_at: datetime | None = None


@dataclass(frozen=True)
class Conflict:
    person: str
    item: str
    ballots: tuple[str, ...]  # the ballot ids that disagree


@dataclass(frozen=True)
class ItemResult:
    item: Item
    tally: Tally | None  # None while nobody voted and for polls
    votes: Mapping[str, Vote]  # owner -> the vote that counts
    source: Mapping[str, str]  # owner -> "room" / "remote"
    holder: Mapping[str, str]  # owner -> who cast it (themselves or their proxy)
    weights: Mapping[str, int]  # owner -> votes (quotas) present or represented
    against: tuple[str, ...]  # owners, for the minutes
    abstained: tuple[str, ...]
    answers: Mapping[str, int] = field(default_factory=dict)  # polls: answer -> heads
    # records that reached the meeting after the item was closed (another
    # device's) would change it: the result shown is the one as closed
    changed_after_closing: bool = False
    closed_twice: bool = False  # see Item.closed_twice: the result shown is one of them


@dataclass(frozen=True)
class Outcome:
    owners: Mapping[str, int]  # voter -> votes (quotas of their lots)
    quotas_total: int
    lots_without_voter: tuple[str, ...]  # lot numbers
    attending: Mapping[str, Attendance]  # at the opening, remote ballots included
    quorum: Quorum | None  # None for a written procedure or a poll
    results: tuple[ItemResult, ...]
    conflicts: tuple[Conflict, ...]
    refused: tuple[tuple[str, Refusal], ...]  # (ballot id, why)
    signatories: tuple[str, ...]  # owners present in person at the end


def owners_of(roll: Sequence[RollLot]) -> dict[str, int]:
    """Each voter's votes: the quotas of the lots they vote for."""
    owners: dict[str, int] = {}
    for lot in roll:
        if lot.voter:
            owners[lot.voter] = owners.get(lot.voter, 0) + lot.quota
    return owners


def _before(moment: datetime | None, limit: datetime | None) -> bool:
    return moment is None or limit is None or moment <= limit


def accepted_ballots(
    meeting: Meeting, owners: Mapping[str, int]
) -> tuple[list[RemoteBallot], list[tuple[str, Refusal]]]:
    """The remote ballots that count, and the others with why (in id order)."""
    accepted, refused = [], []
    items = {item.id for item in meeting.items if not item.deferred}
    remote_ok = meeting.remote_allowed or meeting.kind in (MeetingKind.WRITTEN, MeetingKind.POLL)
    for ballot in sorted(meeting.ballots, key=lambda b: b.id):
        if not ballot.valid_signature:
            refused.append((ballot.id, Refusal.BAD_SIGNATURE))
        elif ballot.person not in owners:
            refused.append((ballot.id, Refusal.NOT_A_VOTER))
        elif not remote_ok:
            refused.append((ballot.id, Refusal.NOT_ALLOWED))
        elif meeting.closed_at is not None and ballot.signed_at > meeting.closed_at:
            refused.append((ballot.id, Refusal.AFTER_CLOSE))
        elif not set(ballot.votes) <= items:
            refused.append((ballot.id, Refusal.UNKNOWN_ITEM))
        else:
            accepted.append(ballot)
    return accepted, refused


def _remote_votes(
    ballots: Sequence[RemoteBallot],
) -> tuple[dict[tuple[str, str], str], list[Conflict], dict[str, datetime]]:
    """Per (item, owner) the remote answer, the conflicts, and when each owner
    first signed (for the quorum at the opening)."""
    seen: dict[tuple[str, str], dict[str, list[str]]] = {}
    first: dict[str, datetime] = {}
    for ballot in ballots:
        first[ballot.person] = min(first.get(ballot.person, ballot.signed_at), ballot.signed_at)
        for item, answer in ballot.votes.items():
            seen.setdefault((item, ballot.person), {}).setdefault(answer, []).append(ballot.id)
    votes, conflicts = {}, []
    for (item, person), answers in sorted(seen.items()):
        if len(answers) == 1:
            votes[(item, person)] = next(iter(answers))
        else:
            ids = tuple(sorted(i for group in answers.values() for i in group))
            conflicts.append(Conflict(person, item, ids))
    return votes, conflicts, first


CHANGED_AFTER_CLOSING = N_(
    "Records added after this vote was closed (on another device) would change its result; "
    "the result as closed stands."
)
CLOSED_TWICE = N_(
    "This vote was closed on two devices, each unaware of the other, with different votes "
    "recorded: check the votes and close it again (the result shown is one of the two)."
)


def _holder(attendance: Attendance | None, owner: str) -> str:
    if attendance is not None and attendance.mode is Mode.PROXY and attendance.holder:
        return attendance.holder
    return owner


def derive(meeting: Meeting) -> Outcome:
    """Everything the minutes and the session screen show."""
    owners = owners_of(meeting.roll)
    quotas_total = sum(lot.quota for lot in meeting.roll)
    lots_without_voter = tuple(sorted(lot.number for lot in meeting.roll if not lot.voter))
    ballots, refused = accepted_ballots(meeting, owners)
    remote, conflicts, first_signed = _remote_votes(ballots)
    deliberates = meeting.kind.in_session

    attending: dict[str, Attendance] = {}
    for person, record in meeting.attendance.items():
        if person in owners and _before(record.arrived, meeting.opened_at):
            attending[person] = record
    for person, signed in first_signed.items():
        if person not in attending and _before(signed, meeting.opened_at):
            attending[person] = Attendance(person, Mode.REMOTE)
    the_quorum = None
    if deliberates:
        the_quorum = quorum(
            len(attending),
            len(owners),
            sum(owners[p] for p in attending),
            quotas_total,
            meeting.second_assembly,
        )

    results = []
    for item in sorted(meeting.items, key=lambda i: (i.order, i.id)):
        if item.deferred:
            continue
        if meeting.kind is MeetingKind.POLL:
            results.append(_poll_result(item, remote))
            continue
        results.append(_item_result(meeting, item, owners, remote))
    if deliberates and (
        meeting.opened_at is None or (the_quorum is not None and not the_quorum.reached)
    ):
        # Nothing is decided before the meeting is held, nor by a meeting
        # without its quorum (art. 3.87 §5), whatever remote ballots say
        # (found by hand: "adopted" before the opening, and the register
        # listing the remote ballots' decisions of a meeting with no quorum).
        results = [
            replace(r, tally=replace(r.tally, passed=False)) if r.tally is not None else r
            for r in results
        ]

    signatories = ()
    if deliberates:
        signatories = tuple(
            sorted(
                p
                for p, record in meeting.attendance.items()
                if p in owners
                and record.mode is Mode.PRESENT
                and (record.left is None or not _before(record.left, meeting.closed_at))
            )
        )
    return Outcome(
        owners,
        quotas_total,
        lots_without_voter,
        attending,
        the_quorum,
        tuple(results),
        tuple(conflicts),
        tuple(refused),
        signatories,
    )


def _item_result(
    meeting: Meeting, item: Item, owners: Mapping[str, int], remote: Mapping[tuple[str, str], str]
) -> ItemResult:
    votes: dict[str, Vote] = {}
    source: dict[str, str] = {}
    for owner in owners:
        if owner in item.excluded:
            continue
        room = meeting.room_votes.get((item.id, owner))
        record = meeting.attendance.get(owner)
        in_room = record is not None and record.mode in (Mode.PRESENT, Mode.PROXY)
        if room is not None and in_room:
            votes[owner], source[owner] = room, "room"
        elif (item.id, owner) in remote:
            votes[owner], source[owner] = Vote(remote[(item.id, owner)]), "remote"
    weights = {}
    for owner in owners:
        if owner in item.excluded:
            continue
        record = meeting.attendance.get(owner)
        stayed = record is not None and (
            record.mode is not Mode.REMOTE
            and _before(record.arrived, item.voted_at)
            and (record.left is None or item.voted_at is None or record.left > item.voted_at)
        )
        if stayed or owner in votes:
            weights[owner] = owners[owner]
    holder = {o: _holder(meeting.attendance.get(o), o) for o in weights}
    changed = False
    frozen = item.closed_with
    if frozen is not None and meeting.kind is not MeetingKind.WRITTEN:
        # The decision stands as the chair closed it (found by hand: an
        # arrival recorded on another device turned "rejected" into "adopted").
        then = (
            {o: int(w) for o, w in frozen.get("weights", {}).items()},  # type: ignore[call-overload]
            {o: Vote(v) for o, v in frozen.get("votes", {}).items()},
            {o: str(h) for o, h in frozen.get("holder", {}).items()},
        )
        changed = then != (weights, votes, holder)
        weights, votes, holder = then
    if meeting.kind is MeetingKind.WRITTEN:  # every owner must agree in writing
        result = tally_groups(
            votes, dict(owners), {o: o for o in owners}, Majority.UNANIMITY, set(owners)
        )
    elif votes:
        result = tally_groups(votes, weights, holder, item.majority, set(owners))
    else:
        result = None
    against = tuple(sorted(o for o, v in votes.items() if v is Vote.AGAINST))
    abstained = tuple(sorted(o for o, v in votes.items() if v is Vote.ABSTAIN))
    return ItemResult(
        item, result, votes, source, holder, weights, against, abstained, {}, changed,
        item.closed_twice,
    )  # fmt: skip


def _poll_result(item: Item, remote: Mapping[tuple[str, str], str]) -> ItemResult:
    answers: dict[str, int] = {}
    for (item_id, _owner), answer in sorted(remote.items()):
        if item_id == item.id:
            answers[answer] = answers.get(answer, 0) + 1
    return ItemResult(item, None, {}, {}, {}, {}, (), (), answers)


def rating_average(answers: Mapping[str, int]) -> Fraction | None:
    """The mean of a rating poll's answers ("1" … "5"), ``None`` without any."""
    count = sum(answers.values())
    if not count:
        return None
    return Fraction(sum(int(a) * n for a, n in answers.items()), count)
