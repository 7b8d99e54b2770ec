"""``koprogo-node``: the core, headless, for scripts, migrations and tests.

A thin layer over :class:`node.session.Session` (STYLE, sqlite-utils): each
command parses its arguments, calls one service, and prints the result
(``--json`` for scripts). A user's mistake ends with a readable message on
stderr and a non-zero exit, never a traceback.

Every command is documented in README.md; ``tests/test_cli_docs.py`` fails
when one is not.
"""

from __future__ import annotations

import argparse
import getpass
import json
import logging
import os
import sys
from collections.abc import Callable, Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

from . import cli_assembly, cli_energy, cli_governance, cli_ledger, cli_sync, i18n
from .domain.registry import (
    Association,
    Registry,
    check_bce,
    format_share,
    parse_lot_type,
    parse_right,
    parse_share,
)
from .errors import InputError, KoprogoError
from .export import export_registry
from .first_run import create_building, create_demo
from .i18n import N_, _, ngettext
from .keys import PASSPHRASE_ENV, KeyStorage, change_passphrase
from .profile import Profile, default_profiles_dir
from .session import Session
from .sync import service

EXIT_USAGE = 2
EXIT_PROBLEMS = 3


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # argparse's own errors: exit 2, no traceback
        self.print_usage(sys.stderr)
        raise SystemExit(self._exit_with(message))

    def _exit_with(self, message: str) -> int:
        print(
            "{prog}: {error}: {message}".format(prog=self.prog, error=_("error"), message=message),
            file=sys.stderr,
        )
        return EXIT_USAGE


def _passphrase_prompt(creating: bool) -> str | None:
    """Ask on the terminal when there is one (confirming a new passphrase)."""
    if not sys.stdin.isatty():
        return None
    first = getpass.getpass(_("Passphrase: ") if not creating else _("New passphrase: "))
    if creating and getpass.getpass(_("Repeat the passphrase: ")) != first:
        raise InputError(_("The two passphrases differ."))
    return first


def _profile_dir(args: argparse.Namespace) -> Path:
    if args.profile:
        return Path(args.profile)
    if env := os.environ.get("KOPROGO_PROFILE"):
        return Path(env)
    return default_profiles_dir() / "default"


def _open(args: argparse.Namespace) -> Session:
    session = Session.open(_profile_dir(args), _passphrase_prompt)
    # found by hand: edits (a ballot too) went on silently on a removed device;
    # the sync commands say it in their own words
    if args.command not in _SAYS_REMOVED and service.removed_from_building(session):
        print(
            _(
                "This device was removed from the building: what you change here stays on "
                "this computer."
            ),
            file=sys.stderr,
        )
    return session


_SAYS_REMOVED = {"status", "sync", "device", "relay", "join", "invite"}


def _open_registry(args: argparse.Namespace) -> Session:
    """Open for a command on the registry, refused in words on a device whose
    role does not receive it (an owner's, the kiosk): it would show an empty
    building, or say a person does not exist."""
    return _open_requiring(args, Session.require_registry)


def _open_accounts(args: argparse.Namespace) -> Session:
    """Open for a command on the accounts, refused in words on an owner's
    device or the kiosk (found by hand: reads said "only the syndic's device
    changes this part", and an owner's own statement "no such person")."""
    return _open_requiring(args, Session.require_accounts)


def _open_requiring(args: argparse.Namespace, require: Callable[[Session], None]) -> Session:
    session = _open(args)
    try:
        require(session)
    except InputError:
        session.close()
        raise
    return session


def _print_json(value: Any) -> None:
    print(json.dumps(value, ensure_ascii=False, indent=2, sort_keys=False, default=str))


# -- commands ------------------------------------------------------------------


