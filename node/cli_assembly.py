"""``koprogo-node assembly ...``: general assemblies from a script (issue 5,
point 7), each answering with ``--json`` where it prints data. Meetings are
named by their id or its first characters, owners by id or name, agenda
items by id or their number on the agenda."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path
from typing import Any

from .cli_ledger import _day, _print
from .domain.assembly import DECISION_MAJORITIES, Vote
from .domain.meeting import CHANGED_AFTER_CLOSING, CLOSED_TWICE, MeetingKind, Mode
from .domain.registry import match_names
from .errors import InputError, NotFoundError
from .files import write_document
from .i18n import N_, _


def _moment(text: str | None) -> datetime | None:
    """``YYYY-MM-DDTHH:MM`` in this computer's local time; ``None`` for now."""
    if not text:
        return None
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        raise InputError(
            _("{text!r} is not a date and time (YYYY-MM-DDTHH:MM).").format(text=text)
        ) from None


def _person(session: Any, meeting: str, ref: str) -> str:
    """An owner by id or by name (case-insensitive, unique start)."""
    matches = match_names(session.assembly.names(meeting), ref)
    if len(matches) == 1:
        return matches[0]
    if not matches:
        raise NotFoundError(_("Nobody called {name!r} votes in this meeting.").format(name=ref))
    raise InputError(_("{name!r} names several owners; give more of the name.").format(name=ref))


def _holder(session: Any, meeting: str, ref: str) -> str:
    try:
        return _person(session, meeting, ref)
    except NotFoundError:
        return f"name:{ref}"  # someone who is not an owner of the building


def _meeting_json(info: Any) -> dict[str, Any]:
    return {
        "id": info.id,
        "kind": info.kind.value,
        "title": info.title,
        "starts": info.starts.isoformat(timespec="minutes"),
        "place": info.place,
        "status": info.status,
        "second_of": info.second_of or None,
        "convened_on": info.convened_on,
        "remote_allowed": info.remote_allowed,
    }


def cmd_create(args: argparse.Namespace, open_session: Callable) -> int:
    starts = _moment(args.date)
    if starts is None:
        raise InputError(_("Give the meeting's date and time (YYYY-MM-DDTHH:MM)."))
    with open_session(args) as session:
        request = None
        if args.requested_by:
            by = [_registry_person(session, ref) for ref in args.requested_by]
            request = {"by": by, "on": _day(args.requested_on).isoformat()}
        meeting = session.assembly.create(
            args.kind,
            args.title,
            starts,
            args.place or "",
            args.meeting_language,
            args.remote,
            args.remote_terms or "",
            _moment(args.remote_until),
            _day(args.period_start) if args.period_start else None,
            request,
            args.anonymous,
        )
        info = session.assembly.info(meeting)
    _print(_meeting_json(info) | {"request": info.request}, args.json, lambda d: d["id"])
    return 0


def _registry_person(session: Any, ref: str) -> str:
    persons = session.registry.read().persons
    for person in persons:
        if ref == person.id or ref.casefold() == person.name.casefold():
            return person.id
    raise NotFoundError(_("There is no person {id}.").format(id=ref))


def cmd_list(args: argparse.Namespace, open_session: Callable) -> int:
    with open_session(args) as session:
        data = [_meeting_json(m) for m in session.assembly.meetings()]
    _print(
        data,
        args.json,
        lambda rows: (
            "\n".join(
                f"{r['id']}  {r['starts']}  {r['kind']:<13} {r['status']:<9} {r['title']}"
                for r in rows
            )
            or _("No meeting yet.")
        ),
    )
    return 0


def cmd_agenda_add(args: argparse.Namespace, open_session: Callable) -> int:
    with open_session(args) as session:
        meeting = session.assembly.find(args.meeting)
        requested_by = ""
        if args.requested_by:
            requested_by = (
                "council"
                if args.requested_by == "council"
                else _registry_person(session, args.requested_by)
            )
        item = session.assembly.add_item(
            meeting,
            args.title,
            args.category,
            args.text or "",
            requested_by,
            _day(args.requested_on) if args.requested_on else None,
            args.answers or "",
            args.option,
        )
        added = next(i for i in session.assembly.meeting(meeting).items if i.id == item)
    data = {
        "id": item,
        "majority": added.majority.value,
        "deferred": added.deferred or None,
        "reason": _(DECISION_MAJORITIES[added.category][1])
        if added.category in DECISION_MAJORITIES
        else None,
    }
    _print(data, args.json, lambda d: d["id"] + (f"  ({d['deferred']})" if d["deferred"] else ""))
    return 0


