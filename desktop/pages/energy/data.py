"""What the energy screens show, read on the worker as plain values.

The worker owns the session and its documents (ARCHITECTURE §12); these
functions run there and hand the GUI frozen values: the node's own
:class:`~node.services.energy.CampaignInfo`, opt-in records (never anyone's
consumption), the k-anonymous :class:`~node.domain.energy.Figures`, the
offers with their green score and the building's savings, and the audit
trail. The screens never count a participant themselves: what a step
needs is the node's answer (:meth:`node.services.energy.EnergyService.next_step`),
and the node has the last word when the step is asked for.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta

from node.documents import energy_doc
from node.domain.energy import (
    ENERGY_LABELS,
    FINAL,
    RETENTION_DAYS,
    Event,
    Figures,
    Status,
)
from node.errors import KoprogoError
from node.i18n import N_, _, current_language
from node.identity import device_identity
from node.services.energy import CampaignInfo, OfferView, OptInRecord
from node.session import Session
from shared.energy import K_ANONYMITY
from shared.protocol import Role, may_write

from ...inbox import Resident, read_residents
from ...labels import fmt_date, fmt_int, natural_key
from ...state import person_names

ANY_CAMPAIGN = "energy/" + "0" * 26  # write rights depend on the kind of document only

# -- words -------------------------------------------------------------------------------

CONTRACT_LABELS = {"fixed": N_("Fixed price"), "variable": N_("Variable price")}
# inside a sentence (never lower-case a translation: German nouns keep their capital)
CONTRACT_KINDS = {"fixed": N_("fixed price"), "variable": N_("variable price")}

EVENT_LABELS = {
    Event.CAMPAIGN_CREATED: N_("Campaign created"),
    Event.BILL_UPLOADED: N_("Bill given (its fingerprint)"),
    Event.BILL_VERIFIED: N_("Bill verified"),
    Event.BILL_ANONYMIZED: N_("Counted in the anonymous figures"),
    Event.BILL_DELETED: N_("Opt-in deleted"),
    Event.CONSENT_GIVEN: N_("Consent given"),
    Event.CONSENT_WITHDRAWN: N_("Consent withdrawn"),
    Event.DATA_DECRYPTED: N_("Consumption read by the syndic's device"),
}

CONSENT_TEXT = N_(
    "I agree that my consumption for this unit is used for the building's group energy "
    "purchase. It is encrypted so that only I and the syndic's devices can read it; only "
    "the building's anonymous figures (from 5 verified participants on, never a minimum "
    "or a maximum) leave the building. I can withdraw this consent and erase my data at "
    "any time; otherwise it is deleted 90 days after the campaign ends."
)

NO_FIGURES = N_(
    "Fewer than {k} verified participants: nothing is shown, so that no one's "
    "consumption can be guessed."
)


def energy_label(energy: str) -> str:
    return _(ENERGY_LABELS[energy]) if energy in ENERGY_LABELS else energy


def energies_label(energies: tuple[str, ...] | list[str]) -> str:
    return ", ".join(energy_label(e) for e in energies)


def contract_label(kind: str) -> str:
    return _(CONTRACT_LABELS[kind]) if kind in CONTRACT_LABELS else kind


def contract_kind(kind: str) -> str:
    """The contract's price type as it reads inside a sentence."""
    return _(CONTRACT_KINDS[kind]) if kind in CONTRACT_KINDS else kind


def event_label(event: str) -> str:
    try:
        return _(EVENT_LABELS[Event(event)])
    except (ValueError, KeyError):
        return event


def fmt_kwh(value: int | None) -> str:
    return "—" if value is None else _("{kwh} kWh").format(kwh=fmt_int(value))


def fmt_price_kwh(millicents: int) -> str:
    """A price per kWh kept in millicents (1/100,000 €), in euros with four
    or five decimals (0.2735 €, 0.27355 €), as the language writes them."""
    whole, fraction = divmod(millicents, 100_000)
    digits = f"{fraction:05d}"
    if digits.endswith("0"):
        digits = digits[:-1]
    separator = "." if current_language() == "en" else ","
    return f"{whole}{separator}{digits} €"


# -- who this device is ----------------------------------------------------------------------


@dataclass(frozen=True)
class Access:
    """What this device may do with the energy purchases."""

    role: str  # "" on the building's own profile, never synced: the syndic's
    runs: bool  # runs the campaigns (the syndic's device)
    reason: str  # why not, in words ("" when it runs them)
    person: str  # the owner this device opts in for ("" none)
    device: str
    residents: tuple[Resident, ...] = ()  # on the building's shared computer

    @property
    def kiosk(self) -> bool:
        return self.role == Role.KIOSK.value

    @property
    def management(self) -> bool:
        """The syndic's and the council's devices see who takes part."""
        return self.runs or self.role == Role.COUNCIL.value

    @property
    def takes_part(self) -> bool:
        """Someone may opt in here: the device's owner, or residents behind a PIN."""
        return self.kiosk or bool(self.person)