def cmd_init(args: argparse.Namespace) -> int:
    association = Association(
        name=args.name,
        quota_total=args.quota_total,
        bce_number=check_bce(args.bce) if args.bce else "",
    )
    storage = KeyStorage(args.key_storage) if args.key_storage else None
    with create_building(_profile_dir(args), association, _passphrase_prompt, storage) as session:
        _say_created(session)
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    storage = KeyStorage(args.key_storage) if args.key_storage else None
    with create_demo(_profile_dir(args), _passphrase_prompt, storage) as session:
        _say_created(session)
    return 0


def _say_created(session: Session) -> None:
    where = (
        _("the system keyring")
        if session.profile.key_storage is KeyStorage.KEYRING
        else _("a key file protected by your passphrase")
    )
    print(
        _("Building created in {path}; its key is kept in {where}.").format(
            path=session.profile.path, where=where
        ),
        file=sys.stderr,
    )


def cmd_association_set(args: argparse.Namespace) -> int:
    fields = {
        name: value
        for name, value in {
            "name": args.name,
            "quota_total": args.quota_total,
            "bce_number": args.bce,
            "street": args.street,
            "postal_code": args.postal_code,
            "city": args.city,
            "provisional_acceptance": args.provisional_acceptance,
            "fiscal_year_start": args.fiscal_year_start,
            "iban": args.iban,
            "reserve_iban": args.reserve_iban,
            "bic": args.bic,
        }.items()
        if value is not None
    }
    with _open_registry(args) as session:
        session.registry.set_association(**fields)
    return 0


def cmd_lot_add(args: argparse.Namespace) -> int:
    with _open_registry(args) as session:
        change = session.registry.add_lot(
            args.number, parse_lot_type(args.type), args.quota, args.floor
        )
        print(change.record_id)
    return 0


def cmd_lot_set(args: argparse.Namespace) -> int:
    fields: dict[str, Any] = {}
    if args.quota is not None:
        fields["quota"] = args.quota
    if args.type is not None:
        fields["type"] = parse_lot_type(args.type)
    if args.floor is not None:
        fields["floor"] = args.floor
    if args.new_number is not None:
        fields["number"] = args.new_number
    if not fields:
        raise InputError(_("Say what to change: --quota, --type, --floor or --number."))
    with _open_registry(args) as session:
        session.registry.update_lot(args.lot, **fields)
    return 0


def cmd_lot_remove(args: argparse.Namespace) -> int:
    with _open_registry(args) as session:
        session.registry.delete_lot(args.lot)
    return 0


def _person_fields(args: argparse.Namespace) -> dict[str, Any]:
    fields = {
        "email": args.email,
        "phone": args.phone,
        "language": args.language,
        "street": args.street,
        "postal_code": args.postal_code,
        "city": args.city,
    }
    if args.email_consent is not None:
        fields["email_consent"] = args.email_consent
    return {k: v for k, v in fields.items() if v is not None}


def cmd_person_add(args: argparse.Namespace) -> int:
    with _open_registry(args) as session:
        change = session.registry.add_person(args.name, **_person_fields(args))
        if args.json:
            _print_json({"id": change.record_id})
        else:
            print(change.record_id)
    return 0


def cmd_person_set(args: argparse.Namespace) -> int:
    fields = _person_fields(args)
    if args.name is not None:
        fields["name"] = args.name
    with _open_registry(args) as session:
        session.registry.update_person(args.id, **fields)
    return 0


def _warn_devices_left_behind(session: Session, person_id: str, name: str) -> None:
    """After a sale or a removal: say that the person's devices still
    receive the building's news, and how to remove them."""
    left = service.devices_left_behind(session, person_id)
    if left:
        print(
            ngettext(
                "{name} holds no lot any more, but {n} device of theirs is still in the "
                "building and receives its directory, meetings and news. Remove it: "
                "koprogo-node device revoke --person {id} (what it already received stays on it).",
                "{name} holds no lot any more, but {n} devices of theirs are still in the "
                "building and receive its directory, meetings and news. Remove them: "
                "koprogo-node device revoke --person {id} (what they already received stays on "
                "them).",
                len(left),
            ).format(name=name, n=len(left), id=person_id),
            file=sys.stderr,
        )
    warn_council_devices(session, person_id, name)