def cmd_agenda_list(args: argparse.Namespace, open_session: Callable) -> int:
    with open_session(args) as session:
        meeting = session.assembly.find(args.meeting)
        items = session.assembly.meeting(meeting).items
    data = [
        {
            "id": i.id,
            "title": i.title,
            "category": i.category,
            "majority": i.majority.value,
            "answers": i.answers or None,
            "deferred": i.deferred or None,
        }
        for i in items
    ]
    numbered = [d for d in data if not d["deferred"]]
    _print(
        data,
        args.json,
        lambda _rows: "\n".join(  # a poll's question has no majority: its kind of answer
            f"{n}. {d['title']}  [{d['answers'] or d['majority']}]"
            for n, d in enumerate(numbered, start=1)
        ),
    )
    return 0


def cmd_exclude(args: argparse.Namespace, open_session: Callable) -> int:
    with open_session(args) as session:
        meeting = session.assembly.find(args.meeting)
        session.assembly.exclude(
            meeting, args.item, _person(session, meeting, args.person), args.reason
        )
    return 0


def cmd_convene(args: argparse.Namespace, open_session: Callable) -> int:
    with open_session(args) as session:
        meeting = session.assembly.find(args.meeting)
        check = session.assembly.convene(meeting, _day(args.date, date.today()))
        names = session.assembly.names(meeting)
    data = {
        "sent_on": check.sent_on,
        "due": check.due,
        "in_time": check.in_time,
        "recipients": {names.get(p, p): c for p, c in sorted(check.recipients.items())},
    }

    def text(d: dict[str, Any]) -> str:
        lines = [f"{name}: {channel}" for name, channel in d["recipients"].items()]
        if not d["in_time"]:
            lines.append(
                _(
                    "Warning: the convocation should have been sent by {due} "
                    "(15 days before the meeting)."
                ).format(due=d["due"])
            )
        return "\n".join(lines)

    _print(data, args.json, text)
    return 0


def cmd_attend(args: argparse.Namespace, open_session: Callable) -> int:
    with open_session(args) as session:
        meeting = session.assembly.find(args.meeting)
        person = _person(session, meeting, args.person)
        if args.leave:
            session.assembly.leave(meeting, person, _moment(args.at))
        else:
            mode = Mode.REMOTE if args.remote else Mode.PRESENT
            session.assembly.attend(meeting, person, mode, at=_moment(args.at))
    return 0


def cmd_proxy(args: argparse.Namespace, open_session: Callable) -> int:
    with open_session(args) as session:
        meeting = session.assembly.find(args.meeting)
        person = _person(session, meeting, args.person)
        holder = _holder(session, meeting, args.holder)
        session.assembly.attend(meeting, person, Mode.PROXY, holder, _moment(args.at))
    return 0


def _quorum_json(quorum: Any) -> dict[str, Any]:
    return {
        "reached": quorum.reached,
        "rule": quorum.rule.value if quorum.rule else None,
        "owners_present": quorum.owners_present,
        "owners_total": quorum.owners_total,
        "quotas_present": quorum.quotas_present,
        "quotas_total": quorum.quotas_total,
    }


def cmd_open(args: argparse.Namespace, open_session: Callable) -> int:
    with open_session(args) as session:
        meeting = session.assembly.find(args.meeting)
        quorum = session.assembly.open(
            meeting, _moment(args.at), args.chair or "", args.secretary or ""
        )
        early = session.assembly.opened_early(meeting)
    if early:
        print(early, file=sys.stderr)

    def text(d: dict[str, Any]) -> str:
        figures = _(
            "{owners} of {owners_total} owners present or represented, holding {quotas} of "
            "{quotas_total} quotas."
        ).format(
            owners=d["owners_present"],
            owners_total=d["owners_total"],
            quotas=d["quotas_present"],
            quotas_total=d["quotas_total"],
        )
        verdict = {
            "heads_and_half": _(
                "Quorum reached: more than half of the owners, holding at least half of the quotas."
            ),
            "three_quarters": _("Quorum reached: more than three quarters of the quotas."),
            "second_assembly": _("Second assembly: it deliberates whatever the attendance."),
            None: _(
                "Quorum not reached: the assembly cannot deliberate. Schedule a second "
                "assembly at least 15 days later."
            ),
        }[d["rule"]]
        return f"{verdict}\n{figures}"

    _print(_quorum_json(quorum), args.json, text)
    return 0


