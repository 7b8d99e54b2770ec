"""The assembly's documents as PDFs (issue 5, points 1 and 4): each owner's
convocation with its proxy form, in their language, and the minutes.

Builds the plain inputs of :mod:`node.pdf.assembly` from the meeting's
records and the outcome :mod:`node.domain.meeting` derives; nothing here
counts a vote. Convocations need the registry (postal addresses, languages),
so they are made on the syndic's or the council's devices.
"""

from __future__ import annotations

from collections import Counter
from datetime import date
from typing import TYPE_CHECKING

from ..domain.assembly import DECISION_MAJORITIES, Vote
from ..domain.meeting import CLOSED_TWICE, REFUSAL_REASONS, MeetingKind, Mode
from ..errors import InputError, NotFoundError
from ..i18n import N_, _
from ..pdf import assembly as apdf
from ..pdf.layout import Letterhead, Recipient

if TYPE_CHECKING:
    from ..session import Session

_CONFLICT = N_("differing remote ballots of one owner: neither counts until one is withdrawn")


class AssemblyDocuments:
    def __init__(self, session: Session) -> None:
        self._session = session

    def _letterhead(self) -> Letterhead:
        # the letterhead is the registry's (found by hand: an owner's device
        # said "This profile holds no building yet")
        self._session.require_registry()
        association = self._session.registry.read().association
        if association is None:
            raise InputError(_("This profile holds no building yet."))
        return Letterhead(association)

    # -- convocations --------------------------------------------------------------------------

    def convocations(
        self, meeting: str, person: str | None = None
    ) -> list[tuple[str, apdf.ConvocationLetter]]:
        """(person id, letter) for every owner on the roll (or one), each in
        their language, with the channel the convocation goes by."""
        service = self._session.assembly
        info = service.info(meeting)
        if not info.kind.in_session:
            raise InputError(_("Only an assembly is convened."))
        registry = self._session.registry.read()
        records = service.meeting(meeting)
        agenda = tuple(
            apdf.AgendaItem(
                number,
                item.title,
                item.majority,
                DECISION_MAJORITIES[item.category][1]
                if item.category in DECISION_MAJORITIES
                else "",
                item.text,
            )
            for number, item in enumerate((i for i in records.items if not i.deferred), start=1)
        )
        quota_total = sum(lot.quota for lot in records.roll)
        sent = service.recipients(meeting)
        lots: dict[str, list[apdf.LotVotes]] = {}
        for lot in records.roll:
            if lot.voter:
                lots.setdefault(lot.voter, []).append(apdf.LotVotes(lot.number, lot.quota))
        if person is not None and person not in lots:
            raise NotFoundError(
                _("{who} votes for no lot.").format(who=service.name(meeting, person))
            )
        letterhead = self._letterhead()
        letters = []
        for owner in sorted(lots) if person is None else [person]:
            found = registry.person(owner)
            if found is None:
                raise NotFoundError(_("There is no person {id}.").format(id=owner))
            by_email = found.email_consent and bool(found.email)
            channel = sent.get(owner, {}).get("channel") or (
                "email" if by_email else "registered_mail"
            )
            letters.append(
                (
                    owner,
                    apdf.ConvocationLetter(
                        letterhead=letterhead,
                        language=found.language,
                        recipient=Recipient.from_person(found),
                        sent_on=info.convened_on or date.today(),
                        channel=apdf.Channel(channel),
                        kind=info.kind,
                        title=info.title,
                        starts=info.starts,
                        place=info.place,
                        lots=tuple(sorted(lots[owner], key=lambda lot: lot.number)),
                        quota_total=quota_total,
                        agenda=agenda,
                        remote_allowed=info.remote_allowed,
                        remote_terms=info.remote_terms,
                        remote_until=info.remote_until.astimezone().replace(tzinfo=None)
                        if info.remote_until
                        else None,
                        second_assembly=bool(info.second_of),
                        first_meeting=info.first_date,
                        reference=meeting[-8:],
                    ),
                )
            )
        return letters

    def convocation_pdf(self, meeting: str, person: str | None = None) -> bytes:
        """One owner's convocation, or every owner's in one PDF."""
        letters = [letter for _owner, letter in self.convocations(meeting, person)]
        if not letters:
            raise InputError(_("Nobody votes in this meeting: check the registry's voters."))
        return apdf.render_convocations(letters)

    # -- minutes ------------------------------------------------------------------------------

    def minutes(self, meeting: str, language: str | None = None) -> apdf.Minutes:
        service = self._session.assembly
        info = service.info(meeting)
        if info.kind is MeetingKind.POLL:
            raise InputError(_("A poll decides nothing: it has results, not minutes."))
        if info.kind is not MeetingKind.WRITTEN and info.closed_at is None:
            raise InputError(_("The minutes are drawn up once the meeting is closed."))
        outcome = service.outcome(meeting)
        data = service.minutes_data(meeting)
        names = {a["person"]: a["name"] for a in data["attending"]}
        lots_of: dict[str, list[str]] = {}
        for lot in service.meeting(meeting).roll:
            if lot.voter:
                lots_of.setdefault(lot.voter, []).append(lot.number)

        def who(person: str) -> str:
            return names.get(person) or service.name(meeting, person)

        conflicts = Counter(c.item for c in outcome.conflicts)
        refused = Counter(r for _b, r in outcome.refused)
        deliberated = outcome.quorum is None or outcome.quorum.reached
        resolutions = []
        if deliberated:
            for number, result in enumerate(outcome.results, start=1):
                if result.closed_twice:  # the minutes would print one of two results
                    raise InputError(
                        _("Resolution {number}: {why}").format(number=number, why=_(CLOSED_TWICE))
                    )
                tally = result.tally
                notes = ()
                if conflicts.get(result.item.id):
                    notes = (
                        apdf.BallotNote(
                            apdf.BallotIssue.CONFLICT, conflicts[result.item.id], _(_CONFLICT)
                        ),
                    )
                resolutions.append(
                    apdf.Resolution(
                        number=number,
                        title=result.item.title,
                        majority=result.item.majority,
                        votes_for=tally.votes_for if tally else 0,
                        votes_against=tally.votes_against if tally else 0,
                        abstentions=tally.abstentions if tally else 0,
                        adopted=bool(tally and tally.passed),
                        voted=tally is not None,
                        reason=DECISION_MAJORITIES[result.item.category][1]
                        if result.item.category in DECISION_MAJORITIES
                        else "",
                        text=result.item.text,
                        against=tuple(who(p) for p in result.against),
                        abstained=tuple(who(p) for p in result.abstained),
                        excluded=tuple(
                            (who(p), why) for p, why in sorted(result.item.excluded.items())
                        ),
                        ballot_notes=notes,
                    )
                )
        attendance = tuple(
            apdf.Attendee(
                a["name"],
                tuple(a["lots"]),
                a["votes"],
                Mode(a["mode"]),
                a["holder"],
            )
            for a in data["attending"]
        )
        agreements: tuple[apdf.Agreement, ...] = ()
        if info.kind is MeetingKind.WRITTEN:
            agreed = {}
            items = {r.item.id for r in outcome.results}
            for ballot in service.ballots(meeting):
                if (
                    ballot.valid
                    and items
                    and all(ballot.votes.get(i) == Vote.FOR.value for i in items)
                ):
                    day = ballot.signed_at.astimezone().date()
                    agreed[ballot.person] = min(agreed.get(ballot.person, day), day)
            agreements = tuple(
                apdf.Agreement(service.name(meeting, owner), agreed.get(owner))
                for owner in sorted(outcome.owners, key=lambda o: service.name(meeting, o))
            )
        notes = tuple(
            apdf.BallotNote(apdf.BallotIssue.REFUSED, count, _(REFUSAL_REASONS[reason]))
            for reason, count in sorted(refused.items())
        )
        closed = info.closed_at.astimezone().replace(tzinfo=None) if info.closed_at else None
        opened = info.opened_at.astimezone().replace(tzinfo=None) if info.opened_at else None
        made_on = closed.date() if closed else info.starts.date()
        if info.kind is MeetingKind.WRITTEN:
            made_on = max([a.signed_on for a in agreements if a.signed_on] or [info.starts.date()])
        return apdf.Minutes(
            letterhead=self._letterhead(),
            language=language or info.language,
            kind=info.kind,
            title=info.title,
            starts=info.starts,
            made_on=made_on,
            resolutions=tuple(resolutions),
            place=info.place,
            second_assembly=bool(info.second_of),
            opened_at=opened,
            closed_at=closed,
            chair=info.chair,
            secretary=info.secretary,
            attendance=attendance if info.kind is not MeetingKind.WRITTEN else (),
            quorum=outcome.quorum,
            signatories=tuple(who(p) for p in outcome.signatories),
            agreements=agreements,
            ballot_notes=notes,
            reference=meeting[-8:],
        )

    def minutes_pdf(self, meeting: str, language: str | None = None) -> bytes:
        return apdf.render_minutes(self.minutes(meeting, language))
