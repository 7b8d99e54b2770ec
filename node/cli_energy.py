"""``koprogo-node energy ...``: a group energy purchase from a script (issue 6,
point 8), each answering with ``--json`` where it prints data. Campaigns are
named by their id, its first characters or their name; units by lot number;
owners (on the building's shared PC) by id or name, with ``KOPROGO_PIN``."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from shared.energy import ENERGY_TYPES, K_ANONYMITY

from .cli_ledger import _day, _print
from .documents import directory_doc
from .domain.energy import (
    ENERGY_LABELS,
    ContractType,
    EnergyType,
    Figures,
    Status,
    published_words,
)
from .errors import InputError, NotFoundError
from .files import write_document
from .i18n import _
from .services.energy import CampaignInfo, OfferView, OptInRecord, reading


def _who(session: Any, args: argparse.Namespace) -> tuple[str | None, str | None]:
    """(person, PIN) of who acts: on the kiosk the named owner and their PIN."""
    if not getattr(args, "person", None):
        return None, None
    from .cli_sync import _pin

    names = directory_doc.person_names(session.document("directory").doc)
    if not names and (session.profile.store.get_meta("role") or "syndic") == "syndic":
        names = {p.id: p.name for p in session.registry.read().persons}
    ref = args.person
    folded = ref.casefold()
    matches = [p for p in names if p == ref] or [
        p for p, n in names.items() if n.casefold() == folded
    ]
    matches = matches or [p for p, n in names.items() if n.casefold().startswith(folded)]
    if len(matches) != 1:
        raise NotFoundError(_("Nobody called {name!r} owns a unit here.").format(name=ref))
    kiosk = session.profile.store.get_meta("role") == "kiosk"
    return matches[0], (_pin(False) if kiosk else None)


def _campaign_json(info: CampaignInfo) -> dict[str, Any]:
    return {
        "id": info.id,
        "name": info.name,
        "status": info.status.value,
        "status_label": info.status_label,
        "energy_types": list(info.energy_types),
        "deadline": info.deadline.isoformat() if info.deadline else None,
        "contract_months": info.contract_months,
        "contract_type": info.contract_type,
        "created_at": info.created_at,
        "mandate": list(info.mandate) if info.mandate else None,
        "final_vote": list(info.final_vote) if info.final_vote else None,
        "chosen_offer": info.chosen_offer or None,
        "ended_on": info.ended_on.isoformat() if info.ended_on else None,
        "purged_on": info.purged_on.isoformat() if info.purged_on else None,
        "units": info.units,
    }


def _figures_json(figures: list[Figures]) -> list[dict[str, Any]]:
    out = []
    for f in figures:
        item: dict[str, Any] = {
            "energy": f.energy,
            "participants": f.participants,
            "units": f.units,
            "participation_pct": f.rate_pct,
            "shown": f.shown,
        }
        if f.shown:
            item.update(total_kwh=f.total_kwh, average_kwh=f.average_kwh, median_kwh=f.median_kwh)
        else:
            item["why"] = _(
                "Fewer than {k} verified participants: nothing is shown, so that no one's "
                "consumption can be guessed."
            ).format(k=K_ANONYMITY)
        out.append(item)
    return out


def _figures_text(data: list[dict[str, Any]]) -> str:
    lines = []
    for f in data:
        energy = ENERGY_LABELS[f["energy"]]
        label = _(energy)
        head = f"{label}: {f['participants']}/{f['units']} ({f['participation_pct']} %)"
        if f["shown"]:
            lines.append(
                head
                + "  "
                + _("total {total} kWh, average {average} kWh, median {median} kWh").format(
                    total=f["total_kwh"], average=f["average_kwh"], median=f["median_kwh"]
                )
            )
        else:
            lines.append(head + "  " + f["why"])
    return "\n".join(lines)


def _optin_json(record: OptInRecord) -> dict[str, Any]:
    return {
        "id": record.id,
        "person": record.person,
        "lot": record.lot,
        "energy_type": record.energy_type,
        "postal_code": record.postal_code,
        "period_start": record.period_start,
        "period_end": record.period_end,
        "bill_sha256": record.bill_sha256,
        "given_at": record.given_at,
        "consent_valid": record.consent_valid,
        "withdrawn_at": record.withdrawn_at or None,
        "verified": record.verified,
        "counts": record.counts,
    }


def _offer_json(view: OfferView) -> dict[str, Any]:
    return {
        **view.offer.to_json(),
        "green_score": view.green_score,
        "yearly_savings_cents": view.yearly_savings_cents,
        "expired": view.expired,
    }


# -- commands ------------------------------------------------------------------------------


def cmd_create(args: argparse.Namespace, open_session: Callable) -> int:
    with open_session(args) as session:
        campaign = session.energy.create(
            args.name,
            args.energy or list(ENERGY_TYPES),
            _day(args.deadline),
            args.months,
            args.contract,
        )
        data = _campaign_json(session.energy.info(campaign))
    _print(data, args.json, lambda d: d["id"])
    return 0


def cmd_list(args: argparse.Namespace, open_session: Callable) -> int:
    with open_session(args) as session:
        data = [_campaign_json(i) for i in session.energy.campaigns()]
    _print(
        data,
        args.json,
        lambda d: (
            "\n".join(f"{c['id']}  {c['status_label']}  {c['name']}" for c in d)
            or _("No campaign.")
        ),
    )
    return 0


def cmd_show(args: argparse.Namespace, open_session: Callable) -> int:
    with open_session(args) as session:
        campaign = session.energy.find(args.campaign)
        data = _campaign_json(session.energy.info(campaign))
        data["figures"] = _figures_json(session.energy.figures(campaign))
        data["offers"] = [_offer_json(o) for o in session.energy.offers(campaign)]
    _print(
        data,
        args.json,
        lambda d: f"{d['name']} — {d['status_label']}\n" + _figures_text(d["figures"]),
    )
    return 0


def _step(func: Callable[[Any, str, argparse.Namespace], Any]) -> Callable:
    def run(args: argparse.Namespace, open_session: Callable) -> int:
        with open_session(args) as session:
            campaign = session.energy.find(args.campaign)
            func(session, campaign, args)
            info = session.energy.info(campaign)
            ended = info.status in (Status.COMPLETED, Status.CANCELLED)
            left = session.energy.in_pool(campaign) if ended else []
        print(info.status_label)
        if left:  # found by hand: cancelled offline, the figures stayed, unsaid
            print(
                _(
                    "The building's figures are still in the relay's pool (it could not be "
                    "reached): they are taken out at the next 'energy retention' run, which "
                    "the app makes daily."
                ),
                file=sys.stderr,
            )
        return 0

    return run


cmd_mandate = _step(lambda s, c, a: s.energy.submit_to_assembly(c, a.meeting, a.item))
cmd_collect = _step(lambda s, c, a: s.energy.start_collecting(c))
cmd_negotiate = _step(lambda s, c, a: s.energy.negotiate(c))
cmd_final_vote = _step(lambda s, c, a: s.energy.submit_final_vote(c, a.meeting, a.item))
cmd_finalize = _step(lambda s, c, a: s.energy.finalize(c, a.offer))
cmd_complete = _step(lambda s, c, a: s.energy.complete(c, _day(a.on) if a.on else None))


cmd_cancel = _step(lambda s, c, a: s.energy.cancel(c, _day(a.on) if a.on else None))


def _kwh(pairs: list[str], energy_type: str) -> dict[str, int]:
    kinds = EnergyType(energy_type).carriers
    out = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep and len(kinds) == 1:
            name, value = kinds[0], pair
        try:
            out[name.strip()] = int(value.strip())
        except ValueError:
            raise InputError(
                _("{text!r} is not ENERGY=KWH (a whole number of kWh).").format(text=pair)
            ) from None
    return out


def cmd_optin(args: argparse.Namespace, open_session: Callable) -> int:
    if not args.bill and not args.bill_sha256:
        raise InputError(_("Give the bill (its PDF) or its SHA-256."))
    given = reading(
        args.type,
        _kwh(args.kwh, args.type),
        _day(args.period_from),
        _day(args.period_to),
        args.postal_code,
        Path(args.bill) if args.bill else None,
        args.bill_sha256 or "",
    )
    with open_session(args) as session:
        campaign = session.energy.find(args.campaign)
        person, pin = _who(session, args)
        optin = session.energy.opt_in(campaign, args.lot, given, person, pin)
    _print({"id": optin}, args.json, lambda d: d["id"])
    return 0


def cmd_mine(args: argparse.Namespace, open_session: Callable) -> int:
    with open_session(args) as session:
        campaign = session.energy.find(args.campaign)
        person, pin = _who(session, args)
        data = [
            {**_optin_json(m.record), "kwh": m.kwh}
            for m in session.energy.mine(campaign, person, pin)
        ]
    _print(
        data,
        args.json,
        lambda d: (
            "\n".join(
                f"{o['id']}  {o['period_start']}–{o['period_end']}  "
                + ", ".join(f"{_(ENERGY_LABELS[k])} {v} kWh" for k, v in o["kwh"].items())
                + ("  " + _("withdrawn") if o["withdrawn_at"] else "")
                for o in d
            )
            or _("You have not opted in.")
        ),
    )
    return 0


def cmd_withdraw(args: argparse.Namespace, open_session: Callable) -> int:
    with open_session(args) as session:
        campaign = session.energy.find(args.campaign)
        person, pin = _who(session, args)
        session.energy.withdraw(campaign, args.optin, person, pin)
    print(_("Consent withdrawn: this opt-in no longer counts."))
    return 0


def cmd_erase(args: argparse.Namespace, open_session: Callable) -> int:
    with open_session(args) as session:
        campaign = session.energy.find(args.campaign)
        person, pin = _who(session, args)
        data = session.energy.erase(campaign, person, pin)
    _print(data, args.json, lambda d: _("Your opt-ins in this campaign are erased."))
    return 0


def cmd_optins(args: argparse.Namespace, open_session: Callable) -> int:
    with open_session(args) as session:
        campaign = session.energy.find(args.campaign)
        data = [_optin_json(r) for r in session.energy.optins(campaign)]
    _print(
        data,
        args.json,
        lambda d: (
            "\n".join(
                f"{o['id']}  {o['lot']}  {o['energy_type']}  "
                + (_("counts") if o["counts"] else _("does not count"))
                for o in d
            )
            or _("Nobody has opted in yet.")
        ),
    )
    return 0


def cmd_verify(args: argparse.Namespace, open_session: Callable) -> int:
    if not args.bill and not args.sha256:
        raise InputError(_("Give the bill (its PDF) or its SHA-256."))
    with open_session(args) as session:
        campaign = session.energy.find(args.campaign)
        session.energy.verify(
            campaign, args.optin, Path(args.bill) if args.bill else None, args.sha256
        )
    print(_("Verified: the bill matches its fingerprint."))
    return 0


def cmd_stats(args: argparse.Namespace, open_session: Callable) -> int:
    with open_session(args) as session:
        campaign = session.energy.find(args.campaign)
        syndic = (session.profile.store.get_meta("role") or "syndic") == "syndic"
        figures = session.energy.refresh(campaign) if syndic else session.energy.figures(campaign)
        data = _figures_json(figures)
    _print(data, args.json, _figures_text)
    return 0


def cmd_publish(args: argparse.Namespace, open_session: Callable) -> int:
    with open_session(args) as session:
        data = session.energy.publish(session.energy.find(args.campaign))
    _print(
        data,
        args.json,
        published_words,
    )
    return 0


def cmd_offers(args: argparse.Namespace, open_session: Callable) -> int:
    with open_session(args) as session:
        campaign = session.energy.find(args.campaign)
        views = (
            session.energy.fetch_offers(campaign) if args.fetch else session.energy.offers(campaign)
        )
        data = [_offer_json(v) for v in views]
    _print(
        data,
        args.json,
        lambda d: (
            "\n".join(
                f"{o['id']}  {o['provider']}  {o['pool']}  "
                f"{o['price_kwh_millicents'] / 100000:.5f} €/kWh"
                f"  {o['green_pct']} %  {o['green_score']}/10"
                for o in d
            )
            or _("No offer yet.")
        ),
    )
    return 0


def cmd_audit(args: argparse.Namespace, open_session: Callable) -> int:
    with open_session(args) as session:
        data = session.energy.audit(session.energy.find(args.campaign))
    _print(
        data, args.json, lambda d: "\n".join(f"{e['at']}  {e['event']}  {e['subject']}" for e in d)
    )
    return 0


def cmd_retention(args: argparse.Namespace, open_session: Callable) -> int:
    with open_session(args) as session:
        report = session.energy.retention(_day(args.today) if args.today else None)
    data = {"purged": report.purged, "audit_dropped": report.audit_dropped, "errors": report.errors}
    _print(
        data,
        args.json,
        lambda d: _("Campaigns whose opt-ins were deleted: {n}").format(n=len(d["purged"])),
    )
    return 1 if report.errors else 0


def cmd_summary(args: argparse.Namespace, open_session: Callable) -> int:
    with open_session(args) as session:
        campaign = session.energy.find(args.campaign)
        data = session.energy.summary_pdf(campaign, args.in_language)
    write_document(Path(args.out), data)
    print(args.out)
    return 0


def add_commands(sub: Any, add: Callable, open_session: Callable, parser_class: type) -> None:
    """Register ``energy ...`` on ``koprogo-node``'s parser."""

    def cmd(func: Callable) -> Callable:
        return lambda a: func(a, open_session)

    energy = add(sub, "energy", lambda a: 0, "group energy purchases")
    esub = energy.add_subparsers(dest="energy_action", required=True, parser_class=parser_class)

    p = add(esub, "create", cmd(cmd_create), "start a campaign (draft); prints its id")
    p.add_argument("--name", required=True)
    p.add_argument("--energy", action="append", choices=list(ENERGY_TYPES), help="repeat")
    p.add_argument("--deadline", required=True, help="last day to take part (YYYY-MM-DD)")
    p.add_argument("--months", type=int, default=12, help="contract duration")
    p.add_argument("--contract", choices=[c.value for c in ContractType], default="fixed")
    p.add_argument("--json", action="store_true")

    p = add(esub, "list", cmd(cmd_list), "list the campaigns")
    p.add_argument("--json", action="store_true")

    p = add(esub, "show", cmd(cmd_show), "a campaign, its figures and offers")
    p.add_argument("campaign")
    p.add_argument("--json", action="store_true")

    for name, func, text in (
        ("mandate", cmd_mandate, "link the assembly resolution that gives the mandate"),
        ("final-vote", cmd_final_vote, "link the resolution or poll that chooses the offer"),
    ):
        p = add(esub, name, cmd(func), text)
        p.add_argument("campaign")
        p.add_argument("--meeting", required=True)
        p.add_argument("--item", required=True, help="its id or number on the agenda")

    for name, func, text in (
        ("collect", cmd_collect, "start collecting data once the mandate is adopted"),
        ("negotiate", cmd_negotiate, "stop collecting; needs 5 verified participants"),
    ):
        p = add(esub, name, cmd(func), text)
        p.add_argument("campaign")

    p = add(esub, "finalize", cmd(cmd_finalize), "record the offer the final vote chose")
    p.add_argument("campaign")
    p.add_argument("--offer", required=True)

    for name, func, text in (
        ("complete", cmd_complete, "the contracts are signed: the campaign is over"),
        ("cancel", cmd_cancel, "cancel the campaign"),
    ):
        p = add(esub, name, cmd(func), text)
        p.add_argument("campaign")
        p.add_argument("--on", help="the day (YYYY-MM-DD; today by default)")

    p = add(esub, "optin", cmd(cmd_optin), "an owner takes part for one unit; prints its id")
    p.add_argument("campaign")
    p.add_argument("--lot", required=True, help="the unit's lot number")
    p.add_argument("--type", required=True, choices=[t.value for t in EnergyType])
    p.add_argument("--kwh", action="append", required=True, help="ENERGY=KWH over the bill")
    p.add_argument("--from", dest="period_from", required=True, help="bill period start")
    p.add_argument("--to", dest="period_to", required=True, help="bill period end")
    p.add_argument("--postal-code", required=True)
    p.add_argument("--bill", help="the bill's PDF: only its SHA-256 is kept")
    p.add_argument("--bill-sha256", help="the bill's SHA-256, instead of the PDF")
    p.add_argument("--person", help="on the building's PC: who you are (KOPROGO_PIN)")
    p.add_argument("--json", action="store_true")

    p = add(esub, "mine", cmd(cmd_mine), "an owner reads their own data back")
    p.add_argument("campaign")
    p.add_argument("--person", help="on the building's PC: who you are (KOPROGO_PIN)")
    p.add_argument("--json", action="store_true")

    p = add(esub, "withdraw", cmd(cmd_withdraw), "withdraw one's consent")
    p.add_argument("campaign")
    p.add_argument("optin")
    p.add_argument("--person", help="on the building's PC: who you are (KOPROGO_PIN)")

    p = add(esub, "erase", cmd(cmd_erase), "erase one's opt-ins everywhere")
    p.add_argument("campaign")
    p.add_argument("--person", help="on the building's PC: who you are (KOPROGO_PIN)")
    p.add_argument("--json", action="store_true")

    p = add(esub, "optins", cmd(cmd_optins), "the opt-ins (no consumption shown)")
    p.add_argument("campaign")
    p.add_argument("--json", action="store_true")

    p = add(esub, "verify", cmd(cmd_verify), "check an opt-in's bill against its SHA-256")
    p.add_argument("campaign")
    p.add_argument("optin")
    p.add_argument("--bill", help="the bill's PDF as the owner shows it")
    p.add_argument("--sha256", help="or its SHA-256")

    p = add(esub, "stats", cmd(cmd_stats), "the k-anonymous figures")
    p.add_argument("campaign")
    p.add_argument("--json", action="store_true")

    p = add(esub, "publish", cmd(cmd_publish), "send the figures to the relay's pool")
    p.add_argument("campaign")
    p.add_argument("--json", action="store_true")

    p = add(esub, "offers", cmd(cmd_offers), "the offers, side by side")
    p.add_argument("campaign")
    p.add_argument("--fetch", action="store_true", help="fetch the pool's offers first")
    p.add_argument("--json", action="store_true")

    p = add(esub, "summary", cmd(cmd_summary), "the campaign's summary for the assembly (PDF)")
    p.add_argument("campaign")
    p.add_argument("--out", required=True, help="the PDF file to write")
    p.add_argument("--in-language", choices=["fr", "nl", "de", "en"], default="fr")

    p = add(esub, "audit", cmd(cmd_audit), "the campaign's audit trail")
    p.add_argument("campaign")
    p.add_argument("--json", action="store_true")

    p = add(esub, "retention", cmd(cmd_retention), "delete per-unit data that is due")
    p.add_argument("--today", help="run as of this day (YYYY-MM-DD)")
    p.add_argument("--json", action="store_true")
