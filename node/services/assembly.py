"""General assemblies: from convocation to minutes (issue 5, ARCHITECTURE §8).

The syndic prepares a meeting in ``assembly/<meeting>``; owners vote
remotely beforehand in their own ``ballots/<meeting>/<person>`` documents,
signed with their key (decision 0002); on the day the syndic records
attendance, proxies and votes on a laptop that may have no network. Every
count — owners, quotas, votes — comes from the voter roll (fixed from the
registry, lot by lot, until the meeting opens) and the recorded attendance;
:func:`node.domain.meeting.derive` turns the records into the outcome, the
same on every device once they hold the same records.
"""

from __future__ import annotations

import base64
import dataclasses
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from shared.ids import new_ulid

from ..documents import assembly_doc as adoc
from ..documents import directory_doc
from ..documents.live import LiveDocument
from ..domain import assembly as rules
from ..domain.assembly import DECISION_MAJORITIES, Majority, ProxyRefusal, Quorum, Vote
from ..domain.meeting import (
    REFUSAL_REASONS,
    Attendance,
    Meeting,
    MeetingKind,
    Mode,
    Outcome,
    RemoteBallot,
    derive,
    owners_of,
)
from ..errors import InputError, NotFoundError, ProfileError
from ..i18n import _, format_day, format_moment
from .registry import Change
from .signing import Verifier, VerifierCache, signer

if TYPE_CHECKING:
    from ..session import Session

POLL_ANSWERS = ("yes_no", "choice", "rating")
RATING_SCALE = ("1", "2", "3", "4", "5")


def now() -> datetime:
    return datetime.now(UTC)


def _utc(moment: datetime | None) -> datetime:
    """An instant in UTC; a naive one is read as this computer's local time."""
    moment = moment or now()
    return moment.astimezone(UTC)


EARLY_OPENING = timedelta(minutes=10)  # opened earlier than this before the time: said


def _iso(moment: datetime | None) -> str:
    """An instant as stored: ISO 8601 in UTC; ``None`` is now."""
    return _utc(moment).isoformat()


@dataclass(frozen=True)
class MeetingInfo:
    id: str
    kind: MeetingKind
    title: str
    starts: datetime  # local time of the building
    place: str
    language: str
    remote_allowed: bool
    remote_terms: str
    remote_until: datetime | None
    period_start: date | None
    second_of: str
    first_date: date | None
    request: dict[str, Any] | None
    convened_on: date | None
    opened_at: datetime | None
    closed_at: datetime | None
    chair: str
    secretary: str
    distributed_on: date | None
    anonymous: bool = False  # polls: nobody's answer is shown, only the counts

    @property
    def status(self) -> str:
        if self.closed_at is not None:
            return "closed"
        if self.opened_at is not None:
            return "open"
        if self.convened_on is not None:
            return "convened"
        return "draft"


@dataclass(frozen=True)
class ConvocationCheck:
    sent_on: date
    due: date  # the last day it could be sent (15 days before)
    in_time: bool
    recipients: dict[str, str]  # person -> "email" / "registered_mail"


@dataclass(frozen=True)
class BallotRecord:
    id: str
    person: str
    votes: dict[str, str]
    signed_at: datetime
    signer: str
    valid: bool


def _date(text: Any) -> date | None:
    return date.fromisoformat(text) if isinstance(text, str) and text else None


def _moment(text: Any) -> datetime | None:
    return datetime.fromisoformat(text) if isinstance(text, str) and text else None