def warn_council_devices(session: Session, person_id: str, name: str) -> None:
    """Say it when the person's council device outlives their mandate."""
    if service.council_devices_without_mandate(session, person_id):
        print(
            _(
                "{name} no longer sits on the council, but their council member's device "
                "still receives the registry (e-mails, phones), the accounts and every "
                "inbox. Remove it: koprogo-node device revoke --person {id}"
            ).format(name=name, id=person_id),
            file=sys.stderr,
        )


def cmd_person_remove(args: argparse.Namespace) -> int:
    with _open_registry(args) as session:
        name = session.registry.find_person(args.id).name
        session.registry.delete_person(args.id)
        _warn_devices_left_behind(session, args.id, name)
    print(
        _(
            "{name} was removed. Their details stay in the building's history, on this "
            "computer and at the relay, until you erase them: koprogo-node erase-person {id}"
        ).format(name=name, id=args.id),
        file=sys.stderr,
    )
    return 0


def cmd_owner_set(args: argparse.Namespace) -> int:
    with _open_registry(args) as session:
        person = session.registry.person_named(args.person).id  # an id, or a name
        change = session.registry.set_owner(
            args.lot, person, parse_share(args.share), parse_right(args.right), args.voting
        )
        print(change.record_id)
    return 0


def cmd_owner_remove(args: argparse.Namespace) -> int:
    right = parse_right(args.right)
    with _open_registry(args) as session:
        lot = session.registry.find_lot(args.lot)
        person = session.registry.person_named(args.person)  # an id, or a name
        holding = next(
            (
                o
                for o in session.registry.read().holders(lot.id)
                if o.person_id == person.id and o.right == right
            ),
            None,
        )
        if holding is None:
            raise InputError(
                _("That person holds no such right on lot {lot}.").format(lot=lot.number)
            )
        session.registry.remove_owner(holding.id)
        _warn_devices_left_behind(session, person.id, person.name)
    return 0


def cmd_occupant_add(args: argparse.Namespace) -> int:
    from datetime import date

    since = None
    if args.since:
        try:
            since = date.fromisoformat(args.since)
        except ValueError:
            raise InputError(
                _("{text!r} is not a date; write it YYYY-MM-DD.").format(text=args.since)
            ) from None
    with _open_registry(args) as session:
        person = session.registry.person_named(args.person).id  # an id, or a name
        print(session.registry.add_occupant(args.lot, person, since).record_id)
    return 0


def cmd_occupant_remove(args: argparse.Namespace) -> int:
    with _open_registry(args) as session:
        lot = session.registry.find_lot(args.lot)
        person = session.registry.person_named(args.person).id  # an id, or a name
        occupancy = next(
            (
                o
                for o in session.registry.read().occupants
                if o.lot_id == lot.id and o.person_id == person
            ),
            None,
        )
        if occupancy is None:
            raise InputError(
                _("That person is not an occupant of lot {lot}.").format(lot=lot.number)
            )
        session.registry.remove_occupant(occupancy.id)
    return 0


def _parse_weights(items: Sequence[str]) -> dict[str, int]:
    weights = {}
    for item in items:
        lot, sep, weight = item.partition("=")
        if not sep or not weight.strip().isdigit():
            raise InputError(
                _("Write each weight as LOT=WEIGHT with a whole number, not {item!r}.").format(
                    item=item
                )
            )
        weights[lot.strip()] = int(weight)
    return weights


def cmd_key_add(args: argparse.Namespace) -> int:
    with _open_registry(args) as session:
        print(session.registry.add_key(args.name, _parse_weights(args.weight)).record_id)
    return 0


def cmd_key_set(args: argparse.Namespace) -> int:
    weights = _parse_weights(args.weight) if args.weight else None
    with _open_registry(args) as session:
        session.registry.update_key(args.id, args.name, weights)
    return 0