def cmd_vote(args: argparse.Namespace, open_session: Callable) -> int:
    with open_session(args) as session:
        meeting = session.assembly.find(args.meeting)
        if args.all:
            exceptions: dict[str, Vote] = {}
            for vote, refs in ((Vote.AGAINST, args.against), (Vote.ABSTAIN, args.abstain)):
                for ref in refs:
                    exceptions[_person(session, meeting, ref)] = vote
            session.assembly.vote_all(meeting, args.item, Vote(args.all), exceptions)
        else:
            if not args.person or not args.vote:
                raise InputError(_("Give an owner and their vote, or --all."))
            person = _person(session, meeting, args.person)
            session.assembly.vote(meeting, args.item, person, Vote(args.vote))
        if args.close_item:
            session.assembly.close_item(meeting, args.item, _moment(args.at))
    return 0


def cmd_close(args: argparse.Namespace, open_session: Callable) -> int:
    with open_session(args) as session:
        meeting = session.assembly.find(args.meeting)
        session.assembly.close(meeting, _moment(args.at), args.chair or "", args.secretary or "")
    return 0


def cmd_second(args: argparse.Namespace, open_session: Callable) -> int:
    starts = _moment(args.date)
    if starts is None:
        raise InputError(_("Give the meeting's date and time (YYYY-MM-DDTHH:MM)."))
    with open_session(args) as session:
        meeting = session.assembly.find(args.meeting)
        second = session.assembly.schedule_second(meeting, starts, args.place or "")
    print(second)
    return 0


def _result_text(data: dict[str, Any]) -> str:
    lines = []
    quorum = data["quorum"]
    if quorum is not None:
        lines.append(
            _(
                "Quorum: {state} ({owners}/{owners_total} owners, {quotas}/{quotas_total} quotas)"
            ).format(
                state=_("reached") if quorum["reached"] else _("not reached"),
                owners=quorum["owners_present"],
                owners_total=quorum["owners_total"],
                quotas=quorum["quotas_present"],
                quotas_total=quorum["quotas_total"],
            )
        )
    for r in data["resolutions"]:
        if r["answers"] or data.get("kind") == "poll":  # a poll is not adopted nor rejected
            answers = ", ".join(f"{a}: {n}" for a, n in r["answers"].items())
            answers = answers or _("no answer yet")
            lines.append(f"{r['number']}. {r['title']} — {answers}")
            continue
        state = _("adopted") if r["passed"] else _("rejected") if r["voted"] else _("not voted")
        if not r["passed"] and data.get("kind") in ("ordinary", "extraordinary"):
            if not data["opened_at"]:  # found by hand: "adopted" before the meeting
                state = _("not decided: the meeting has not opened")
            elif quorum is not None and not quorum["reached"]:
                state = _("no decision: the quorum was not reached")
        figures = _("for {n_for}, against {n_against}, abstentions {n_abstentions}").format(
            n_for=r["for"], n_against=r["against"], n_abstentions=r["abstentions"]
        )
        lines.append(f"{r['number']}. {r['title']} — {state} ({figures})")
        if r["against_names"]:
            lines.append("   " + _("Against: {names}").format(names=", ".join(r["against_names"])))
        if r["abstained_names"]:
            lines.append(
                "   " + _("Abstained: {names}").format(names=", ".join(r["abstained_names"]))
            )
        if r.get("changed_after_closing"):
            lines.append("   " + _(CHANGED_AFTER_CLOSING))
        if r.get("closed_twice"):
            lines.append("   " + _(CLOSED_TWICE))
    for conflict in data["conflicts"]:
        lines.append(
            _("Conflict: {name} sent differing remote ballots on one item.").format(
                name=conflict["name"]
            )
        )
    return "\n".join(lines)