def read_access(session: Session) -> Access:
    store = session.profile.store
    role = store.get_meta("role") or ""
    runs = not role or may_write(Role(role), ANY_CAMPAIGN)
    reason = (
        "" if runs else _("Only the syndic's device runs the campaigns; this one follows them.")
    )
    return Access(
        role,
        runs,
        reason,
        store.get_meta("person") or "",
        device_identity(store).device_id,
        read_residents(session) if role == Role.KIOSK.value else (),
    )


# -- one campaign -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Resolution:
    """The assembly item linked to a campaign, as it stands."""

    meeting: str
    item: str
    text: str  # "AG 2027 (2027-03-15), item 1: Achat groupé"
    state: str  # "not voted yet", "adopted", ...


@dataclass(frozen=True)
class Unit:
    id: str
    number: str
    persons: tuple[str, ...]


@dataclass(frozen=True)
class Step:
    """What comes next for a campaign, and why it cannot happen yet."""

    action: str  # the button that takes it ("" when the campaign is over)
    text: str
    problem: str = ""


@dataclass(frozen=True)
class CampaignData:
    """Everything the screens show of one campaign, read at one moment."""

    info: CampaignInfo
    units: tuple[Unit, ...]
    optins: tuple[OptInRecord, ...]
    figures: tuple[Figures, ...]
    figures_note: str  # why the figures could not be worked out again here ("" fine)
    published: Mapping[str, str]  # energy -> when sent to the pool
    offers: tuple[OfferView, ...]
    audit: tuple[Mapping[str, str], ...]
    names: Mapping[str, str]
    mandate: Resolution | None
    final_vote: Resolution | None
    step: Step
    read_only: str
    purge_on: date | None  # when per-unit data goes (90 days after the end)
    counted: Mapping[str, int] = field(default_factory=dict)  # energy -> verified, consenting
    offer_labels: Mapping[str, str] = field(default_factory=dict)  # how a poll names each offer

    @property
    def id(self) -> str:
        return self.info.id

    def name(self, person: str) -> str:
        return self.names.get(person) or person[-6:]

    def unit(self, lot: str) -> Unit | None:
        return next((u for u in self.units if u.id == lot), None)

    def units_of(self, person: str) -> tuple[Unit, ...]:
        return tuple(u for u in self.units if person in u.persons)

    def offer(self, offer_id: str) -> OfferView | None:
        return next((o for o in self.offers if o.offer.id == offer_id), None)

    @property
    def over(self) -> bool:
        return self.info.status in FINAL


def _names(session: Session) -> dict[str, str]:
    names = person_names(session)
    if session.can_read("registry"):
        names.update({p.id: p.name for p in session.registry.read().persons})
    return names


def _resolution(session: Session, meeting: str, item: str) -> Resolution:
    """How the linked assembly item stands, in words (the node's outcome)."""
    assembly = session.assembly
    try:
        info = assembly.info(meeting)
        outcome = assembly.outcome(meeting)
    except KoprogoError:
        return Resolution(meeting, item, _("A meeting this device does not have yet"), "")
    number, result = 0, None
    for index, found in enumerate(outcome.results, start=1):
        if found.item.id == item:
            number, result = index, found
    title = result.item.title if result else item[-6:]
    text = _("{meeting} ({day}), item {number}: {title}").format(
        meeting=info.title, day=fmt_date(info.starts.date()), number=number, title=title
    )
    if not assembly.settled(meeting):
        state = _("not decided yet: the meeting is not closed")
    elif result is not None and result.item.answers:
        state = _("the poll's answers so far decide")
    elif result is not None and result.tally is not None and result.tally.passed:
        state = _("adopted")
    else:
        state = _("not adopted")
    return Resolution(meeting, item, text, state)