def cmd_key_remove(args: argparse.Namespace) -> int:
    with _open_registry(args) as session:
        session.registry.delete_key(args.id)
    return 0


def registry_json(registry: Registry, facts: Any) -> dict[str, Any]:
    """The ``registry --json`` contract (documented in README.md)."""
    a = registry.association
    lots = {lot.id: lot for lot in registry.lots}
    return {
        "association": None
        if a is None
        else {
            "name": a.name,
            "bce_number": a.bce_number,
            "street": a.address.street,
            "postal_code": a.address.postal_code,
            "city": a.address.city,
            "provisional_acceptance": a.provisional_acceptance,
            "fiscal_year_start": a.fiscal_year_start,
            "iban": a.iban,
            "reserve_iban": a.reserve_iban,
            "bic": a.bic,
            "quota_total": a.quota_total,
        },
        "lots": [
            {
                "id": x.id,
                "number": x.number,
                "type": x.type.value,
                "floor": x.floor,
                "quota": x.quota,
                "counts_as_lot": x.counts_as_lot,
            }
            for x in sorted(registry.lots, key=lambda x: x.number)
        ],
        "persons": [
            {
                "id": p.id,
                "name": p.name,
                "email": p.email,
                "phone": p.phone,
                "language": p.language,
                "email_consent": p.email_consent,
                "street": p.address.street,
                "postal_code": p.address.postal_code,
                "city": p.address.city,
            }
            for p in registry.persons
        ],
        "ownerships": [
            {
                "id": o.id,
                "lot_id": o.lot_id,
                "lot_number": lots[o.lot_id].number if o.lot_id in lots else None,
                "person_id": o.person_id,
                "share": format_share(o.share),
                "right": o.right.value,
                "voting": o.voting,
            }
            for o in registry.ownerships
        ],
        "occupants": [
            {"id": o.id, "lot_id": o.lot_id, "person_id": o.person_id, "since": o.since}
            for o in registry.occupants
        ],
        "keys": [
            {
                "id": "general",
                "name": _("General (quotas)"),
                "general": True,
                "weights": {x.id: x.quota for x in sorted(registry.lots, key=lambda x: x.id)},
            },
            *[  # sorted: the same registry prints the same on every device (found by hand)
                {
                    "id": k.id,
                    "name": k.name,
                    "general": False,
                    "weights": dict(sorted(k.weights.items())),
                }
                for k in sorted(registry.keys, key=lambda k: k.id)
            ],
        ],
        "facts": asdict(facts),
    }


def cmd_registry(args: argparse.Namespace) -> int:
    with _open_registry(args) as session:
        registry, facts = session.registry.read(), session.registry.facts()
    if args.json:
        _print_json(registry_json(registry, facts))
        return 0
    a = registry.association
    if a:
        bce = a.bce_number or _("no enterprise number")
        print(f"{a.name}  ({bce})")
    print(
        _("{lots} lots ({legal} counted for the law), quotas {sum}/{total}").format(
            lots=facts.lot_count,
            legal=facts.legal_lot_count,
            sum=facts.quota_sum,
            total=facts.quota_total,
        )
    )
    persons = {p.id: p for p in registry.persons}
    for lot in sorted(registry.lots, key=lambda x: x.number):
        holders = ", ".join(
            f"{persons[o.person_id].name if o.person_id in persons else '?'} "
            f"{format_share(o.share)}%{' *' if o.voting else ''}"
            for o in registry.holders(lot.id)
        )
        print(f"  {lot.number:<8} {lot.type.value:<11} {lot.quota:>6}  {holders}")
    return 0


def cmd_check(args: argparse.Namespace) -> int:
    with _open_registry(args) as session:
        problems = session.registry.problems()
    if args.json:
        _print_json([p.to_json() for p in problems])
    elif not problems:
        print(_("No problems found."))
    else:
        for problem in problems:
            print(f"- {problem.message}  [{problem.code}]")
    return EXIT_PROBLEMS if (problems and args.strict) else 0


