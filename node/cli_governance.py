"""``koprogo-node council|auditor|syndic|tasks``: the council (art. 3.90),
the auditor of accounts (art. 3.91), the syndic's mandate (art. 3.89 §1) and
the syndic's task list (issue 5, point 6), each with ``--json`` where it
answers with data."""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from datetime import date
from typing import Any

from .domain.governance import ROLE_LABELS, Auditor, CouncilMandate, CouncilRole, Task
from .domain.registry import parse_date
from .errors import InputError
from .i18n import N_, _

SEVERITY_LABELS = {"overdue": N_("overdue"), "soon": N_("soon"), "later": N_("later")}


def _day(text: str | None, default: date | None = None) -> date | None:
    """A date option: ``None`` when absent (``default``), refused when not a date."""
    if text is None:
        return default
    return parse_date(text)


def _required_day(text: str | None, default: date | None = None) -> date:
    day = _day(text, default)
    if day is None:
        raise InputError(_("Give a date (YYYY-MM-DD)."))
    return day


def _print(data: Any, as_json: bool, text: Callable[[Any], str]) -> None:
    if as_json:
        print(json.dumps(data, indent=2, ensure_ascii=False, default=str))
    else:
        print(text(data))


def mandate_json(session: Any, mandate: CouncilMandate, today: date) -> dict[str, Any]:
    return {
        "id": mandate.id,
        "person_id": mandate.person_id,
        "name": session.governance.name_of(mandate.person_id),
        "role": mandate.role.value,
        "from": mandate.start.isoformat(),
        "until": mandate.until.isoformat() if mandate.until else None,
        "meeting_id": mandate.meeting_id or None,
        "running": mandate.running_on(today),
    }


def auditor_json(session: Any, auditor: Auditor) -> dict[str, Any]:
    return {
        "year": auditor.year,
        "person_id": auditor.person_id or None,
        "name": session.governance.auditor_name(auditor),
        "owner": auditor.owner,
        "meeting_id": auditor.meeting_id or None,
    }


def task_json(task: Task) -> dict[str, Any]:
    return {
        "due": task.due.isoformat(),
        "kind": task.kind,
        "severity": task.severity.value,
        "message": task.message,
        "ref": task.ref,
    }


def _mandate_line(m: dict[str, Any]) -> str:
    until = m["until"] or "…"
    role = _(ROLE_LABELS[CouncilRole(m["role"])])
    return f"{m['id']}  {role:<10} {m['name']:<30} {m['from']} → {until}"


def _auditor_line(a: dict[str, Any]) -> str:
    owner = _("owner") if a["owner"] else _("not an owner")
    return f"{a['year']}  {a['name']} ({owner})"


# -- commands ------------------------------------------------------------------------------


def cmd_council_add(args: argparse.Namespace, open_session: Callable) -> int:
    start = _required_day(args.start)
    until = _day(args.until)
    role = CouncilRole(args.role)
    with open_session(args) as session:
        change = session.governance.add_council_member(
            args.person, start, role, until, args.meeting or ""
        )
        mandate = session.governance.find_mandate(change.record_id)
        data = mandate_json(session, mandate, date.today())
    _print(data, args.json, lambda d: d["id"])
    return 0


def cmd_council_end(args: argparse.Namespace, open_session: Callable) -> int:
    until = _required_day(args.until, date.today())
    with open_session(args) as session:
        session.governance.end_council_member(args.mandate, until)
        mandate = session.governance.find_mandate(args.mandate)
        data = mandate_json(session, mandate, date.today())
        if until < session.now().date():  # ended already: their device may still read all
            from .cli import warn_council_devices

            warn_council_devices(
                session, mandate.person_id, session.governance.name_of(mandate.person_id)
            )
    _print(data, args.json, _mandate_line)
    return 0


def cmd_council_list(args: argparse.Namespace, open_session: Callable) -> int:
    on = _day(args.on)
    today = on or date.today()
    with open_session(args) as session:
        data = [mandate_json(session, m, today) for m in session.governance.council(on)]
    _print(
        data,
        args.json,
        lambda d: "\n".join(_mandate_line(m) for m in d) or _("Nobody sits on the council."),
    )
    return 0


def cmd_auditor_set(args: argparse.Namespace, open_session: Callable) -> int:
    with open_session(args) as session:
        session.governance.set_auditor(
            args.year,
            person_id=args.person or "",
            name=args.name or "",
            owner=args.owner,
            meeting_id=args.meeting or "",
        )
        data = auditor_json(session, session.governance.auditor(args.year))
    _print(data, args.json, _auditor_line)
    return 0


def cmd_auditor_show(args: argparse.Namespace, open_session: Callable) -> int:
    with open_session(args) as session:
        if args.year is None:
            data: Any = [auditor_json(session, a) for a in session.governance.auditors()]
            text = "\n".join(_auditor_line(a) for a in data)
        else:
            auditor = session.governance.auditor(args.year)
            data = auditor_json(session, auditor) if auditor else None
            text = _auditor_line(data) if data else ""
    _print(data, args.json, lambda d: text or _("No auditor of accounts is recorded."))
    return 0


