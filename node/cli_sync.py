"""``koprogo-node`` commands for the relay: connect, invite, join, sync,
status, devices (issue 3, the CLI contract scripts and tests rely on)."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import getpass
import json
import os
import sys
from collections.abc import Callable
from datetime import datetime
from typing import Any

from shared import invites
from shared.ids import is_ulid
from shared.protocol import Role

from .errors import InputError, NotFoundError
from .i18n import N_, _, format_instant, format_moment, ngettext
from .identity import device_identity
from .keys import KeyStorage
from .session import Session
from .sync import machine, service
from .sync.engine import REMOVED, RoundReport, SyncEngine, SyncError, members_state, status_in_words
from .sync.membership import device_list
from .sync.relay_client import RelayError

WATCH_INTERVAL = 30.0  # seconds between rounds when no notification arrives


def _with_engine(session: Session, work: Callable[[SyncEngine], Any]) -> Any:
    return service.with_engine(session, work)


# -- commands --------------------------------------------------------------------


def cmd_relay_connect(args: argparse.Namespace, open_session: Callable) -> int:
    with open_session(args) as session:
        first = service.connect(session, args.url)
    message = _("Building registered at {url}.") if first else _("Reconnected to {url}.")
    print(message.format(url=args.url), file=sys.stderr)
    return 0


def cmd_invite_create(args: argparse.Namespace, open_session: Callable) -> int:
    role = Role(args.role)
    with open_session(args) as session:
        created = service.create_invite(session, role, args.person or None, args.days, args.kiosk)
    result = {
        "code": created.code,
        "id": created.invite_id,  # to withdraw it (invite withdraw ID)
        "expires_at": service.iso(created.expires_at),
        "role": created.role.value,
        "person": created.person,
    }
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        print(created.code)
        when = format_moment(datetime.fromtimestamp(created.expires_at))
        print(
            _("Valid once, until {when}. To withdraw it: invite withdraw {id}").format(
                when=when, id=created.invite_id
            ),
            file=sys.stderr,
        )
    return 0


def cmd_invite_list(args: argparse.Namespace, open_session: Callable) -> int:
    with open_session(args) as session:
        try:  # the relay has the newest members log; without it, show ours
            service.refresh_members(session)
        except (SyncError, RelayError) as exc:
            print(
                _("Showing the invites known here ({reason}).").format(reason=exc),
                file=sys.stderr,
            )
        waiting = service.invites(session)
        readable = session.can_read("registry")
        names = {p.id: p.name for p in session.registry.read().persons} if readable else {}
    if args.json:
        print(json.dumps(waiting, indent=2))
    elif not waiting:
        print(_("No invite is waiting to be used."), file=sys.stderr)
    for invite in [] if args.json else waiting:
        whose = f" {names.get(invite['person'], invite['person'])}" if invite["person"] else ""
        kiosk = (" " + _("(shared computer)")) if invite["kiosk"] else ""
        until = _("until {when}").format(when=format_instant(invite["expires_at"]))
        print(f"{invite['id']}  {invite['role']:<8}{whose}{kiosk}  {until}")
    return 0


def cmd_invite_withdraw(args: argparse.Namespace, open_session: Callable) -> int:
    with open_session(args) as session:
        service.refresh_members(session)
        invite_id = args.id
        if not is_ulid(invite_id) and invites.is_well_formed(invite_id):
            # the code, which is what the syndic has in hand (found by hand)
            invite_id = invites.derive(invite_id).invite_id
        service.withdraw_invite(session, invite_id)
    print(_("Invite withdrawn: nobody can join with its code any more."), file=sys.stderr)
    return 0


def cmd_join(args: argparse.Namespace, profile_dir: Callable, prompt: Callable) -> int:
    storage = KeyStorage(args.key_storage) if args.key_storage else None
    session = service.join(profile_dir(args), args.relay, args.code, prompt, storage)
    session.close()
    print(_("Joined the building; this device is now a member."), file=sys.stderr)
    return 0


STATE_WORDS = {
    machine.State.IDLE: N_("up to date"),
    machine.State.PUSHING: N_("sending"),
    machine.State.PULLING: N_("receiving"),
    machine.State.BACKING_OFF: N_("waiting to try again"),
    machine.State.REJECTED: N_("stopped"),
    machine.State.READ_ONLY: N_("read-only"),
}


def _round_words(pending: int, report: RoundReport) -> str:
    """What a round did, counted as ``status`` counts: changes made here
    (merged into fewer envelopes before sending) and other devices' changes
    applied here (not this device's own, which the relay sends back)."""
    sent = ngettext("Sent {n} change", "Sent {n} changes", pending).format(n=pending)
    received = ngettext("received {n}", "received {n}", report.applied).format(n=report.applied)
    return _("{sent}, {received}.").format(sent=sent, received=received)


def cmd_sync(args: argparse.Namespace, open_session: Callable) -> int:
    with open_session(args) as session:
        if args.watch:
            return service.with_engine(session, _watch)
        pending = session.profile.store.outbox_count()
        report = service.sync_once(session)
        pending -= session.profile.store.outbox_count()
    print(_round_words(max(0, pending), report), file=sys.stderr)
    for reason in report.skipped:
        print(_("Skipped: {reason}").format(reason=reason), file=sys.stderr)
    return 0


async def _watch(engine: SyncEngine) -> int:
    """Sync now, then again on every relay notification or every 30 s, until
    interrupted; failures back off and are reported, never fatal."""
    while True:
        now = engine.clock()
        if engine.status.state in (machine.State.REJECTED, machine.State.READ_ONLY):
            # stopped by an earlier round (found by hand: --watch on a removed
            # device waited for ever, saying nothing)
            print(status_in_words(engine.status).error or "", file=sys.stderr)
            return 1
        if machine.can_start(engine.status, now):
            try:
                pending = engine.store.outbox_count()
                report = await service.sync_round(engine)
                pending -= engine.store.outbox_count()
                if pending > 0 or report.applied:
                    print(_round_words(max(0, pending), report), file=sys.stderr)
            except SyncError as exc:
                print(exc, file=sys.stderr)
                if engine.status.state in (machine.State.REJECTED, machine.State.READ_ONLY):
                    return 1
            service.save_status(engine.session, engine.status)
        wait = WATCH_INTERVAL
        if engine.status.retry_at:
            wait = max(0.1, min(wait, engine.status.retry_at - engine.clock()))
        # a notification, the timeout or a dropped connection all mean "sync again"
        with contextlib.suppress(TimeoutError, RelayError):
            await asyncio.wait_for(_next_notification(engine), timeout=wait)


async def _next_notification(engine: SyncEngine) -> None:
    async for _message in engine.client.notifications():
        return
    await asyncio.sleep(1)


def cmd_status(args: argparse.Namespace, open_session: Callable) -> int:
    with open_session(args) as session:
        data = service.status(session)
    if args.json:
        print(json.dumps(data, indent=2, ensure_ascii=False))
        return 0
    if not data["relay"]:  # found by hand: "State: up to date; last sync never"
        print(
            _(
                "Relay: none. This building is kept on this computer only; to share it with "
                "other devices: relay connect URL."
            )
        )
        return 0
    print(_("Relay: {relay}").format(relay=data["relay"]))
    state = _(STATE_WORDS[machine.State(data["state"])])
    if data["state"] == machine.State.IDLE.value and data["pending_envelopes"]:
        state = _("changes to send")  # found by hand: "up to date; 1 change waiting"
    waiting = ngettext("{n} change waiting", "{n} changes waiting", data["pending_envelopes"])
    removed = any(e["code"] in REMOVED for e in data["errors"])
    if removed and data["pending_envelopes"]:  # found by hand: "2 changes waiting", for ever
        waiting = ngettext(
            "{n} change that will not be sent (this device was removed)",
            "{n} changes that will not be sent (this device was removed)",
            data["pending_envelopes"],
        )
    print(
        _("State: {state}; last sync {when}; {waiting}").format(
            state=state,
            when=format_instant(data["last_sync"]) or _("never"),
            waiting=waiting.format(n=data["pending_envelopes"]),
        )
    )
    for error in data["errors"]:
        print(f"- {error['message']}")
    return 0


def cmd_device_list(args: argparse.Namespace, open_session: Callable) -> int:
    with open_session(args) as session:
        if session.profile.store.get_meta("relay_url"):
            try:  # the relay has the newest members log; without it, show ours
                service.refresh_members(session)
            except (SyncError, RelayError) as exc:
                print(
                    _("Showing the devices known here ({reason}).").format(reason=exc),
                    file=sys.stderr,
                )
        devices = device_list(
            members_state(session), device_identity(session.profile.store).device_id
        )
        # whose device each is, by name where this device reads the registry
        readable = session.can_read("registry")
        names = {p.id: p.name for p in session.registry.read().persons} if readable else {}
    if args.json:
        print(json.dumps(devices, indent=2))
    else:
        for d in devices:
            flags = (" " + _("(this device)")) if d["this_device"] else ""
            flags += (" " + _("(removed)")) if d["revoked"] else ""
            whose = f" {names.get(d['person'], d['person'])}" if d.get("person") else ""
            joined = _("joined {day}").format(day=d["joined"])
            print(f"{d['id']}  {d['role']:<8}{whose}  {joined}{flags}")
    return 0


def cmd_device_revoke(args: argparse.Namespace, open_session: Callable) -> int:
    if bool(args.id) == bool(args.person):
        raise InputError(_("Name one device, or a person with --person."))
    if args.person:
        with open_session(args) as session:
            try:  # by name while they are in the registry; by id after a removal
                found = session.registry.person_named(args.person)
                person, name = found.id, found.name
            except NotFoundError:
                person = name = args.person
            gone = service.revoke_person(session, person, name)
        print(
            ngettext(
                "{n} device removed ({ids}); new keys sent to the others. What it already had "
                "stays on it.",
                "{n} devices removed ({ids}); new keys sent to the others. What they already "
                "had stays on them.",
                len(gone),
            ).format(n=len(gone), ids=name),  # whose, not ids (found by hand)
            file=sys.stderr,
        )
        return 0
    with open_session(args) as session:
        service.revoke(session, args.id)
    print(  # no "epoch" (found by hand: jargon)
        _("Device removed; the other devices received new keys. What it had stays on it."),
        file=sys.stderr,
    )
    return 0


def cmd_erase_person(args: argparse.Namespace, open_session: Callable) -> int:
    with open_session(args) as session:
        session.require_registry()
        # a name too, as elsewhere; an id of a person removed before is kept
        person = (
            session.registry.read().person(args.id)
            if is_ulid(args.id)
            else session.registry.person_named(args.id)
        )
        person_id = person.id if person is not None else args.id
        name = person.name if person is not None else args.id  # removed before: its id
        result = service.erase_person(session, person_id)
    where = (
        _("from this device and from the relay; other devices forget it as they sync")
        if result["relay"]
        else _("from this device")
    )
    print(_("{name} was erased {where}.").format(name=name, where=where), file=sys.stderr)
    print(_(service.ACCOUNTS_KEEP), file=sys.stderr)
    if result.get("revoked"):
        count = len(result["revoked"])
        print(
            ngettext(
                "{n} device of theirs was removed from the building.",
                "{n} devices of theirs were removed from the building.",
                count,
            ).format(n=count),
            file=sys.stderr,
        )
    return 0


def cmd_directory(args: argparse.Namespace, open_session: Callable) -> int:
    from .documents import directory_doc

    with open_session(args) as session:
        doc = session.document("directory").doc
        lots = directory_doc.read(doc)
        name, address = directory_doc.building(doc)
    if args.json:
        print(json.dumps([lot.__dict__ for lot in lots], indent=2, ensure_ascii=False))
    else:
        if name:
            print(" — ".join(part for part in (name, address) if part))
        for lot in lots:
            print(f"{lot.number:<8} {lot.type:<11} {lot.quota:>6}  {lot.voter}")
        if not lots and not name:  # found by hand: an empty output and nothing said
            print(
                _(
                    "The directory has not reached this device yet: the syndic's device "
                    "publishes it when it syncs. Sync again later."
                ),
                file=sys.stderr,
            )
    return 0


def cmd_inbox_send(args: argparse.Namespace, open_session: Callable) -> int:
    with open_session(args) as session:
        person = session.registry.person_named(args.person).id  # an id, or a name
        print(session.inbox.send(person, args.title, args.text).record_id)
    return 0


def _pin(creating: bool) -> str:
    pin = os.environ.get("KOPROGO_PIN")
    if pin is None and sys.stdin.isatty():
        pin = getpass.getpass(_("New PIN: ") if creating else _("PIN of this person: "))
        if creating and getpass.getpass(_("Repeat the PIN: ")) != pin:
            raise InputError(_("The two PINs differ."))
    if not pin:
        raise InputError(_("A PIN is needed (KOPROGO_PIN, or type it on a terminal)."))
    return pin


def kiosk_pin(session: Session, person: str) -> str | None:
    """On the kiosk, ``person``'s PIN, asked once they are known to be
    enrolled here; elsewhere None."""
    if session.profile.store.get_meta("role") != Role.KIOSK.value:
        return None
    from .sync import kiosk

    kiosk.require_enrolled(session, person)
    return _pin(False)


def cmd_person_enrol(args: argparse.Namespace, open_session: Callable) -> int:
    with open_session(args) as session:
        person = service.enrol_person(session, args.code, _pin(True))
        from .sync import kiosk

        known = kiosk.enrolled_names(session).get(person)
        name = f"{known} ({person})" if known else person
    print(
        _("Enrolled on this PC: {name}. Their PIN opens their inbox here.").format(name=name),
        file=sys.stderr,
    )
    return 0


def cmd_inbox_show(args: argparse.Namespace, open_session: Callable) -> int:
    with open_session(args) as session:
        person = args.person or session.profile.store.get_meta("person")
        if not person:
            raise InputError(_("Say whose inbox to show (their name or id)."))
        if session.profile.store.get_meta("role") == Role.KIOSK.value:
            from .sync import kiosk

            person = kiosk.enrolled_named(session, person)
            items = service.kiosk_inbox(session, person, kiosk_pin(session, person) or "")
        else:
            if args.person and not is_ulid(person) and session.can_read("registry"):
                person = session.registry.person_named(person).id  # a name; an id as it is
            items = session.inbox.items(person)
    if args.json:
        print(json.dumps([item.__dict__ for item in items], indent=2, ensure_ascii=False))
    elif not items:
        print(_("The inbox is empty."))  # found by hand: nothing at all was printed
    else:
        for item in items:
            print(f"{format_instant(item.at)}  {item.title}\n    {item.text}")
    return 0


def add_commands(
    sub: Any,
    add: Callable,
    open_session: Callable,
    profile_dir: Callable,
    prompt: Callable,
    parser_class: type,
) -> None:
    """Register the relay commands on ``koprogo-node``'s parser."""
    relay = add(sub, "relay", lambda a: 0, "the relay this building syncs through")
    rsub = relay.add_subparsers(dest="action", required=True, parser_class=parser_class)
    p = add(
        rsub,
        "connect",
        lambda a: cmd_relay_connect(a, open_session),
        "register the building at a relay, or reconnect to it",
    )
    p.add_argument("url")

    invite = add(sub, "invite", lambda a: 0, "invites for new devices")
    isub = invite.add_subparsers(dest="action", required=True, parser_class=parser_class)
    p = add(
        isub, "create", lambda a: cmd_invite_create(a, open_session), "make a one-time invite code"
    )
    p.add_argument("--role", required=True, choices=[r.value for r in Role])
    p.add_argument("--person", help="the person an owner's device belongs to (id or name)")
    p.add_argument("--days", type=int, default=7, help="days before the invite expires")
    p.add_argument(
        "--kiosk",
        action="store_true",
        help="for the person's keys on the building's shared PC (with --person)",
    )
    p.add_argument("--json", action="store_true")
    p = add(
        isub,
        "list",
        lambda a: cmd_invite_list(a, open_session),
        "the invites waiting to be used (not used, expired or withdrawn)",
    )
    p.add_argument("--json", action="store_true")
    p = add(
        isub,
        "withdraw",
        lambda a: cmd_invite_withdraw(a, open_session),
        "withdraw an invite not used yet: its code no longer works",
    )
    p.add_argument("id", help="the invite's id (invite list) or its code")

    p = add(
        sub,
        "join",
        lambda a: cmd_join(a, profile_dir, prompt),
        "join a building with an invite code (creates the profile)",
    )
    p.add_argument("--relay", required=True, help="the relay's address, as the syndic gave it")
    p.add_argument(
        "--code", required=True, help="the invite code the syndic gave you (XXXXX-XXXXX)"
    )
    p.add_argument("--key-storage", choices=[s.value for s in KeyStorage])

    p = add(sub, "sync", lambda a: cmd_sync(a, open_session), "sync with the relay")
    mode = p.add_mutually_exclusive_group()
    mode.add_argument("--once", action="store_true", help="one round, then exit (default)")
    mode.add_argument("--watch", action="store_true", help="keep syncing until interrupted")

    p = add(sub, "status", lambda a: cmd_status(a, open_session), "sync status")
    p.add_argument("--json", action="store_true")

    p = add(
        sub,
        "erase-person",
        lambda a: cmd_erase_person(a, open_session),
        "erase a former owner's or occupant's personal data everywhere (GDPR art. 17)",
    )
    p.add_argument("id", help="the person's id, or their name while they are in the registry")

    p = add(
        sub,
        "directory",
        lambda a: cmd_directory(a, open_session),
        "the building's directory: lots, quotas and who votes (what every member sees)",
    )
    p.add_argument("--json", action="store_true")

    kiosk_person = add(sub, "person-key", lambda a: 0, "owners' keys on the shared PC")
    kpsub = kiosk_person.add_subparsers(dest="action", required=True, parser_class=parser_class)
    p = add(
        kpsub,
        "enrol",
        lambda a: cmd_person_enrol(a, open_session),
        "on the kiosk: keep an owner's keys under their PIN (kiosk invite code)",
    )
    p.add_argument("--code", required=True)

    inbox = add(sub, "inbox", lambda a: 0, "personal messages (one person's inbox)")
    ibsub = inbox.add_subparsers(dest="action", required=True, parser_class=parser_class)
    p = add(
        ibsub,
        "send",
        lambda a: cmd_inbox_send(a, open_session),
        "put a message in a person's inbox (syndic)",
    )
    p.add_argument("person")
    p.add_argument("--title", required=True)
    p.add_argument("--text", default="")
    p = add(
        ibsub,
        "show",
        lambda a: cmd_inbox_show(a, open_session),
        "show an inbox (default: this device's person)",
    )
    p.add_argument("person", nargs="?")
    p.add_argument("--json", action="store_true")

    device = add(sub, "device", lambda a: 0, "devices of the building")
    dsub = device.add_subparsers(dest="action", required=True, parser_class=parser_class)
    p = add(dsub, "list", lambda a: cmd_device_list(a, open_session), "list the devices")
    p.add_argument("--json", action="store_true")
    p = add(
        dsub,
        "revoke",
        lambda a: cmd_device_revoke(a, open_session),
        "remove a device and renew the keys",
    )
    p.add_argument("id", nargs="?", default="")
    p.add_argument("--person", default="", help="remove every device of this person")