def cmd_export(args: argparse.Namespace) -> int:
    with _open_registry(args) as session:
        files = export_registry(session.registry.read(), Path(args.to))
    for path in files:
        print(path)
    return 0


def cmd_checkpoint(args: argparse.Namespace) -> int:
    with _open(args) as session:
        session.registry.read()
        folded = session.checkpoint()
    for doc_id, count in folded.items():
        print(
            _("{doc}: {count} changes folded into one checkpoint").format(doc=doc_id, count=count)
        )
    return 0


def cmd_passphrase_change(args: argparse.Namespace) -> int:
    """Re-seal the key file under a new passphrase (KOPROGO_PASSPHRASE holds the
    current one, KOPROGO_NEW_PASSPHRASE the new one, or both are asked)."""
    path = _profile_dir(args)
    with Profile.open(path, _passphrase_prompt) as profile:
        if profile.key_storage is not KeyStorage.PASSPHRASE_FILE:
            raise InputError(
                _("This profile's key is in the system keyring; it has no passphrase.")
            )
    old = os.environ.get(PASSPHRASE_ENV) or _passphrase_prompt(False)
    new = os.environ.get("KOPROGO_NEW_PASSPHRASE") or _passphrase_prompt(True)
    if not old or not new:
        raise InputError(_("Give the current and the new passphrase."))
    change_passphrase(path, old, new)
    print(_("Passphrase changed."), file=sys.stderr)
    return 0


# -- parser ------------------------------------------------------------------------


def _add(sub: Any, name: str, func: Callable[[argparse.Namespace], int], help: str) -> Any:
    parser = sub.add_parser(name, help=help, description=help)
    parser.set_defaults(func=func)
    return parser