def cmd_syndic_set(args: argparse.Namespace, open_session: Callable) -> int:
    if args.start is None and args.until is None:
        raise InputError(_("Say what to change: --from or --until."))
    with open_session(args) as session:
        start, until = session.governance.syndic_mandate()
        if args.start is not None:
            start = _day(args.start)
        if args.until is not None:
            until = _day(args.until)
        session.governance.set_syndic_mandate(start, until)
    return 0


def cmd_syndic_show(args: argparse.Namespace, open_session: Callable) -> int:
    from .domain.governance import syndic_mandate_end

    with open_session(args) as session:
        start, until = session.governance.syndic_mandate()
    end = syndic_mandate_end(start, until)
    data = {
        "from": start.isoformat() if start else None,
        "until": until.isoformat() if until else None,
        "ends_by_law": end.isoformat() if end else None,
    }
    _print(
        data,
        args.json,
        lambda d: _("Syndic's mandate: from {start} until {until} (ends by law on {end}).").format(
            start=d["from"] or "?", until=d["until"] or "?", end=d["ends_by_law"] or "?"
        ),
    )
    return 0


def cmd_tasks(args: argparse.Namespace, open_session: Callable) -> int:
    today = _required_day(args.today, date.today())
    with open_session(args) as session:
        data = [task_json(t) for t in session.governance.tasks(today)]
    _print(
        data,
        args.json,
        lambda d: (
            "\n".join(
                f"{t['due']}  {_(SEVERITY_LABELS[t['severity']]):<9} {t['message']}" for t in d
            )
            or _("Nothing to do.")
        ),
    )
    return 0


# -- parser ------------------------------------------------------------------------------------


def add_commands(sub: Any, add: Callable, open_session: Callable, parser_class: type) -> None:
    """Register ``council``, ``auditor``, ``syndic`` and ``tasks`` on
    ``koprogo-node``'s parser."""

    def cmd(func: Callable) -> Callable:
        return lambda a: func(a, open_session)

    council = add(sub, "council", lambda a: 0, "the council's members and mandates (art. 3.90)")
    csub = council.add_subparsers(dest="council_action", required=True, parser_class=parser_class)
    p = add(csub, "add", cmd(cmd_council_add), "record a council mandate; prints its id")
    p.add_argument("--person", required=True, help="person id")
    p.add_argument("--from", dest="start", required=True, metavar="DATE", help="YYYY-MM-DD")
    p.add_argument("--until", metavar="DATE", help="last day of the mandate, if known")
    p.add_argument("--role", choices=[r.value for r in CouncilRole], default="member")
    p.add_argument("--meeting", help="id of the assembly that appointed them")
    p.add_argument("--json", action="store_true")
    p = add(csub, "end", cmd(cmd_council_end), "end a council mandate")
    p.add_argument("mandate", help="mandate id")
    p.add_argument("--until", metavar="DATE", help="its last day (default: today)")
    p.add_argument("--json", action="store_true")
    p = add(csub, "list", cmd(cmd_council_list), "the council's mandates")
    p.add_argument("--on", metavar="DATE", help="only the mandates running that day")
    p.add_argument("--json", action="store_true")

    auditor = add(sub, "auditor", lambda a: 0, "the auditor of accounts of each year (art. 3.91)")
    asub = auditor.add_subparsers(dest="auditor_action", required=True, parser_class=parser_class)
    p = add(asub, "set", cmd(cmd_auditor_set), "record the auditor appointed for a fiscal year")
    p.add_argument("year", type=int, help="the fiscal year, e.g. 2027")
    who = p.add_mutually_exclusive_group(required=True)
    who.add_argument("--person", help="a person of the registry (id)")
    who.add_argument("--name", help="someone outside the registry")
    owner = p.add_mutually_exclusive_group()
    owner.add_argument(
        "--owner",
        dest="owner",
        action="store_true",
        default=None,
        help="an owner (default: whether the person holds a lot)",
    )
    owner.add_argument("--not-owner", dest="owner", action="store_false")
    p.add_argument("--meeting", help="id of the assembly that appointed them")
    p.add_argument("--json", action="store_true")
    p = add(asub, "show", cmd(cmd_auditor_show), "the auditor of a year, or of every year")
    p.add_argument("year", type=int, nargs="?")
    p.add_argument("--json", action="store_true")

    syndic = add(sub, "syndic", lambda a: 0, "the syndic's mandate (art. 3.89 §1)")
    ssub = syndic.add_subparsers(dest="syndic_action", required=True, parser_class=parser_class)
    p = add(ssub, "set", cmd(cmd_syndic_set), "record when the syndic's mandate starts and ends")
    p.add_argument("--from", dest="start", metavar="DATE", help="YYYY-MM-DD; empty to clear")
    p.add_argument("--until", metavar="DATE", help="YYYY-MM-DD; empty to clear")
    p = add(ssub, "show", cmd(cmd_syndic_show), "the syndic's mandate and its legal end")
    p.add_argument("--json", action="store_true")

    p = add(sub, "tasks", cmd(cmd_tasks), "the syndic's deadlines and alerts, overdue first")
    p.add_argument("--today", metavar="DATE", help="the day to count from (default: today)")
    p.add_argument("--json", action="store_true")