def next_step(info: CampaignInfo, problem: str, purge_on: date | None) -> Step:
    """What the syndic does next, and the node's reason why it cannot be
    done yet (``problem``, from :meth:`EnergyService.next_step`: the same
    checks as the moves themselves)."""
    status = info.status
    if status is Status.DRAFT:
        return Step(
            "mandate",
            _(
                "Put the group purchase on an assembly's agenda as a resolution by absolute "
                "majority, then link that item here."
            ),
        )
    if status is Status.AWAITING_AG_VOTE:
        return Step(
            "collect",
            _("Once the assembly has adopted the resolution, start collecting the owners' data."),
            problem,
        )
    if status is Status.COLLECTING_DATA:
        return Step(
            "negotiate",
            _(
                "Owners opt in for their units; check each bill they show you. With at least "
                "{k} verified participants, start negotiating."
            ).format(k=K_ANONYMITY),
            problem,
        )
    if status is Status.NEGOTIATING:
        return Step(
            "final_vote",
            _(
                "Send the building's anonymous figures to the purchase pool, fetch the offers, "
                "then link the assembly item that chooses one."
            ),
            problem,
        )
    if status is Status.AWAITING_FINAL_VOTE:
        return Step(
            "finalize",
            _(
                "Once the final vote is closed, record the offer it chose. The node checks "
                "that the vote chose it."
            ),
            problem,
        )
    if status is Status.FINALIZED:
        return Step(
            "complete",
            _(
                "Once the contracts are signed, mark the campaign completed: per-unit data is "
                "deleted {days} days later."
            ).format(days=RETENTION_DAYS),
        )
    if purge_on is not None:
        if info.purged_on is not None:
            text = _("The campaign is over. Per-unit data was deleted on {day}.").format(
                day=fmt_date(info.purged_on)
            )
        else:
            text = _("The campaign is over. Per-unit data is deleted on {day}.").format(
                day=fmt_date(purge_on)
            )
    else:
        text = _("The campaign is over.")
    return Step("", text + " " + _("The anonymous figures and the audit trail stay."))


def read_campaign(session: Session, campaign: str, access: Access) -> CampaignData:
    energy = session.energy
    info = energy.info(campaign)
    units = tuple(
        sorted(
            (
                Unit(lot, str(f.get("number", "")), tuple(f.get("persons") or ()))
                for lot, f in energy.units(campaign).items()
            ),
            key=lambda u: natural_key(u.number),
        )
    )
    optins = tuple(energy.optins(campaign))
    counts = energy.counted(campaign, optins)
    note = ""
    live = session.document(f"energy/{campaign}")
    stored = energy_doc.records(live.doc, "figures")
    stale = any(int((stored.get(e) or {}).get("participants", 0)) != n for e, n in counts.items())
    if access.runs and stale and info.status not in FINAL and not live.read_only_reason:
        try:
            energy.refresh(campaign)  # the syndic's device works the figures out again
        except KoprogoError as exc:
            note = str(exc)
        stored = energy_doc.records(live.doc, "figures")
    figures = tuple(energy.figures(campaign))
    published = {e: str(f.get("published") or "") for e, f in stored.items() if f.get("published")}
    offers = tuple(energy.offers(campaign))
    mandate = _resolution(session, *info.mandate) if info.mandate else None
    final = _resolution(session, *info.final_vote) if info.final_vote else None
    purge_on = info.ended_on + timedelta(days=RETENTION_DAYS) if info.ended_on else None
    try:
        _target, problem = energy.next_step(campaign)
    except KoprogoError as exc:  # e.g. the linked meeting has not reached this device
        problem = str(exc)
    step = next_step(info, problem or "", purge_on)
    return CampaignData(
        info=info,
        units=units,
        optins=optins,
        figures=figures,
        figures_note=note,
        published=published,
        offers=offers,
        audit=tuple(energy.audit(campaign)) if access.management else (),
        names=_names(session),
        mandate=mandate,
        final_vote=final,
        step=step,
        read_only=live.read_only_reason or "",
        purge_on=purge_on,
        counted=counts,
        offer_labels={o.offer.id: energy.offer_label(o.offer) for o in offers},
    )


@dataclass(frozen=True)
class Snapshot:
    """The campaigns as one worker job read them."""

    access: Access
    campaigns: tuple[CampaignInfo, ...]
    data: CampaignData | None  # the chosen campaign's, None when there is none


def read_snapshot(session: Session, campaign: str | None) -> Snapshot:
    access = read_access(session)
    campaigns = tuple(session.energy.campaigns())
    ids = [c.id for c in campaigns]
    if campaign not in ids:
        open_ = [c.id for c in campaigns if c.status not in FINAL]
        campaign = open_[-1] if open_ else (ids[-1] if ids else None)
    data = read_campaign(session, campaign, access) if campaign else None
    return Snapshot(access, campaigns, data)


# -- choosing an assembly item ----------------------------------------------------------------


@dataclass(frozen=True)
class AgendaChoice:
    """A meeting and its agenda items, for linking a resolution."""

    meeting: str
    label: str
    items: tuple[tuple[str, str], ...]  # (item id, "1. title")


def read_agendas(session: Session) -> tuple[AgendaChoice, ...]:
    out = []
    for info in session.assembly.meetings():
        outcome = session.assembly.outcome(info.id)
        items = tuple(
            (r.item.id, f"{n}. {r.item.title}") for n, r in enumerate(outcome.results, start=1)
        )
        out.append(AgendaChoice(info.id, f"{fmt_date(info.starts.date())} · {info.title}", items))
    return tuple(out)