def _person_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--email")
    parser.add_argument("--phone")
    parser.add_argument("--language", choices=i18n.LANGUAGES)
    parser.add_argument("--street")
    parser.add_argument("--postal-code")
    parser.add_argument("--city")
    consent = parser.add_mutually_exclusive_group()
    consent.add_argument(
        "--email-consent",
        dest="email_consent",
        action="store_true",
        default=None,
        help="agreed in writing to convocations by e-mail",
    )
    consent.add_argument("--no-email-consent", dest="email_consent", action="store_false")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="koprogo-node", description="KoproGo core, headless.")
    parser.add_argument(
        "--profile", help="profile folder (default: $KOPROGO_PROFILE or the user's data folder)"
    )
    parser.add_argument("--language", choices=i18n.LANGUAGES, help="language of messages")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    p = _add(sub, "init", cmd_init, "create a new building in a new profile")
    p.add_argument("--name", required=True)
    p.add_argument("--quota-total", type=int, required=True, help="total of quotas in the deed")
    p.add_argument("--bce", help="enterprise number (BCE/KBO)")
    p.add_argument("--key-storage", choices=[s.value for s in KeyStorage])

    p = _add(sub, "demo", cmd_demo, "create the demo building in a new profile")
    p.add_argument("--key-storage", choices=[s.value for s in KeyStorage])

    assoc = _add(sub, "association", lambda a: 0, "the association's details")
    asub = assoc.add_subparsers(dest="action", required=True, parser_class=_Parser)
    p = _add(asub, "set", cmd_association_set, "change the association's details")
    p.add_argument("--name")
    p.add_argument("--quota-total", type=int)
    p.add_argument("--bce")
    p.add_argument("--street")
    p.add_argument("--postal-code")
    p.add_argument("--city")
    p.add_argument("--provisional-acceptance", help="YYYY-MM-DD")
    p.add_argument("--fiscal-year-start", help="MM-DD")
    p.add_argument("--iban", help="the current account of the association")
    p.add_argument("--reserve-iban", help="the reserve fund's separate account")
    p.add_argument("--bic")

    lot = _add(sub, "lot", lambda a: 0, "lots")
    lsub = lot.add_subparsers(dest="action", required=True, parser_class=_Parser)
    p = _add(lsub, "add", cmd_lot_add, "add a lot; prints its id")
    p.add_argument("--number", required=True)
    p.add_argument(
        "--type",
        required=True,
        help="apartment, house, commercial, office, cellar, garage, parking or other",
    )
    p.add_argument("--quota", type=int, required=True)
    p.add_argument("--floor", type=int)
    p = _add(lsub, "set", cmd_lot_set, "change a lot")
    p.add_argument("lot", help="lot number or id")
    p.add_argument("--quota", type=int)
    p.add_argument("--type")
    p.add_argument("--floor", type=int)
    p.add_argument("--number", dest="new_number", help="new lot number")
    p = _add(lsub, "remove", cmd_lot_remove, "remove a lot with its holders")
    p.add_argument("lot")

    person = _add(sub, "person", lambda a: 0, "persons")
    psub = person.add_subparsers(dest="action", required=True, parser_class=_Parser)
    p = _add(psub, "add", cmd_person_add, "add a person; prints the new id")
    p.add_argument("--name", required=True)
    _person_options(p)
    p.add_argument("--json", action="store_true")
    p = _add(psub, "set", cmd_person_set, "change a person")
    p.add_argument("id")
    p.add_argument("--name")
    _person_options(p)
    p = _add(psub, "remove", cmd_person_remove, "remove a person who holds no lot")
    p.add_argument("id")

    owner = _add(sub, "owner", lambda a: 0, "ownership of lots")
    osub = owner.add_subparsers(dest="action", required=True, parser_class=_Parser)
    p = _add(osub, "set", cmd_owner_set, "make a person a holder of a lot, or change the holding")
    p.add_argument("lot", help="lot number or id")
    p.add_argument("--person", required=True, help="person id or name")
    p.add_argument("--share", required=True, help="percentage, e.g. 50 or 33.33")
    p.add_argument("--voting", action="store_true", help="this holder votes for the lot")
    p.add_argument("--right", default="full", help="full, usufruct or bare")
    p = _add(osub, "remove", cmd_owner_remove, "remove a holder from a lot")
    p.add_argument("lot")
    p.add_argument("--person", required=True)
    p.add_argument("--right", default="full")

    occupant = _add(sub, "occupant", lambda a: 0, "occupants (tenants...)")
    ocsub = occupant.add_subparsers(dest="action", required=True, parser_class=_Parser)
    p = _add(ocsub, "add", cmd_occupant_add, "record an occupant of a lot")
    p.add_argument("lot")
    p.add_argument("--person", required=True)
    p.add_argument("--since", help="YYYY-MM-DD")
    p = _add(ocsub, "remove", cmd_occupant_remove, "an occupant left the lot")
    p.add_argument("lot")
    p.add_argument("--person", required=True)

    key = _add(sub, "key", lambda a: 0, "special distribution keys")
    ksub = key.add_subparsers(dest="action", required=True, parser_class=_Parser)
    p = _add(ksub, "add", cmd_key_add, "add a special key; prints its id")
    p.add_argument("--name", required=True)
    p.add_argument("--weight", action="append", default=[], metavar="LOT=WEIGHT")
    p = _add(ksub, "set", cmd_key_set, "rename a key or replace its weights")
    p.add_argument("id")
    p.add_argument("--name")
    p.add_argument("--weight", action="append", default=[], metavar="LOT=WEIGHT")
    p = _add(ksub, "remove", cmd_key_remove, "remove a special key")
    p.add_argument("id")

    p = _add(sub, "registry", cmd_registry, "show the registry")
    p.add_argument("--json", action="store_true")
    p = _add(sub, "check", cmd_check, "list the registry's problems")
    p.add_argument("--json", action="store_true")
    p.add_argument("--strict", action="store_true", help="exit 3 when there are problems")
    p = _add(sub, "export", cmd_export, "write the registry as plain SQLite and CSV files")
    p.add_argument("--to", required=True, help="folder to write into")
    _add(sub, "checkpoint", cmd_checkpoint, "fold stored changes into one checkpoint")
    pp = _add(sub, "passphrase", lambda a: 0, "the key file's passphrase")
    ppsub = pp.add_subparsers(dest="action", required=True, parser_class=_Parser)
    _add(ppsub, "change", cmd_passphrase_change, "choose a new passphrase")
    cli_sync.add_commands(sub, _add, _open, _profile_dir, _passphrase_prompt, _Parser)
    cli_ledger.add_commands(sub, _add, _open_accounts, _Parser)
    cli_assembly.add_commands(sub, _add, _open, _Parser)
    cli_governance.add_commands(sub, _add, _open_registry, _Parser)
    cli_energy.add_commands(sub, _add, _open, _Parser)
    return parser