class AssemblyService:
    def __init__(self, session: Session) -> None:
        self._session = session
        self._verifiers = VerifierCache(session)  # the members log replayed once per change

    # -- documents --------------------------------------------------------------------------

    def _store(self):  # type: ignore[no-untyped-def]
        return self._session.profile.store

    def meetings(self) -> list[MeetingInfo]:
        """Every meeting this device holds, the most recent first."""
        infos = []
        for ref in self._store().documents():
            if ref.building_id == self._session.building_id and ref.doc_id.startswith("assembly/"):
                info = self._info(ref.doc_id.split("/", 1)[1])
                if info is not None:
                    infos.append(info)
        return sorted(infos, key=lambda m: (m.starts, m.id), reverse=True)

    def forget_name(self, person_id: str) -> list[str]:
        """GDPR art. 17: take an erased person's name out of every meeting's
        copy of the roll's names (what the minutes print for them becomes
        their opaque id; attendance and votes, which the minutes must keep,
        stay under that id). Returns the documents changed."""
        changed = []
        for meeting in self.meetings():
            live = self._live(meeting.id)
            if person_id in adoc.records(live.doc, "names"):
                with live.edit() as doc:
                    adoc.delete_record(doc, "names", person_id)
                changed.append(f"assembly/{meeting.id}")
        return changed

    def _now(self) -> datetime:
        """The time by the relay's clock when this device knows how far its
        own is off (found by hand: a device whose clock was behind could
        sign a ballot after the remote-voting deadline and have it counted)."""
        return self._session.now()

    def _live(self, meeting: str) -> LiveDocument:
        doc_id = f"assembly/{meeting}"
        if self._store().document(self._session.building_id, doc_id, create=False) is None:
            raise NotFoundError(_("There is no meeting {id}.").format(id=meeting))
        return self._session.document(doc_id)

    def _info(self, meeting: str) -> MeetingInfo | None:
        data = adoc.meta(self._live(meeting).doc)
        if "kind" not in data:
            return None
        return MeetingInfo(
            meeting,
            MeetingKind(data["kind"]),
            str(data.get("title", "")),
            datetime.fromisoformat(data["starts"]),
            str(data.get("place", "")),
            str(data.get("language", "fr")),
            bool(data.get("remote_allowed", False)),
            str(data.get("remote_terms", "")),
            _moment(data.get("remote_until")),
            _date(data.get("period_start")),
            str(data.get("second_of", "")),
            _date(data.get("first_date")),
            data.get("request") or None,
            _date(data.get("convened_on")),
            _moment(data.get("opened_at")),
            _moment(data.get("closed_at")),
            str(data.get("chair", "")),
            str(data.get("secretary", "")),
            _date(data.get("distributed_on")),
            bool(data.get("anonymous", False)),
        )

    def info(self, meeting: str) -> MeetingInfo:
        info = self._info(meeting)
        if info is None:
            raise NotFoundError(_("There is no meeting {id}.").format(id=meeting))
        return info

    def find(self, ref: str) -> str:
        """A meeting id from its id or the start of it (as the CLI shows it)."""
        ids = [m.id for m in self.meetings()]
        if ref in ids:
            return ref
        matches = [i for i in ids if i.startswith(ref.upper())]
        if len(matches) == 1:
            return matches[0]
        if not matches:
            raise NotFoundError(_("There is no meeting {id}.").format(id=ref))
        raise InputError(_("{id!r} names several meetings; give more of the id.").format(id=ref))

    # -- preparation ----------------------------------------------------------------------

    def create(
        self,
        kind: MeetingKind | str,
        title: str,
        starts: datetime,
        place: str,
        language: str = "fr",
        remote_allowed: bool = False,
        remote_terms: str = "",
        remote_until: datetime | None = None,
        period_start: date | None = None,
        request: Mapping[str, Any] | None = None,
        anonymous: bool = False,
        _second_of: tuple[str, date] | None = None,
    ) -> str:
        """A new meeting; its voter roll is taken from the registry now and
        again until it opens. ``request``: an extraordinary assembly asked
        by owners (``{"by": [person ids], "on": "YYYY-MM-DD"}``), checked
        against the 1/5 of the quotas (art. 3.87 §2)."""
        kind = MeetingKind(kind)
        if not title.strip():
            raise InputError(_("A meeting needs a title."))
        if kind.in_session and not place.strip():
            raise InputError(_("A meeting needs a place."))
        if language not in ("fr", "nl", "de", "en"):
            raise InputError(_("{lang!r} is not a language of KoproGo.").format(lang=language))
        if remote_terms and not remote_allowed:
            raise InputError(_("Remote participation terms are given but remote voting is off."))
        if anonymous and kind is not MeetingKind.POLL:
            raise InputError(_("Only a poll is anonymous: the minutes name who voted against."))
        request_data = None
        if request is not None:
            request_data = self._check_request(kind, request)
        meeting = new_ulid()
        registry = self._session.registry.read()
        if registry.association is None:
            raise ProfileError(_("This profile holds no building yet."))
        live = self._session.document(f"assembly/{meeting}")
        with live.edit() as doc:
            adoc.set_meta(
                doc,
                kind=kind.value,
                title=title.strip(),
                starts=starts.replace(tzinfo=None).isoformat(timespec="minutes"),
                place=place.strip(),
                language=language,
                remote_allowed=remote_allowed,
                anonymous=anonymous or None,
                remote_terms=remote_terms.strip() or None,
                remote_until=_iso(remote_until) if remote_until else None,
                period_start=period_start.isoformat() if period_start else None,
                request=request_data,
                second_of=_second_of[0] if _second_of else None,
                first_date=_second_of[1].isoformat() if _second_of else None,
                syndic_person=self._store().get_meta("person") or None,
            )
            self._write_roll(doc)
        live.clear_undo()
        return meeting

    def _check_request(self, kind: MeetingKind, request: Mapping[str, Any]) -> dict[str, Any]:
        if kind is not MeetingKind.EXTRAORDINARY:
            raise InputError(_("Only an extraordinary assembly is convened at owners' request."))
        by = sorted(set(request.get("by", [])))
        on = request.get("on")
        if not by or not on:
            raise InputError(_("Name the owners who asked and the day they asked."))
        roll = directory_doc.derive(self._session.registry.read())
        owners = owners_of(adoc_roll(roll))
        unknown = [p for p in by if p not in owners]
        if unknown:
            raise InputError(_("{who} votes for no lot.").format(who=", ".join(unknown)))
        quotas = sum(owners[p] for p in by)
        total = sum(int(lot["quota"]) for lot in roll["lots"].values())
        valid = rules.extraordinary_request_valid(quotas, total)
        requested_on = date.fromisoformat(str(on))
        return {
            "by": by,
            "on": requested_on.isoformat(),
            "quotas": quotas,
            "total": total,
            "valid": valid,
            "convene_by": rules.extraordinary_convene_by(requested_on).isoformat(),
        }

    def _write_roll(self, doc: Any) -> None:
        content = directory_doc.derive(self._session.registry.read())
        roll = adoc.root(doc, "roll")
        for lot_id in [lot for lot in roll if lot not in content["lots"]]:
            del roll[lot_id]
        for lot_id, lot in content["lots"].items():
            adoc.put_record(
                doc,
                "roll",
                lot_id,
                {"number": lot["number"], "quota": lot["quota"], "voter": lot["voter"]},
            )
        names = {p: f["name"] for p, f in content["persons"].items()}
        for person, name in names.items():
            adoc.put_record(doc, "names", person, {"name": name})

    def refresh_roll(self, meeting: str) -> Change:
        """Take the voter roll from the registry again (until the meeting opens)."""
        info = self.info(meeting)
        self._not_opened(info)
        with self._live(meeting).edit() as doc:
            self._write_roll(doc)
        return Change.of("roll")

    def _not_opened(self, info: MeetingInfo) -> None:
        if info.opened_at is not None:
            raise InputError(_("The meeting has opened: its roll and agenda no longer change."))

    def add_item(
        self,
        meeting: str,
        title: str,
        category: str = "ordinary",
        text: str = "",
        requested_by: str = "",
        requested_on: date | None = None,
        answers: str = "",
        options: Iterable[str] = (),
    ) -> str:
        """An agenda item with the majority its category needs (art. 3.88).
        A request by owners or the council (``requested_by``) that arrives
        later than three weeks before the 15-day period of an ordinary
        assembly is kept, marked for the next assembly (art. 3.87 §3)."""
        info = self.info(meeting)
        self._not_opened(info)
        if not title.strip():
            raise InputError(_("An agenda item needs a title."))
        deferred = ""
        if info.kind is MeetingKind.POLL:
            if answers not in POLL_ANSWERS:
                raise InputError(_("A poll question is answered yes/no, by a choice or a rating."))
            options = tuple(o.strip() for o in options if o.strip())
            if answers == "choice" and len(options) < 2:
                raise InputError(_("A multiple-choice question needs at least two options."))
            majority = Majority.ABSOLUTE
            category = "poll"
        else:
            if category not in DECISION_MAJORITIES:
                raise InputError(
                    _("{category!r} is not a decision category; choose one of: {known}.").format(
                        category=category, known=", ".join(DECISION_MAJORITIES)
                    )
                )
            majority = DECISION_MAJORITIES[category][0]
            if info.convened_on is not None and not requested_by:
                raise InputError(
                    _(
                        "The convocation has been sent: no decision can be taken on an item "
                        "that is not on its agenda (art. 3.87 §3)."
                    )
                )
            if requested_by:
                deferred = self._late_request(info, requested_on)
        live = self._live(meeting)
        order = 1 + max((i.order for i in adoc.read_items(live.doc)), default=0)
        item = new_ulid()
        with live.edit() as doc:
            adoc.put_record(
                doc,
                "items",
                item,
                {
                    "order": order,
                    "title": title.strip(),
                    "text": text.strip() or None,
                    "category": category,
                    "majority": majority.value,
                    "requested_by": requested_by or None,
                    "requested_on": requested_on.isoformat() if requested_on else None,
                    "deferred": deferred or None,
                    "answers": answers or None,
                    "options": list(options) if options else None,
                },
            )
        return item

    def _late_request(self, info: MeetingInfo, requested_on: date | None) -> str:
        if requested_on is None:
            raise InputError(_("A requested item needs the day the request arrived."))
        if info.convened_on is not None:
            return _("arrived after the convocation was sent: for the next assembly")
        if info.kind is MeetingKind.ORDINARY and info.period_start is not None:
            deadline = rules.agenda_request_deadline(info.period_start)
            if requested_on > deadline:
                return _(
                    "arrived after {deadline}, three weeks before the assembly's period: "
                    "for the next assembly (art. 3.87 §3)"
                ).format(deadline=format_day(deadline))
        return ""

    def remove_item(self, meeting: str, item: str) -> Change:
        info = self.info(meeting)
        self._not_opened(info)
        if info.convened_on is not None:
            raise InputError(_("The convocation has been sent: its agenda stays as it was sent."))
        with self._live(meeting).edit() as doc:
            if not adoc.delete_record(doc, "items", self._item(meeting, item)):
                raise NotFoundError(_("There is no agenda item {id}.").format(id=item))
        return Change.of("items")

    def _item(self, meeting: str, ref: str) -> str:
        """An item id from its id or its number on the agenda (1, 2, …)."""
        items = adoc.read_items(self._live(meeting).doc)
        if any(i.id == ref for i in items):
            return ref
        if ref.isdigit():
            listed = [i for i in items if not i.deferred]
            if 1 <= int(ref) <= len(listed):
                return listed[int(ref) - 1].id
        raise NotFoundError(_("There is no agenda item {id}.").format(id=ref))

    def exclude(self, meeting: str, item: str, person: str, reason: str) -> Change:
        """Someone who must not vote on an item (e.g. a person mandated by the
        association, on their own mission — art. 3.87 §6), with the reason."""
        if not reason.strip():
            raise InputError(_("Say why this owner does not vote on this item."))
        item = self._item(meeting, item)
        live = self._live(meeting)
        if person not in owners_of(adoc.read_roll(live.doc)):
            raise InputError(_("{who} votes for no lot.").format(who=self.name(meeting, person)))
        excluded = dict(next(i for i in adoc.read_items(live.doc) if i.id == item).excluded)
        excluded[person] = reason.strip()
        with live.edit() as doc:
            adoc.put_record(doc, "items", item, {"excluded": excluded})
            adoc.set_vote(doc, item, person, None)
        return Change.of("items")

    # -- convocation ------------------------------------------------------------------------

    def convene(self, meeting: str, sent_on: date) -> ConvocationCheck:
        """Record that the convocation was sent on ``sent_on`` to every owner:
        by e-mail to those who agreed to it in writing, by registered mail to
        the others (art. 3.87 §3). The roll is fixed from the registry again.
        Returns whether it left at least 15 days before, and if not the day
        it should have been sent."""
        info = self.info(meeting)
        self._not_opened(info)
        if not info.kind.in_session:
            raise InputError(_("Only an assembly is convened."))
        live = self._live(meeting)
        if not [i for i in adoc.read_items(live.doc) if not i.deferred]:
            raise InputError(_("The agenda is empty: add its items before convening."))
        registry = self._session.registry.read()
        with live.edit() as doc:
            self._write_roll(doc)
        recipients = {}
        for owner in owners_of(adoc.read_roll(live.doc)):
            person = registry.person(owner)
            by_email = person is not None and person.email_consent and bool(person.email)
            recipients[owner] = "email" if by_email else "registered_mail"
        self._session.registry.record_convocations(meeting, recipients, sent_on)
        with live.edit() as doc:
            adoc.set_meta(doc, convened_on=sent_on.isoformat())
            for owner in recipients:
                # The channel stays out of this document, which every owner
                # reads: it tells who agreed to e-mail (decision 0011). A
                # meeting convened by an older version loses it here.
                adoc.put_record(doc, "sent", owner, {"channel": None, "on": sent_on.isoformat()})
        day = info.starts.date()
        return ConvocationCheck(
            sent_on,
            rules.convocation_due(day),
            rules.convocation_in_time(sent_on, day),
            recipients,
        )

    def recipients(self, meeting: str) -> dict[str, dict[str, str]]:
        """person -> {on, channel} of the convocation; ``channel`` (e-mail or
        registered mail) only on a device that reads the registry."""
        stored = adoc.records(self._live(meeting).doc, "sent")
        sent = {person: {"on": str(record.get("on", ""))} for person, record in stored.items()}
        if not self._session.can_read("registry"):
            return sent
        kept = self._session.registry.convocations(meeting)
        for person, record in sent.items():
            # a meeting convened by an older version kept the channel here
            channel = kept.get(person, {}).get("channel") or stored[person].get("channel")
            if channel:
                record["channel"] = str(channel)
        return sent

    # -- the session ------------------------------------------------------------------------

    def _open_for_session(self, meeting: str) -> MeetingInfo:
        info = self.info(meeting)
        if not info.kind.in_session:
            raise InputError(_("A written procedure or a poll has no session."))
        if info.closed_at is not None:
            raise InputError(_("The meeting is closed."))
        return info

    def attend(
        self,
        meeting: str,
        person: str,
        mode: Mode | str = Mode.PRESENT,
        holder: str = "",
        at: datetime | None = None,
    ) -> Change:
        """Record an owner present, represented by a proxy holder (a person
        id, or ``name:<name>`` for someone outside the registry), or taking
        part remotely where the convocation allowed it. A proxy beyond the
        law's limits is refused with the reason (art. 3.87 §7)."""
        info = self._open_for_session(meeting)
        mode = Mode(mode)
        live = self._live(meeting)
        owners = owners_of(adoc.read_roll(live.doc))
        if person not in owners:
            raise InputError(_("{who} votes for no lot.").format(who=self.name(meeting, person)))
        if mode is Mode.REMOTE and not info.remote_allowed:
            raise InputError(_("The convocation did not provide for remote participation."))
        if mode is Mode.PROXY:
            self._check_proxy(meeting, info, person, holder, owners)
        elif holder:
            raise InputError(_("Only a represented owner has a proxy holder."))
        arrived = _iso(at or self._now())
        fields = {"mode": mode.value, "holder": holder or None, "arrived": arrived, "left": None}
        with live.edit() as doc:
            adoc.put_record(doc, "attendance", person, fields)
        return Change.of("attendance")

    def _check_proxy(
        self, meeting: str, info: MeetingInfo, person: str, holder: str, owners: Mapping[str, int]
    ) -> None:
        if not holder:
            raise InputError(_("A proxy names who holds it."))
        if holder.startswith("name:"):
            if not holder[5:].strip():
                raise InputError(_("A proxy names who holds it."))
        elif self._session.registry.read().person(holder) is None and holder not in owners:
            raise NotFoundError(_("There is no person {id}.").format(id=holder))
        attendance = adoc.read_attendance(self._live(meeting).doc)
        principals = [
            p
            for p, a in attendance.items()
            if a.mode is Mode.PROXY and a.holder == holder and p != person
        ]
        syndic = adoc.meta(self._live(meeting).doc).get("syndic_person")
        refusal = rules.proxy_refusal(
            holder_is_syndic=bool(syndic) and holder == syndic,
            holder_is_principal=holder == person,
            proxies_held=len(principals),
            holder_votes=owners.get(holder, 0),
            principals_votes=sum(owners[p] for p in principals) + owners[person],
            all_votes=sum(owners.values()) or 1,
        )
        if refusal is not None:
            message = _(rules.PROXY_REASONS[refusal])
            if refusal is ProxyRefusal.TOO_MANY:
                message = message.format(holder=self.name(meeting, holder), count=len(principals))
            raise InputError(message)

    def leave(self, meeting: str, person: str, at: datetime | None = None) -> Change:
        """Record that an owner left (their votes no longer count from then)."""
        self._open_for_session(meeting)
        live = self._live(meeting)
        if person not in adoc.records(live.doc, "attendance"):
            raise InputError(_("{who} is not recorded as attending.").format(who=person))
        with live.edit() as doc:
            adoc.put_record(doc, "attendance", person, {"left": _iso(at or self._now())})
        return Change.of("attendance")

    def opened_early(self, meeting: str) -> str:
        """Words when the meeting was opened well before the time in its
        convocation (found by hand: it opened 18 minutes early without a
        word; owners coming on time found it under way), else ""."""
        info = self.info(meeting)
        if info.opened_at is None:
            return ""
        starts = info.starts.astimezone()  # the convocation's time, this computer's zone
        early = starts - info.opened_at.astimezone()
        if early <= EARLY_OPENING:
            return ""
        return _(
            "Opened {minutes} minutes before the time in the convocation ({time}): owners "
            "arriving on time may challenge its decisions."
        ).format(minutes=int(early.total_seconds() // 60), time=format_moment(starts))

    def open(
        self, meeting: str, at: datetime | None = None, chair: str = "", secretary: str = ""
    ) -> Quorum:
        """Open the meeting: the roll is fixed and the quorum checked on those
        present or represented (art. 3.87 §5). Without quorum the meeting
        cannot deliberate: schedule a second assembly."""
        info = self._open_for_session(meeting)
        if info.opened_at is not None:
            raise InputError(_("The meeting is already open."))
        with self._live(meeting).edit() as doc:
            self._write_roll(doc)
            adoc.set_meta(
                doc,
                opened_at=_iso(at or self._now()),
                chair=chair.strip() or None,
                secretary=secretary.strip() or None,
            )
        outcome = self.outcome(meeting)
        assert outcome.quorum is not None
        return outcome.quorum

    def _deliberating(self, meeting: str, item_ref: str | None = None) -> MeetingInfo:
        if item_ref is not None:
            info = self.info(meeting)
            item = self._item(meeting, item_ref)
            twice = any(
                i.id == item and i.closed_twice for i in adoc.read_items(self._live(meeting).doc)
            )
            if info.closed_at is not None and twice:
                return info  # settling a vote two devices closed differently (CLOSED_TWICE)
        info = self._open_for_session(meeting)
        if info.opened_at is None:
            raise InputError(_("Open the meeting first."))
        quorum = self.outcome(meeting).quorum
        if quorum is not None and not quorum.reached:
            raise InputError(
                _("The quorum is not reached: the meeting cannot vote. Schedule a second assembly.")
            )
        return info

    def vote(self, meeting: str, item: str, person: str, vote: Vote | str | None) -> Change:
        """Record (or with ``None`` clear) an owner's vote in the room. It
        replaces their remote ballot on this item."""
        self._deliberating(meeting, item)
        item = self._item(meeting, item)
        live = self._live(meeting)
        attendance = adoc.read_attendance(live.doc).get(person)
        if attendance is None or attendance.mode is Mode.REMOTE or attendance.left is not None:
            raise InputError(
                _("{who} is neither present nor represented.").format(
                    who=self.name(meeting, person)
                )
            )
        target = next(i for i in adoc.read_items(live.doc) if i.id == item)
        if person in target.excluded:
            raise InputError(
                _("{who} does not vote on this item: {reason}").format(
                    who=self.name(meeting, person), reason=target.excluded[person]
                )
            )
        with live.edit() as doc:
            adoc.set_vote(doc, item, person, Vote(vote) if vote is not None else None)
        return Change.of("votes")

    def vote_all(
        self, meeting: str, item: str, vote: Vote | str, except_: Mapping[str, Vote | str] = {}
    ) -> Change:
        """Everyone present or represented votes ``vote`` except those named
        (the usual "who is against? who abstains?" in a meeting room)."""
        self._deliberating(meeting, item)
        item = self._item(meeting, item)
        live = self._live(meeting)
        target = next(i for i in adoc.read_items(live.doc) if i.id == item)
        voters = [
            p
            for p, a in adoc.read_attendance(live.doc).items()
            if a.mode is not Mode.REMOTE and a.left is None and p not in target.excluded
        ]
        unknown = [p for p in except_ if p not in voters]
        if unknown:
            raise InputError(
                _("{who} is neither present nor represented.").format(
                    who=", ".join(self.name(meeting, p) for p in unknown)
                )
            )
        with live.edit() as doc:
            for person in voters:
                adoc.set_vote(doc, item, person, Vote(except_.get(person, vote)))
        return Change.of("votes")

    def close_item(self, meeting: str, item: str, at: datetime | None = None) -> Change:
        """The chair closes the vote on an item: who had left by then no longer counts."""
        info = self._deliberating(meeting, item)
        item = self._item(meeting, item)
        moment = _utc(at or self._now())
        assert info.opened_at is not None
        if moment < info.opened_at or (info.closed_at is not None and moment > info.closed_at):
            # found by hand: results entered after the meeting were stamped
            # with the time of entry, and the attendance then no longer counted
            raise InputError(
                _(
                    "The vote closes between the meeting's opening ({opened}) and its end: "
                    "give the time it closed (--at)."
                ).format(opened=format_moment(info.opened_at.astimezone()))
            )
        live = self._live(meeting)
        with live.edit() as doc:
            # closed again (votes corrected): decided on the records as they
            # are now, not on those the earlier closing froze
            adoc.put_record(doc, "items", item, {"voted_at": _iso(moment), "closed_with": None})
            # what it was decided on, kept with it: records that arrive later
            # from another device cannot change the result announced
            result = next(r for r in self.outcome(meeting).results if r.item.id == item)
            closed_with = {
                "weights": dict(sorted(result.weights.items())),
                "votes": {o: v.value for o, v in sorted(result.votes.items())},
                "holder": dict(sorted(result.holder.items())),
            }
            frozen = json.dumps(closed_with, sort_keys=True)
            adoc.put_record(doc, "items", item, {"closed_with": frozen})
            # every closing kept, naming those this device knew: two chairs
            # closing offline on different records are told apart (found by
            # hand: one chair's announced result was reversed without a word)
            known = sorted(adoc.closings_of(doc, item))
            adoc.put_record(
                doc,
                "closings",
                new_ulid(),
                {"item": item, "closed_with": frozen, "supersedes": json.dumps(known)},
            )
        return Change.of("items")

    def set_officers(self, meeting: str, chair: str = "", secretary: str = "") -> Change:
        """Name the chair and the secretary (they sign the minutes)."""
        self.info(meeting)
        fields = {"chair": chair.strip() or None, "secretary": secretary.strip() or None}
        with self._live(meeting).edit() as doc:
            adoc.set_meta(doc, **{k: v for k, v in fields.items() if v})
        return Change.of("meta")

    def close(
        self, meeting: str, at: datetime | None = None, chair: str = "", secretary: str = ""
    ) -> Change:
        """Close the meeting: remote ballots signed later are refused."""
        info = self._open_for_session(meeting)
        if info.opened_at is None:
            raise InputError(_("Open the meeting first."))
        with self._live(meeting).edit() as doc:
            adoc.set_meta(doc, closed_at=_iso(at or self._now()))
            for name, value in (("chair", chair), ("secretary", secretary)):
                if value.strip():
                    adoc.set_meta(doc, **{name: value.strip()})
        return Change.of("meta")

    def schedule_second(self, meeting: str, starts: datetime, place: str = "") -> str:
        """The second assembly after a first without quorum, at least 15 days
        later (art. 3.87 §5): same agenda; it deliberates whatever the attendance."""
        info = self.info(meeting)
        if info.opened_at is None:
            raise InputError(_("Open the first meeting: its quorum decides."))
        quorum = self.outcome(meeting).quorum
        if quorum is None or quorum.reached:
            raise InputError(_("The quorum was reached: no second assembly is needed."))
        earliest = rules.second_assembly_earliest(info.starts.date())
        if starts.date() < earliest:
            raise InputError(
                _(
                    "The second assembly is held at least 15 days later: on {day} at the earliest."
                ).format(day=format_day(earliest))
            )
        second = self.create(
            info.kind,
            info.title,
            starts,
            place or info.place,
            info.language,
            info.remote_allowed,
            info.remote_terms,
            None,
            info.period_start,
            _second_of=(meeting, info.starts.date()),
        )
        source = adoc.records(self._live(meeting).doc, "items")
        with self._live(second).edit() as doc:
            for item_id, fields in source.items():
                if not fields.get("deferred"):
                    kept = {k: v for k, v in fields.items() if k not in ("voted_at",)}
                    adoc.put_record(doc, "items", item_id, kept)
        with self._live(meeting).edit() as doc:
            adoc.set_meta(doc, closed_at=_iso(self._now()))
        return second

    def distributed(self, meeting: str, on: date) -> Change:
        """Record that the minutes were sent to the owners (within 30 days)."""
        info = self.info(meeting)
        if info.closed_at is None:
            raise InputError(_("The minutes are sent once the meeting is closed."))
        with self._live(meeting).edit() as doc:
            adoc.set_meta(doc, distributed_on=on.isoformat())
        return Change.of("meta")

    # -- remote ballots ------------------------------------------------------------------------

    def _ballot_docs(self, meeting: str) -> list[str]:
        prefix = f"ballots/{meeting}/"
        return sorted(
            ref.doc_id
            for ref in self._store().documents()
            if ref.building_id == self._session.building_id and ref.doc_id.startswith(prefix)
        )

    def ballots(self, meeting: str, person: str | None = None) -> list[BallotRecord]:
        """Every remote ballot this device holds for the meeting (or one
        person's), each with whether its signature verifies against the
        members log."""
        verifier = self._verifiers.get()
        out = []
        for doc_id in self._ballot_docs(meeting):
            whose = doc_id.rsplit("/", 1)[1]
            if person is not None and whose != person:
                continue
            for ballot_id, fields in adoc.read_ballots(self._session.document(doc_id).doc).items():
                out.append(_parse_ballot(ballot_id, whose, meeting, fields, verifier))
        return sorted(out, key=lambda b: b.id)

    def shown_ballots(self, meeting: str) -> list[BallotRecord]:
        """The ballots a screen or a listing may show. In an anonymous poll
        only who answered is shown, not what (except this device's own
        person's answers); the answers stay signed per person, which is
        what stops anyone answering twice."""
        own = self._store().get_meta("person") or ""
        if not self.info(meeting).anonymous:
            return self.ballots(meeting)
        return [
            b if b.person == own else dataclasses.replace(b, votes={})
            for b in self.ballots(meeting)
        ]

    def _counted_at_opening(self, meeting: str, info: MeetingInfo, person: str) -> bool:
        """Whether a valid remote ballot of ``person`` signed by the opening
        of a meeting held in session is here (it counts for the quorum)."""
        if not info.kind.in_session or info.opened_at is None:
            return False
        opened = _utc(info.opened_at)
        return any(b.valid and b.signed_at <= opened for b in self.ballots(meeting, person))

    def cast(
        self,
        meeting: str,
        votes: Mapping[str, str],
        person: str | None = None,
        pin: str | None = None,
        at: datetime | None = None,
    ) -> str:
        """Sign and record a remote ballot: on an owner's own device for
        themselves, or on the building's shared PC for an enrolled owner
        with their PIN. A ballot this device signed before for the person is
        replaced; one signed on another device stays, and two that differ
        are listed as a conflict until one is withdrawn."""
        info = self.info(meeting)
        if not (info.remote_allowed or info.kind in (MeetingKind.WRITTEN, MeetingKind.POLL)):
            raise InputError(_("The convocation did not provide for remote voting."))
        if info.closed_at is not None:
            raise InputError(_("The meeting is closed: a ballot signed now would be refused."))
        if info.remote_until is not None and _utc(at or self._now()) > info.remote_until:
            raise InputError(
                _("Remote ballots were accepted until {moment}.").format(
                    moment=format_moment(info.remote_until.astimezone())
                )
            )
        me = signer(self._session, person, pin)
        person = me.person
        live = self._live(meeting)
        items = {i.id: i for i in adoc.read_items(live.doc) if not i.deferred}
        if person not in owners_of(adoc.read_roll(live.doc)):
            raise InputError(
                _("{who} votes for no lot of this meeting.").format(who=self.name(meeting, person))
            )
        clean = {}
        for ref, answer in votes.items():
            item_id = self._item(meeting, ref)
            clean[item_id] = _check_answer(items[item_id], answer, info.kind)
        if not clean:
            raise InputError(_("The ballot answers no item."))
        if self._counted_at_opening(meeting, info, person):
            # found by hand: replacing it moved the owner out of the quorum
            # the meeting was opened with
            raise InputError(
                _(
                    "{who}'s ballot signed before the opening counts, for the quorum too: it "
                    "cannot be replaced now. At the meeting, a vote in the room replaces it."
                ).format(who=self.name(meeting, person))
            )
        signed_at = _iso(at or self._now())
        payload = adoc.canonical(
            {"meeting": meeting, "person": person, "votes": clean, "signed_at": signed_at}
        )
        signature = me.sign(adoc.BALLOT_CONTEXT + payload)
        ballot_id = new_ulid()
        doc_id = f"ballots/{meeting}/{person}"
        ballots_live = self._session.document(doc_id)
        with ballots_live.edit() as doc:
            adoc.init_ballots(doc, meeting, person)
            for old_id, fields in adoc.read_ballots(doc).items():
                if fields.get("signer") == me.id:
                    adoc.delete_record(doc, "ballots", old_id)
            adoc.put_ballot(doc, ballot_id, payload, me.id, base64.b64encode(signature).decode())
        return ballot_id

    def withdraw(
        self, meeting: str, ballot_id: str, person: str | None = None, pin: str | None = None
    ) -> Change:
        """Withdraw one of a person's remote ballots (to settle a conflict),
        before the meeting opens: once it is held the ballot has counted, for
        the quorum too (found by hand: a ballot withdrawn after the close
        changed the result and the minutes, unsaid)."""
        info = self.info(meeting)
        if info.closed_at is not None:
            raise InputError(_("The meeting is closed: its ballots can no longer change."))
        if info.kind.in_session and info.opened_at is not None:
            raise InputError(
                _(
                    "The meeting has opened: a remote ballot can no longer be withdrawn. At the "
                    "meeting, a vote in the room replaces it."
                )
            )
        person = signer(self._session, person, pin).person
        doc_id = f"ballots/{meeting}/{person}"
        if doc_id not in self._ballot_docs(meeting):
            raise NotFoundError(_("There is no ballot {id}.").format(id=ballot_id))
        with self._session.document(doc_id).edit() as doc:
            if not adoc.delete_record(doc, "ballots", ballot_id):
                raise NotFoundError(_("There is no ballot {id}.").format(id=ballot_id))
        return Change.of("ballots")

    # -- what it decided ----------------------------------------------------------------------

    def settled(self, meeting: str) -> bool:
        """Whether a meeting's decisions stand: a meeting held in session once
        it is closed; a written procedure or a poll as its answers stand."""
        info = self.info(meeting)
        held = info.kind.in_session
        return info.status == "closed" or not held

    def meeting(self, meeting: str) -> Meeting:
        """The records of a meeting, as the domain reads them."""
        info = self.info(meeting)
        doc = self._live(meeting).doc
        ballots = tuple(
            RemoteBallot(b.id, b.person, b.votes, b.signed_at, b.signer, b.valid)
            for b in self.ballots(meeting)
        )
        return Meeting(
            kind=info.kind,
            starts=info.starts,
            roll=adoc.read_roll(doc),
            items=adoc.read_items(doc),
            attendance=adoc.read_attendance(doc),
            room_votes=adoc.read_votes(doc),
            ballots=ballots,
            remote_allowed=info.remote_allowed,
            second_assembly=bool(info.second_of),
            opened_at=info.opened_at,
            closed_at=info.closed_at,
        )

    def outcome(self, meeting: str) -> Outcome:
        return derive(self.meeting(meeting))

    def names(self, meeting: str) -> dict[str, str]:
        return {
            p: f.get("name", "") for p, f in adoc.records(self._live(meeting).doc, "names").items()
        }

    def name(self, meeting: str, person: str) -> str:
        if person.startswith("name:"):
            return person[5:]
        return self.names(meeting).get(person) or person

    def attendance(self, meeting: str) -> dict[str, Attendance]:
        return adoc.read_attendance(self._live(meeting).doc)

    def minutes_data(self, meeting: str) -> dict[str, Any]:
        """Everything the minutes state, as plain JSON-able data in a fixed
        order: two devices holding the same records produce the same bytes
        (:func:`minutes_bytes`)."""
        info = self.info(meeting)
        outcome = self.outcome(meeting)
        names = self.names(meeting)
        roll = adoc.read_roll(self._live(meeting).doc)
        lots_of: dict[str, list[str]] = {}
        for lot in roll:
            if lot.voter:
                lots_of.setdefault(lot.voter, []).append(lot.number)

        def who(person: str) -> str:
            return person[5:] if person.startswith("name:") else names.get(person, person)

        def figure(value: Any) -> str:
            return str(value)

        quorum = outcome.quorum
        data: dict[str, Any] = {
            "meeting": meeting,
            "kind": info.kind.value,
            "second_assembly": bool(info.second_of),
            "title": info.title,
            "starts": info.starts.isoformat(),
            "place": info.place,
            "opened_at": _iso(info.opened_at) if info.opened_at else None,
            "closed_at": _iso(info.closed_at) if info.closed_at else None,
            "chair": info.chair,
            "secretary": info.secretary,
            "owners_total": len(outcome.owners),
            "quotas_total": outcome.quotas_total,
            "attending": [
                {
                    "person": p,
                    "name": who(p),
                    "lots": sorted(lots_of.get(p, [])),
                    "votes": outcome.owners[p],
                    "mode": a.mode.value,
                    "holder": who(a.holder) if a.holder else "",
                }
                for p, a in sorted(outcome.attending.items(), key=lambda kv: (who(kv[0]), kv[0]))
            ],
            "quorum": None
            if quorum is None
            else {
                "reached": quorum.reached,
                "rule": quorum.rule.value if quorum.rule else None,
                "owners_present": quorum.owners_present,
                "owners_total": quorum.owners_total,
                "quotas_present": quorum.quotas_present,
                "quotas_total": quorum.quotas_total,
            },
            "resolutions": [],
            "conflicts": [
                {
                    "person": c.person,
                    "name": who(c.person),
                    "item": c.item,
                    "ballots": list(c.ballots),
                }
                for c in outcome.conflicts
            ],
            "refused": [{"ballot": b, "why": r.value} for b, r in outcome.refused],
            "signatories": [who(p) for p in outcome.signatories],
            "minutes_due": rules.minutes_due(info.starts.date()).isoformat(),
            "challenge_until": rules.challenge_until(info.starts.date()).isoformat(),
        }
        for number, result in enumerate(outcome.results, start=1):
            tally = result.tally
            data["resolutions"].append(
                {
                    "number": number,
                    "item": result.item.id,
                    "title": result.item.title,
                    "text": result.item.text,
                    "category": result.item.category,
                    "majority": result.item.majority.value,
                    "for": figure(tally.votes_for) if tally else "0",
                    "against": figure(tally.votes_against) if tally else "0",
                    "abstentions": figure(tally.abstentions) if tally else "0",
                    "share": figure(tally.share) if tally and tally.share is not None else None,
                    "passed": bool(tally and tally.passed),
                    "voted": tally is not None,
                    "changed_after_closing": result.changed_after_closing,
                    "closed_twice": result.closed_twice,
                    "against_names": sorted(who(p) for p in result.against),
                    "abstained_names": sorted(who(p) for p in result.abstained),
                    "excluded": [
                        {"name": who(p), "reason": r}
                        for p, r in sorted(result.item.excluded.items())
                    ],
                    "remote": sorted(who(p) for p, s in result.source.items() if s == "remote"),
                    "answers": dict(sorted(result.answers.items())),
                }
            )
        return data

    def minutes_bytes(self, meeting: str) -> bytes:
        return json.dumps(
            self.minutes_data(meeting), sort_keys=True, ensure_ascii=False, separators=(",", ":")
        ).encode()

    def refusal_reason(self, refusal: str) -> str:
        from ..domain.meeting import Refusal

        return _(REFUSAL_REASONS[Refusal(refusal)])

    def register(self) -> list[dict[str, Any]]:
        """The register of decisions: every resolution adopted by a closed
        meeting (or a completed written procedure), the oldest first."""
        rows = []
        for info in sorted(self.meetings(), key=lambda m: (m.starts, m.id)):
            if info.kind is MeetingKind.POLL:
                continue
            if info.kind is not MeetingKind.WRITTEN and info.closed_at is None:
                continue
            for resolution in self.minutes_data(info.id)["resolutions"]:
                if resolution["passed"]:
                    rows.append(
                        {
                            "meeting": info.id,
                            "date": info.starts.date().isoformat(),
                            "kind": info.kind.value,
                            "number": resolution["number"],
                            "title": resolution["title"],
                            "majority": resolution["majority"],
                            "for": resolution["for"],
                            "against": resolution["against"],
                        }
                    )
        return rows

    def deadlines(self, today: date) -> list[tuple[date, str, str]]:
        """(due, what, meeting id) of the syndic's assembly deadlines still open:
        convocations to send, minutes to distribute, assemblies owners asked for."""
        out = []
        for info in self.meetings():
            if not info.kind.in_session:
                continue
            if info.convened_on is None and info.starts.date() >= today:
                out.append((rules.convocation_due(info.starts.date()), "convocation", info.id))
            if info.request and info.convened_on is None:
                out.append((date.fromisoformat(info.request["convene_by"]), "request", info.id))
            if info.closed_at is not None and info.distributed_on is None:
                out.append((rules.minutes_due(info.starts.date()), "minutes", info.id))
        return sorted(out)


def adoc_roll(content: Mapping[str, Any]):  # type: ignore[no-untyped-def]
    from ..domain.meeting import RollLot

    return tuple(
        RollLot(lot_id, lot["number"], int(lot["quota"]), lot["voter"])
        for lot_id, lot in content["lots"].items()
    )


def _check_answer(item: Any, answer: str, kind: MeetingKind) -> str:
    answer = (
        str(answer).strip().lower()
        if kind is not MeetingKind.POLL or item.answers != "choice"
        else str(answer).strip()
    )
    if kind is not MeetingKind.POLL or item.answers == "yes_no":
        allowed = tuple(v.value for v in Vote) if kind is not MeetingKind.POLL else ("yes", "no")
    elif item.answers == "rating":
        allowed = RATING_SCALE
    else:
        allowed = item.options
    if answer not in allowed:
        raise InputError(
            _("{answer!r} is not an answer to “{title}”: choose one of {allowed}.").format(
                answer=answer, title=item.title, allowed=", ".join(allowed)
            )
        )
    return answer


def _parse_ballot(
    ballot_id: str, person: str, meeting: str, fields: Mapping[str, Any], verifier: Verifier
) -> BallotRecord:
    try:
        payload_bytes = str(fields["payload"]).encode()
        payload = json.loads(payload_bytes)
        signature = base64.b64decode(str(fields["signature"]))
        signer = str(fields["signer"])
        signed_at = datetime.fromisoformat(payload["signed_at"])
        votes = {str(k): str(v) for k, v in payload["votes"].items()}
    except (KeyError, ValueError, TypeError, AttributeError):
        # unreadable: listed among the refused ballots, never silently dropped
        return BallotRecord(ballot_id, person, {}, datetime.min.replace(tzinfo=UTC), "", False)
    valid = (
        payload.get("meeting") == meeting
        and payload.get("person") == person
        and verifier.verifies(signer, person, adoc.BALLOT_CONTEXT + payload_bytes, signature)
    )
    return BallotRecord(ballot_id, person, votes, signed_at, signer, valid)