def cmd_result(args: argparse.Namespace, open_session: Callable) -> int:
    with open_session(args) as session:
        meeting = session.assembly.find(args.meeting)
        data = session.assembly.minutes_data(meeting)
        for refused in data["refused"]:
            refused["reason"] = session.assembly.refusal_reason(refused["why"])
    _print(data, args.json, _result_text)
    return 0


def cmd_ballot_cast(args: argparse.Namespace, open_session: Callable) -> int:
    votes = {}
    for pair in args.vote:
        item, sep, answer = pair.partition("=")
        if not sep:
            raise InputError(_("{text!r} is not ITEM=ANSWER.").format(text=pair))
        votes[item.strip()] = answer.strip()
    with open_session(args) as session:
        meeting = session.assembly.find(args.meeting)
        pin = None
        person = None
        if args.person:
            from .cli_sync import kiosk_pin

            person = _person(session, meeting, args.person)
            pin = kiosk_pin(session, person)
        ballot = session.assembly.cast(meeting, votes, person, pin)
        theirs = person or session.profile.store.get_meta("person") or ""
        others = sorted(
            {
                other
                for c in session.assembly.outcome(meeting).conflicts
                if c.person == theirs and ballot in c.ballots
                for other in c.ballots
                if other != ballot
            }
        )
    print(ballot)
    if others:  # found by hand: a second ballot on another device undid both, in silence
        print(
            _(
                "This ballot differs from another one of this person's, signed on another "
                "device: neither counts until one is withdrawn "
                "(assembly ballot withdraw {meeting} {ballot})."
            ).format(meeting=meeting, ballot=others[0]),
            file=sys.stderr,
        )
    return 0


# a ballot's answers as a person reads them (found by hand: "FFGE7K=for")
_ANSWER_WORDS = {"for": N_("For"), "against": N_("Against"), "abstain": N_("Abstention")}


def _ballot_line(row: dict[str, Any], numbers: dict[str, int]) -> str:
    answers = ", ".join(
        f"{numbers.get(item, item[-6:])}. {_(_ANSWER_WORDS[v]) if v in _ANSWER_WORDS else v}"
        for item, v in sorted(row["votes"].items(), key=lambda kv: numbers.get(kv[0], 0))
    )
    signed = datetime.fromisoformat(row["signed_at"]).astimezone().strftime("%Y-%m-%d %H:%M")
    invalid = "" if row["valid"] else _("(signature does not verify) ")
    return f"{row['id']}  {row['name']}  {signed}  {invalid}{answers}"


def cmd_ballot_list(args: argparse.Namespace, open_session: Callable) -> int:
    with open_session(args) as session:
        meeting = session.assembly.find(args.meeting)
        names = session.assembly.names(meeting)
        items = [i for i in session.assembly.meeting(meeting).items if not i.deferred]
        numbers = {item.id: n for n, item in enumerate(items, start=1)}  # as agenda list
        data = [
            {
                "id": b.id,
                "person": b.person,
                "name": names.get(b.person, b.person),
                "votes": b.votes,
                "signed_at": b.signed_at.isoformat(),
                "valid": b.valid,
            }
            for b in session.assembly.shown_ballots(meeting)
        ]
    _print(
        data,
        args.json,
        lambda rows: "\n".join(_ballot_line(r, numbers) for r in rows) or _("No remote ballot."),
    )
    return 0


def cmd_ballot_withdraw(args: argparse.Namespace, open_session: Callable) -> int:
    with open_session(args) as session:
        meeting = session.assembly.find(args.meeting)
        person, pin = None, None
        if args.person:
            from .cli_sync import kiosk_pin

            person = _person(session, meeting, args.person)
            pin = kiosk_pin(session, person)
        session.assembly.withdraw(meeting, args.ballot, person, pin)
    return 0


def cmd_distributed(args: argparse.Namespace, open_session: Callable) -> int:
    with open_session(args) as session:
        meeting = session.assembly.find(args.meeting)
        session.assembly.distributed(meeting, _day(args.date, date.today()))
    return 0


def cmd_register(args: argparse.Namespace, open_session: Callable) -> int:
    with open_session(args) as session:
        rows = session.assembly.register()
    _print(
        rows,
        args.json,
        lambda rs: (
            "\n".join(f"{r['date']}  {r['number']}. {r['title']}" for r in rs)
            or _("No decision yet.")
        ),
    )
    return 0