def configure_logging() -> None:
    """The core's log lines are for developers, in English: on the terminal
    only with ``KOPROGO_LOG=debug|info|warning|error`` (found by hand:
    "changes under this device's id that it did not make: a copied profile"
    in the middle of a French sync's output). What users must know is said
    in their language by the commands and ``status``."""
    for name in ("node", "shared"):
        logger = logging.getLogger(name)
        if logger.handlers:
            continue  # already set up (several commands in one process)
        level = os.environ.get("KOPROGO_LOG", "").upper()
        if level in ("DEBUG", "INFO", "WARNING", "ERROR"):
            handler: logging.Handler = logging.StreamHandler()
            handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
            logger.setLevel(level)
        else:
            handler = logging.NullHandler()
        logger.addHandler(handler)


# argparse's own words, in our catalogs (found by hand: "error: argument
# --days: invalid int value: '1.5'" in English whatever the language)
ARGPARSE_WORDS = (
    N_("usage: "),
    N_("options"),
    N_("positional arguments"),
    N_("show this help message and exit"),
    N_("argument %(argument_name)s: %(message)s"),
    N_("invalid %(type)s value: %(value)r"),
    N_("invalid choice: %(value)r (choose from %(choices)s)"),
    N_("the following arguments are required: %s"),
    N_("unrecognized arguments: %s"),
    N_("expected one argument"),
    N_("expected at least one argument"),
    N_("expected at most one argument"),
    N_("ambiguous option: %(option)s could match %(matches)s"),
    N_("not allowed with argument %s"),
    N_("one of the arguments %s is required"),
    N_("ignored explicit argument %r"),
)


def _speak_argparse(argv: Sequence[str] | None) -> None:
    """argparse says its words through our catalogs, in the language asked
    for on the command line (read before parsing: its errors come then)."""
    args = list(sys.argv[1:] if argv is None else argv)
    for index, arg in enumerate(args):
        value = arg.split("=", 1)[1] if arg.startswith("--language=") else ""
        if arg == "--language" and index + 1 < len(args):
            value = args[index + 1]
        if value in i18n.LANGUAGES:
            i18n.set_language(value)
    argparse._ = i18n._  # type: ignore[attr-defined]  # argparse calls its module's _
    argparse.ngettext = i18n.ngettext  # type: ignore[attr-defined]


def main(argv: Sequence[str] | None = None) -> int:
    configure_logging()
    _speak_argparse(argv)
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.language:
        i18n.set_language(args.language)
    try:
        return args.func(args)
    except KoprogoError as exc:
        print(f"koprogo-node: {exc}", file=sys.stderr)
        return exc.exit_code
    except BrokenPipeError:
        # Output piped into a command that stopped reading (e.g. ``| head``).
        sys.stderr.close()
        return 0
    except KeyboardInterrupt:
        print(_("Interrupted; nothing half-saved."), file=sys.stderr)
        return 130


if __name__ == "__main__":
    raise SystemExit(main())