def cmd_convocation_pdf(args: argparse.Namespace, open_session: Callable) -> int:
    with open_session(args) as session:
        meeting = session.assembly.find(args.meeting)
        person = _person(session, meeting, args.person) if args.person else None
        data = session.assembly_documents.convocation_pdf(meeting, person)
    write_document(Path(args.out), data)
    print(args.out)
    return 0


def cmd_minutes_pdf(args: argparse.Namespace, open_session: Callable) -> int:
    with open_session(args) as session:
        meeting = session.assembly.find(args.meeting)
        data = session.assembly_documents.minutes_pdf(meeting, args.in_language)
    write_document(Path(args.out), data)
    print(args.out)
    return 0


def add_commands(sub: Any, add: Callable, open_session: Callable, parser_class: type) -> None:
    """Register ``assembly ...`` on ``koprogo-node``'s parser."""

    def cmd(func: Callable) -> Callable:
        return lambda a: func(a, open_session)

    assembly = add(sub, "assembly", lambda a: 0, "general assemblies, written decisions, polls")
    asub = assembly.add_subparsers(dest="assembly_action", required=True, parser_class=parser_class)

    p = add(asub, "create", cmd(cmd_create), "prepare a meeting; prints its id")
    p.add_argument("--kind", choices=[k.value for k in MeetingKind], default="ordinary")
    p.add_argument("--title", required=True)
    p.add_argument("--date", required=True, help="YYYY-MM-DDTHH:MM, local time")
    p.add_argument("--place")
    p.add_argument(
        "--meeting-language", choices=["fr", "nl", "de", "en"], default="fr", help="of the minutes"
    )
    p.add_argument("--remote", action="store_true", help="the convocation allows remote voting")
    p.add_argument("--remote-terms", help="how to take part remotely, printed on the convocation")
    p.add_argument("--remote-until", help="remote ballots accepted until (YYYY-MM-DDTHH:MM)")
    p.add_argument("--period-start", help="first day of the by-laws' 15-day period (ordinary)")
    p.add_argument(
        "--requested-by", action="append", default=[], help="an owner who asked for it (repeat)"
    )
    p.add_argument("--requested-on", help="the day the owners asked")
    p.add_argument(
        "--anonymous",
        action="store_true",
        help="a poll whose answers are shown to nobody by name (not a secret ballot: see README)",
    )
    p.add_argument("--json", action="store_true")

    p = add(asub, "list", cmd(cmd_list), "list the meetings")
    p.add_argument("--json", action="store_true")

    agenda = add(asub, "agenda", lambda a: 0, "the agenda")
    gsub = agenda.add_subparsers(dest="agenda_action", required=True, parser_class=parser_class)
    p = add(gsub, "add", cmd(cmd_agenda_add), "add an item with its decision category")
    p.add_argument("meeting")
    p.add_argument("--title", required=True)
    p.add_argument(
        "--category",
        default="ordinary",
        choices=sorted(DECISION_MAJORITIES),
        help="sets the majority",
    )
    p.add_argument("--text", help="the proposed resolution")
    p.add_argument("--requested-by", help="an owner or 'council' who asked for the item")
    p.add_argument("--requested-on", help="the day the request arrived")
    p.add_argument("--answers", choices=["yes_no", "choice", "rating"], help="a poll's question")
    p.add_argument("--option", action="append", default=[], help="a choice of a poll question")
    p.add_argument("--json", action="store_true")
    p = add(gsub, "list", cmd(cmd_agenda_list), "show the agenda")
    p.add_argument("meeting")
    p.add_argument("--json", action="store_true")

    p = add(asub, "exclude", cmd(cmd_exclude), "an owner who must not vote on an item")
    p.add_argument("meeting")
    p.add_argument("--item", required=True)
    p.add_argument("--person", required=True)
    p.add_argument("--reason", required=True)

    p = add(asub, "convene", cmd(cmd_convene), "record the convocation as sent; checks 15 days")
    p.add_argument("meeting")
    p.add_argument("--date", help="the day it was sent (default: today)")
    p.add_argument("--json", action="store_true")

    convocation = add(asub, "convocation", lambda a: 0, "the convocation letters")
    csub = convocation.add_subparsers(
        dest="convocation_action", required=True, parser_class=parser_class
    )
    p = add(csub, "pdf", cmd(cmd_convocation_pdf), "write the convocations with proxy forms")
    p.add_argument("meeting")
    p.add_argument("--person", help="one owner only (default: every owner, in one PDF)")
    p.add_argument("--out", required=True)

    p = add(asub, "attend", cmd(cmd_attend), "record an owner present (or --remote, --leave)")
    p.add_argument("meeting")
    p.add_argument("person")
    p.add_argument("--remote", action="store_true")
    p.add_argument("--leave", action="store_true", help="the owner leaves")
    p.add_argument("--at", help="arrival or departure time (default: now)")

    p = add(asub, "proxy", cmd(cmd_proxy), "record an owner represented by a proxy holder")
    p.add_argument("meeting")
    p.add_argument("person")
    p.add_argument("--holder", required=True, help="an owner, or the name of someone else")
    p.add_argument("--at")

    p = add(asub, "open", cmd(cmd_open), "open the meeting; prints the quorum and its figures")
    p.add_argument("meeting")
    p.add_argument("--at")
    p.add_argument("--chair")
    p.add_argument("--secretary")
    p.add_argument("--json", action="store_true")

    p = add(asub, "vote", cmd(cmd_vote), "record a vote in the room")
    p.add_argument("meeting")
    p.add_argument("--item", required=True, help="its number on the agenda or its id")
    p.add_argument("--person")
    p.add_argument("--vote", choices=[v.value for v in Vote])
    p.add_argument("--all", choices=[v.value for v in Vote], help="everyone present votes so")
    p.add_argument("--against", action="append", default=[], help="with --all: votes against")
    p.add_argument("--abstain", action="append", default=[], help="with --all: abstains")
    p.add_argument("--close-item", action="store_true", help="the chair closes this vote")
    p.add_argument("--at")

    p = add(asub, "close", cmd(cmd_close), "close the meeting")
    p.add_argument("meeting")
    p.add_argument("--at")
    p.add_argument("--chair", help="if not named at the opening")
    p.add_argument("--secretary")

    p = add(asub, "second", cmd(cmd_second), "schedule the second assembly after no quorum")
    p.add_argument("meeting")
    p.add_argument("--date", required=True)
    p.add_argument("--place")

    p = add(asub, "result", cmd(cmd_result), "what the meeting decided")
    p.add_argument("meeting")
    p.add_argument("--json", action="store_true")

    minutes = add(asub, "minutes", lambda a: 0, "the minutes")
    msub = minutes.add_subparsers(dest="minutes_action", required=True, parser_class=parser_class)
    p = add(msub, "pdf", cmd(cmd_minutes_pdf), "write the minutes")
    p.add_argument("meeting")
    p.add_argument("--out", required=True)
    p.add_argument("--in-language", choices=["fr", "nl", "de", "en"], help="default: the meeting's")
    p = add(msub, "sent", cmd(cmd_distributed), "record the minutes as sent to the owners")
    p.add_argument("meeting")
    p.add_argument("--date")

    ballot = add(asub, "ballot", lambda a: 0, "remote ballots")
    bsub = ballot.add_subparsers(dest="ballot_action", required=True, parser_class=parser_class)
    p = add(bsub, "cast", cmd(cmd_ballot_cast), "sign and record a remote ballot")
    p.add_argument("meeting")
    p.add_argument("--vote", action="append", default=[], metavar="ITEM=ANSWER", required=True)
    p.add_argument("--person", help="on the shared PC: who votes (asks their PIN)")
    p = add(bsub, "list", cmd(cmd_ballot_list), "the remote ballots this device holds")
    p.add_argument("meeting")
    p.add_argument("--json", action="store_true")
    p = add(bsub, "withdraw", cmd(cmd_ballot_withdraw), "withdraw one of your ballots")
    p.add_argument("meeting")
    p.add_argument("ballot")
    p.add_argument("--person", help="on the shared PC: whose ballot (asks their PIN)")

    p = add(asub, "register", cmd(cmd_register), "the register of decisions")
    p.add_argument("--json", action="store_true")
