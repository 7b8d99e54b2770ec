"""Group energy purchase (issue 6, ARCHITECTURE §7, DOMAIN §11).

The syndic runs a campaign in ``energy/<campaign>``; each owner opts in
from their own device or the building's PC in their own
``optins/<campaign>/<person>``, with their consumption sealed to their own
keys and to the campaign's aggregating key (:mod:`.energy_crypto`) and
their consent signed with their key (:mod:`.signing`). Only the syndic's
devices hold the aggregating key; they verify each bill against its
SHA-256, count the verified opt-ins and work out the k-anonymous figures,
which alone go to the relay's purchase pool (:mod:`node.sync.energy_client`).
Offers come back from the pool; the assembly chooses; 90 days after the
campaign ends, every opt-in is deleted everywhere, the figures and the audit
trail stay.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import nacl.exceptions
import nacl.public

from shared.energy import (
    ENERGY_TYPES,
    K_ANONYMITY,
    Aggregate,
    EnergyError,
    Offer,
    green_score,
    region_of,
)
from shared.ids import new_ulid
from shared.protocol import Role

from ..documents import energy_doc as edoc
from ..domain import energy as rules
from ..domain.assembly import Majority
from ..domain.energy import (
    ContractType,
    EnergyType,
    Event,
    Figures,
    Gate,
    Reading,
    Status,
)
from ..domain.governance import Task, severity_of
from ..errors import InputError, KoprogoError, NotFoundError
from ..i18n import _, format_day
from . import energy_crypto
from .registry import Change
from .signing import Signer, Verifier, VerifierCache, signer

if TYPE_CHECKING:
    from ..documents.live import LiveDocument
    from ..session import Session

AGGREGATOR = "aggregator"
"""The recipient name of the campaign's aggregating key in a sealed opt-in."""


def _iso(moment: datetime) -> str:
    return moment.replace(microsecond=0).astimezone(UTC).isoformat()


@dataclass(frozen=True)
class CampaignInfo:
    id: str
    name: str
    status: Status
    energy_types: tuple[str, ...]
    deadline: date | None
    contract_months: int
    contract_type: str
    created_at: str
    mandate: tuple[str, str] | None  # (meeting, item)
    final_vote: tuple[str, str] | None
    chosen_offer: str
    ended_on: date | None
    purged_on: date | None
    units: int

    @property
    def status_label(self) -> str:
        return _(rules.STATUS_LABELS[self.status])


@dataclass(frozen=True)
class OptInRecord:
    """An opt-in as every member sees it: no consumption in it."""

    id: str
    campaign: str
    person: str
    lot: str
    energy_type: str
    postal_code: str
    period_start: str
    period_end: str
    bill_sha256: str
    given_at: str
    consent_valid: bool  # the consent's signature verifies against the members log
    withdrawn_at: str  # "" while consent stands
    verified: bool  # the syndic checked the bill against its fingerprint

    @property
    def counts(self) -> bool:
        return self.consent_valid and not self.withdrawn_at and self.verified


@dataclass(frozen=True)
class MyOptIn:
    """An owner's own opt-in with their consumption, read back."""

    record: OptInRecord
    kwh: dict[str, int]


@dataclass(frozen=True)
class OfferView:
    offer: Offer
    green_score: int
    yearly_savings_cents: int  # for the building's participants, 0 without figures
    expired: bool = False  # past its valid_until: the broker must renew it


@dataclass
class RetentionReport:
    purged: list[str] = field(default_factory=list)  # campaigns whose opt-ins were deleted
    audit_dropped: int = 0
    errors: list[str] = field(default_factory=list)


def _date(text: Any) -> date | None:
    return date.fromisoformat(text) if isinstance(text, str) and text else None


class EnergyService:
    def __init__(self, session: Session) -> None:
        self._session = session
        self._verifiers = VerifierCache(session)  # the members log replayed once per change

    # -- reading ----------------------------------------------------------------------------

    def _now(self) -> datetime:
        """The relay's time once a sync measured this computer's offset
        (found by hand: consents, withdrawals, retention and audit dates
        followed a computer's wrong clock)."""
        return self._session.now()

    def _today(self) -> date:
        return self._now().astimezone().date()  # the day here, by the corrected clock

    def _store(self):  # type: ignore[no-untyped-def]
        return self._session.profile.store

    def _doc_ids(self, prefix: str) -> list[str]:
        building = self._session.building_id
        return sorted(
            ref.doc_id
            for ref in self._store().documents()
            if ref.building_id == building and ref.doc_id.startswith(prefix)
        )

    def _is_syndic(self) -> bool:
        return (self._store().get_meta("role") or Role.SYNDIC.value) == Role.SYNDIC.value

    def _campaign_ids(self) -> list[str]:
        return sorted(d.split("/", 1)[1] for d in self._doc_ids("energy/"))

    def campaigns(self) -> list[CampaignInfo]:
        found = [self._info(c) for c in self._campaign_ids()]
        return sorted((i for i in found if i is not None), key=lambda i: i.created_at)

    def _live(self, campaign: str) -> LiveDocument:
        if campaign not in self._campaign_ids():
            raise NotFoundError(_("There is no campaign {id}.").format(id=campaign))
        return self._session.document(f"energy/{campaign}")

    def _info(self, campaign: str) -> CampaignInfo | None:
        live = self._session.document(f"energy/{campaign}")
        meta = edoc.meta(live.doc)
        if not meta.get("status"):
            return None  # not synced yet
        mandate = (meta.get("mandate_meeting"), meta.get("mandate_item"))
        final = (meta.get("final_meeting"), meta.get("final_item"))
        return CampaignInfo(
            id=campaign,
            name=str(meta.get("name", "")),
            status=Status(meta["status"]),
            energy_types=tuple(meta.get("energy_types", ())),
            deadline=_date(meta.get("deadline")),
            contract_months=int(meta.get("contract_months") or 0),
            contract_type=str(meta.get("contract_type", "")),
            created_at=str(meta.get("created_at", "")),
            mandate=mandate if all(mandate) else None,  # type: ignore[arg-type]
            final_vote=final if all(final) else None,  # type: ignore[arg-type]
            chosen_offer=str(meta.get("chosen_offer", "")),
            ended_on=_date(meta.get("ended_on")),
            purged_on=_date(meta.get("purged_on")),
            units=len(edoc.records(live.doc, "units")),
        )

    def info(self, campaign: str) -> CampaignInfo:
        info = self._info(campaign) if campaign in self._campaign_ids() else None
        if info is None:
            raise NotFoundError(_("There is no campaign {id}.").format(id=campaign))
        return info

    def find(self, ref: str) -> str:
        """A campaign id from its id, the start of its id or its exact name."""
        ids = self._campaign_ids()
        if ref in ids:
            return ref
        matches = [c for c in ids if c.startswith(ref.upper())] if len(ref) >= 4 else []
        matches = matches or [i.id for i in self.campaigns() if i.name == ref]
        if len(matches) == 1:
            return matches[0]
        raise NotFoundError(_("There is no campaign {id}.").format(id=ref))

    def units(self, campaign: str) -> dict[str, dict[str, Any]]:
        """lot id -> {number, persons} of the units that may take part."""
        units = edoc.records(self._live(campaign).doc, "units")
        for fields in units.values():
            fields["persons"] = json.loads(fields.get("persons") or "[]")
        return units

    # -- the syndic's campaign ------------------------------------------------------------

    def create(
        self,
        name: str,
        energy_types: Iterable[str],
        deadline: date,
        contract_months: int = 12,
        contract_type: str = ContractType.FIXED.value,
        at: datetime | None = None,
    ) -> str:
        name = name.strip()
        if not name:
            raise InputError(_("The campaign needs a name."))
        types = sorted(set(energy_types))
        if not types or not set(types) <= set(ENERGY_TYPES):
            raise InputError(_("Choose the energies to buy: electricity, gas or both."))
        if not 1 <= contract_months <= 120:
            raise InputError(_("A contract lasts from 1 to 120 months."))
        if contract_type not in {c.value for c in ContractType}:
            raise InputError(_("A contract's price is fixed or variable."))
        created = _iso(at or self._now())
        if deadline < date.fromisoformat(created[:10]):
            raise InputError(_("The deadline for taking part is already past."))
        campaign = new_ulid()
        private = energy_crypto.new_private_key()
        live = self._session.document(f"energy/{campaign}")
        with live.edit() as doc:
            edoc.set_meta(
                doc,
                name=name,
                status=Status.DRAFT.value,
                energy_types=types,
                deadline=deadline.isoformat(),
                contract_months=contract_months,
                contract_type=contract_type,
                created_at=created,
                aggregator_public=base64.b64encode(energy_crypto.public_of(private)).decode(),
            )
            self._write_units(doc)
            self._seal_key(doc, private)
            self._audit(doc, f"{campaign}:created", Event.CAMPAIGN_CREATED, created, campaign)
        return campaign

    def _write_units(self, doc: Any) -> None:
        registry = self._session.registry.read()
        units = edoc.records(doc, "units")
        wanted = {lot.id: lot for lot in registry.lots if lot.counts_as_lot}
        for lot_id in [lot for lot in units if lot not in wanted]:
            edoc.delete_record(doc, "units", lot_id)
        for lot_id, lot in wanted.items():
            persons = sorted({o.person_id for o in registry.holders(lot_id)})
            edoc.put_record(doc, "units", lot_id, {"number": lot.number, "persons": persons})

    def _syndic_devices(self) -> dict[str, bytes]:
        """Box keys of the syndic's devices: the members log's, and this one."""
        from ..identity import device_identity

        own = device_identity(self._store())
        devices = {own.device_id: own.box_public}
        for device in self._verifiers.get().members.devices.values():
            if device.role is Role.SYNDIC and not device.revoked:
                devices[device.id] = device.box_key
        return devices

    def _seal_key(self, doc: Any, private: bytes) -> None:
        keys = edoc.records(doc, "keys")
        for device, box in self._syndic_devices().items():
            if device not in keys:
                sealed = nacl.public.SealedBox(nacl.public.PublicKey(box)).encrypt(private)
                edoc.put_record(doc, "keys", device, {"sealed": base64.b64encode(sealed).decode()})

    def _aggregator_key(self, campaign: str) -> bytes:
        """The aggregating private key, opened with this syndic device's key
        (and sealed to syndic devices that joined since)."""
        from ..identity import device_identity

        if not self._is_syndic():
            raise InputError(_("Only the syndic's devices hold the campaign's aggregating key."))
        live = self._live(campaign)
        own = device_identity(self._store())
        sealed = edoc.records(live.doc, "keys").get(own.device_id)
        if sealed is None:
            raise InputError(
                _(
                    "This device has not received the campaign's key yet: sync with the "
                    "syndic's device that created the campaign."
                )
            )
        try:
            private = nacl.public.SealedBox(nacl.public.PrivateKey(own.box_private)).decrypt(
                base64.b64decode(sealed["sealed"])
            )
        except (nacl.exceptions.CryptoError, ValueError, KeyError):
            raise InputError(_("The campaign's key does not open on this device.")) from None
        missing = set(self._syndic_devices()) - set(edoc.records(live.doc, "keys"))
        if missing:
            with live.edit() as doc:
                self._seal_key(doc, private)
        return private

    def _audit(
        self,
        doc: Any,
        event_id: str,
        event: Event,
        at: str,
        subject: str,
        person: str = "",
        detail: str = "",
    ) -> None:
        if event_id not in edoc.records(doc, "audit"):
            edoc.put_record(
                doc,
                "audit",
                event_id,
                {
                    "event": event.value,
                    "at": at,
                    "subject": subject,
                    "person": person,
                    "detail": detail,
                },
            )

    def _move(self, campaign: str, target: Status, gate: Gate, **fields: Any) -> Change:
        info = self.info(campaign)
        problem = rules.transition_problem(info.status, target, gate)
        if problem:
            raise InputError(_(problem))
        live = self._live(campaign)
        with live.edit() as doc:
            edoc.set_meta(doc, status=target.value, **fields)
            edoc.put_record(
                doc,
                "history",
                new_ulid(),
                {"at": _iso(self._now()), "from": info.status.value, "to": target.value},
            )
        return Change.of("campaign", record_id=campaign)

    def _resolution(self, meeting: str, item: str) -> tuple[str, str, Any]:
        """(meeting id, item id, the item's result) of an assembly item."""
        assembly = self._session.assembly
        meeting = assembly.find(meeting)
        item = assembly._item(meeting, item)
        outcome = assembly.outcome(meeting)
        result = next((r for r in outcome.results if r.item.id == item), None)
        if result is None:
            raise NotFoundError(_("There is no item {id}.").format(id=item))
        return meeting, item, result

    def submit_to_assembly(self, campaign: str, meeting: str, item: str) -> Change:
        """Draft → AwaitingAGVote: the assembly resolution that will give the mandate."""
        meeting, item, result = self._resolution(meeting, item)
        if result.item.answers:
            raise InputError(_("A poll decides nothing: the mandate needs a resolution."))
        if result.item.majority is Majority.UNANIMITY or result.item.majority not in (
            Majority.ABSOLUTE,
            Majority.TWO_THIRDS,
            Majority.FOUR_FIFTHS,
        ):
            raise InputError(_("The mandate is a resolution by absolute majority."))
        return self._move(
            campaign,
            Status.AWAITING_AG_VOTE,
            Gate(),
            mandate_meeting=meeting,
            mandate_item=item,
        )

    def _mandate_adopted(self, info: CampaignInfo) -> bool:
        if info.mandate is None:
            return False
        meeting, item = info.mandate
        _m, _i, result = self._resolution(meeting, item)
        passed = result.tally is not None and bool(result.tally.passed)
        return passed and self._session.assembly.settled(meeting)

    def _final_choice(self, info: CampaignInfo, offer: Offer | None) -> bool:
        """Whether the final vote chose ``offer`` (any offer when ``None``):
        a resolution adopted, or the poll's single most chosen option."""
        if info.final_vote is None:
            return False
        meeting, item = info.final_vote
        _m, _i, result = self._resolution(meeting, item)
        if not self._session.assembly.settled(meeting):
            return False
        if not result.item.answers:
            adopted = self._adopted_offer(info.id, result.item)
            passed = result.tally is not None and bool(result.tally.passed)
            return passed and adopted is not None and (offer is None or adopted == offer.id)
        counts = dict(result.answers)
        best = max(counts.values(), default=0)
        top = [a for a, n in counts.items() if n == best and best > 0]
        labels = (
            {self.offer_label(offer)}
            if offer is not None
            else {self.offer_label(v.offer) for v in self.offers(info.id)}
        )
        return len(top) == 1 and top[0] in labels

    def counted(
        self, campaign: str, records: Iterable[OptInRecord] | None = None
    ) -> dict[str, int]:
        """Verified, consenting opt-ins per energy (no decryption needed);
        ``records``: the campaign's :meth:`optins` when already read."""
        info = self.info(campaign)
        out = dict.fromkeys(info.energy_types, 0)
        for record in self.optins(campaign) if records is None else records:
            if record.counts:
                for energy in EnergyType(record.energy_type).carriers:
                    if energy in out:
                        out[energy] += 1
        return out

    def next_step(self, campaign: str) -> tuple[Status | None, str | None]:
        """The campaign's next state and, if it cannot be taken yet, why
        (translated); ``(None, None)`` once nothing follows. The same checks
        as the moves themselves, so a screen never drifts from them."""
        info = self.info(campaign)
        target = {
            Status.DRAFT: Status.AWAITING_AG_VOTE,
            Status.AWAITING_AG_VOTE: Status.COLLECTING_DATA,
            Status.COLLECTING_DATA: Status.NEGOTIATING,
            Status.NEGOTIATING: Status.AWAITING_FINAL_VOTE,
            Status.AWAITING_FINAL_VOTE: Status.FINALIZED,
            Status.FINALIZED: Status.COMPLETED,
        }.get(info.status)
        if target is None:
            return None, None
        gate = Gate(
            mandate_adopted=target is Status.COLLECTING_DATA and self._mandate_adopted(info),
            verified_enough=target is Status.NEGOTIATING
            and max(self.counted(campaign).values(), default=0) >= K_ANONYMITY,
            final_vote_linked=target is Status.AWAITING_FINAL_VOTE and bool(self.offers(campaign)),
            final_vote_decided=target is Status.FINALIZED and self._final_choice(info, None),
        )
        if target is Status.AWAITING_AG_VOTE:
            return target, None  # linking the resolution is the step itself
        if target is Status.AWAITING_FINAL_VOTE and not gate.final_vote_linked:
            return target, _("There is no offer to vote on yet: fetch the pool's offers.")
        problem = rules.transition_problem(info.status, target, gate)
        return target, _(problem) if problem else None

    def start_collecting(self, campaign: str) -> Change:
        """AwaitingAGVote → CollectingData, once the linked resolution is adopted."""
        adopted = self._mandate_adopted(self.info(campaign))
        change = self._move(campaign, Status.COLLECTING_DATA, Gate(mandate_adopted=adopted))
        with self._live(campaign).edit() as doc:
            self._write_units(doc)  # the owners as they are when collecting starts
        return change

    def negotiate(self, campaign: str) -> Change:
        """CollectingData → Negotiating: needs ≥ 5 verified participants.
        Publishing to the relay's pool is :meth:`publish`'s job."""
        stats = self.refresh(campaign)
        enough = any(f.shown for f in stats)
        return self._move(campaign, Status.NEGOTIATING, Gate(verified_enough=enough))

    def _adopted_offer(self, campaign: str, item: Any) -> str | None:
        """The offer a yes/no resolution adopts: the only offer, or the one
        offer its title or text names, by its provider (when no other offer
        is of that provider) or its label (:meth:`offer_label`);
        None when that is not one offer (found by hand: a resolution
        "choice of the supplier" let any offer be finalized)."""
        offers = [v.offer for v in self.offers(campaign)]
        if len(offers) == 1:
            return offers[0].id
        words = f"{item.title}\n{item.text}".casefold()
        providers = Counter(o.provider.casefold() for o in offers)
        named = [
            o.id
            for o in offers
            if self.offer_label(o).casefold() in words
            or (providers[o.provider.casefold()] == 1 and o.provider.casefold() in words)
        ]
        return named[0] if len(named) == 1 else None

    def submit_final_vote(self, campaign: str, meeting: str, item: str) -> Change:
        """Negotiating → AwaitingFinalVote, with the resolution or poll that chooses."""
        meeting, item, result = self._resolution(meeting, item)
        offers = self.offers(campaign)
        if not offers:
            raise InputError(_("There is no offer to vote on yet: fetch the pool's offers."))
        if not result.item.answers and self._adopted_offer(campaign, result.item) is None:
            raise InputError(
                _(
                    "With several offers, the resolution names the one it adopts in its title "
                    "or text: its provider, or exactly as: {labels}. Or choose among them by a "
                    "poll."
                ).format(labels=", ".join(sorted(self.offer_label(v.offer) for v in offers)))
            )
        return self._move(
            campaign,
            Status.AWAITING_FINAL_VOTE,
            Gate(final_vote_linked=True),
            final_meeting=meeting,
            final_item=item,
        )

    def offer_label(self, offer: Offer) -> str:
        """How an offer is named among a poll's options."""
        return f"{offer.provider} ({offer.id[-6:]})"

    def finalize(self, campaign: str, offer_id: str) -> Change:
        """AwaitingFinalVote → Finalized, recording the chosen offer: the
        final resolution passed, or the poll's most chosen option is it."""
        info = self.info(campaign)
        offer = next((o.offer for o in self.offers(campaign) if o.offer.id == offer_id), None)
        if offer is None:
            raise NotFoundError(_("There is no offer {id}.").format(id=offer_id))
        decided = self._final_choice(info, offer)
        if decided and date.fromisoformat(offer.valid_until) < self._today():
            raise InputError(
                _("This offer expired on {day}: ask the broker to renew it.").format(
                    day=format_day(date.fromisoformat(offer.valid_until))
                )
            )
        return self._move(
            campaign,
            Status.FINALIZED,
            Gate(final_vote_decided=decided),
            chosen_offer=offer_id,
        )

    def complete(self, campaign: str, on: date | None = None) -> Change:
        """Finalized → Completed: the contracts are signed; the 90 days start,
        and the building's figures leave the pool (found by hand: brokers
        kept seeing a finished building as a buyer)."""
        day = on or self._today()
        change = self._move(campaign, Status.COMPLETED, Gate(), ended_on=day.isoformat())
        self._try_withdraw(campaign)
        return change

    def cancel(self, campaign: str, on: date | None = None) -> Change:
        """Any state but the final ones → Cancelled; the building's figures
        leave the pool (when the relay can be reached)."""
        day = on or self._today()
        change = self._move(campaign, Status.CANCELLED, Gate(), ended_on=day.isoformat())
        self._try_withdraw(campaign)
        return change

    def in_pool(self, campaign: str) -> list[str]:
        """The energies whose figures this building last sent to the pool."""
        figures = edoc.records(self._live(campaign).doc, "figures")
        return sorted(energy for energy, f in figures.items() if f.get("published"))

    def _try_withdraw(self, campaign: str) -> str:
        """Take the building's figures out of the pool; the error in words
        when the relay cannot be reached (the campaign's change stands, and
        :meth:`retention` tries again: found by hand, a campaign cancelled
        offline stayed in the pool for good)."""
        sent = self.in_pool(campaign)
        if not sent:
            return ""  # nothing left the building, or it was taken out
        from ..sync import energy_client

        try:
            energy_client.withdraw(self._session, campaign)
        except KoprogoError as exc:  # reported, the local change stands
            return str(exc)
        with self._live(campaign).edit() as doc:
            for energy in sent:
                edoc.put_record(doc, "figures", energy, {"published": None})
        return ""

    # -- owners' opt-ins ------------------------------------------------------------------

    def _optin_docs(self, campaign: str) -> list[str]:
        return sorted(self._doc_ids(f"optins/{campaign}/"))

    def _recipients(self, person: str, me: Signer) -> dict[str, bytes]:
        members = self._verifiers.get().members
        recipients = {me.id: me.box_public}
        for device in members.devices.values():
            if device.person == person and not device.revoked:
                recipients[device.id] = device.box_key
        for device, kept in members.person_keys.get(person, {}).items():
            recipients[f"kiosk:{device}"] = kept.box_key
        return recipients

    def opt_in(
        self,
        campaign: str,
        lot: str,
        reading: Reading,
        person: str | None = None,
        pin: str | None = None,
        at: datetime | None = None,
    ) -> str:
        """An owner's opt-in for one unit, their consent signed; returns its id."""
        info = self.info(campaign)
        if info.status not in rules.OPT_IN_OPEN:
            raise InputError(_("The campaign is not collecting consumption data."))
        given = _iso(at or self._now())
        if info.deadline is not None and date.fromisoformat(given[:10]) > info.deadline:
            raise InputError(
                _("Taking part closed on {day}.").format(day=format_day(info.deadline))
            )
        problems = rules.reading_problems(
            reading, info.energy_types, date.fromisoformat(given[:10])
        )
        if problems:
            raise InputError(" ".join(_(p) for p in problems))
        me = signer(self._session, person, pin)
        units = self.units(campaign)
        lot_id = self._lot(units, lot)
        if me.person not in units[lot_id]["persons"]:
            raise InputError(_("Only an owner of the unit opts in for it."))
        for record in self.optins(campaign):
            if record.lot == lot_id and not record.withdrawn_at:
                raise InputError(
                    _("Unit {lot} has already opted in; withdraw that consent first.").format(
                        lot=units[lot_id]["number"]
                    )
                )
        live = self._live(campaign)
        aggregator = base64.b64decode(edoc.meta(live.doc)["aggregator_public"])
        optin = new_ulid()
        doc_id = f"optins/{campaign}/{me.person}"
        secret = edoc.canonical({"kwh": dict(sorted(reading.kwh.items()))}).encode()
        ephemeral, sealed = energy_crypto.seal(
            secret,
            {**self._recipients(me.person, me), AGGREGATOR: aggregator},
            doc_id.encode() + b"/" + optin.encode(),
        )
        clear = {
            "lot": lot_id,
            "energy_type": reading.energy_type.value,
            "postal_code": reading.postal_code,
            "period_start": reading.period_start.isoformat(),
            "period_end": reading.period_end.isoformat(),
            "bill_sha256": reading.bill_sha256,
        }
        sealed_json = edoc.canonical({"ephemeral": ephemeral, "sealed": sealed})
        consent = edoc.canonical(
            {
                **clear,
                "campaign": campaign,
                "person": me.person,
                "optin": optin,
                "data_sha256": hashlib.sha256(sealed_json.encode()).hexdigest(),
                "consent": "koprogo-energy-v1",
                "given_at": given,
            }
        )
        signature = me.sign(edoc.CONSENT_CONTEXT + consent.encode())
        with self._session.document(doc_id).edit() as doc:
            edoc.init_optins(doc, campaign, me.person)
            edoc.put_record(
                doc,
                "optins",
                optin,
                {
                    **clear,
                    "ephemeral": ephemeral,
                    "sealed": sealed,
                    "consent": consent,
                    "signer": me.id,
                    "signature": base64.b64encode(signature).decode(),
                },
            )
        return optin

    @staticmethod
    def _lot(units: Mapping[str, Any], ref: str) -> str:
        if ref in units:
            return ref
        found = [lot for lot, f in units.items() if f.get("number") == ref]
        if len(found) != 1:
            raise NotFoundError(_("There is no unit {lot} in this campaign.").format(lot=ref))
        return found[0]

    def _raw_optins(self, campaign: str) -> list[tuple[str, str, dict[str, Any]]]:
        """(doc id, opt-in id, fields) of every opt-in this device holds."""
        out = []
        for doc_id in self._optin_docs(campaign):
            live = self._session.document(doc_id)
            for optin, fields in edoc.records(live.doc, "optins").items():
                out.append((doc_id, optin, fields))
        return out

    def optins(self, campaign: str) -> list[OptInRecord]:
        """Every opt-in of the campaign, its consent checked; no consumption."""
        verifier = self._verifiers.get()
        verified = edoc.records(self._live(campaign).doc, "verified")
        out = []
        for doc_id, optin, fields in self._raw_optins(campaign):
            out.append(self._record(campaign, doc_id, optin, fields, verifier, verified))
        return sorted(out, key=lambda r: (r.given_at, r.id))

    def _record(
        self,
        campaign: str,
        doc_id: str,
        optin: str,
        fields: Mapping[str, Any],
        verifier: Verifier,
        verified: Mapping[str, Any],
    ) -> OptInRecord:
        person = doc_id.rsplit("/", 1)[1]
        valid, given_at = _check_consent(campaign, person, optin, fields, verifier)
        withdrawn_at = ""
        if fields.get("withdrawn"):
            withdrawn_at = _check_withdrawal(person, optin, fields, verifier) or ""
        check = verified.get(optin) or {}
        return OptInRecord(
            id=optin,
            campaign=campaign,
            person=person,
            lot=str(fields.get("lot", "")),
            energy_type=str(fields.get("energy_type", "")),
            postal_code=str(fields.get("postal_code", "")),
            period_start=str(fields.get("period_start", "")),
            period_end=str(fields.get("period_end", "")),
            bill_sha256=str(fields.get("bill_sha256", "")),
            given_at=given_at,
            consent_valid=valid,
            withdrawn_at=withdrawn_at,
            verified=check.get("sha256") == fields.get("bill_sha256") and bool(check),
        )

    def mine(
        self, campaign: str, person: str | None = None, pin: str | None = None
    ) -> list[MyOptIn]:
        """An owner's own opt-ins with their consumption, decrypted with
        their own key on this device."""
        me = signer(self._session, person, pin)
        doc_id = f"optins/{campaign}/{me.person}"
        self.info(campaign)
        out = []
        verifier = self._verifiers.get()
        verified = edoc.records(self._live(campaign).doc, "verified")
        if doc_id not in self._optin_docs(campaign):
            return []
        for optin, fields in edoc.records(self._session.document(doc_id).doc, "optins").items():
            record = self._record(campaign, doc_id, optin, fields, verifier, verified)
            kwh = self._open(doc_id, optin, fields, me.id, me.box_private)
            out.append(MyOptIn(record, kwh))
        return sorted(out, key=lambda m: m.record.given_at)

    def _open(
        self, doc_id: str, optin: str, fields: Mapping[str, Any], recipient: str, private: bytes
    ) -> dict[str, int]:
        sealed = fields.get("sealed")
        sealed = json.loads(sealed) if isinstance(sealed, str) else {}
        blob = sealed.get(recipient)
        if blob is None:
            raise InputError(
                _("This opt-in was not sealed to this device: read it on the device that made it.")
            )
        try:
            data = energy_crypto.open_sealed(
                blob, str(fields.get("ephemeral", "")), private, f"{doc_id}/{optin}".encode()
            )
        except energy_crypto.SealError:
            raise InputError(_("This opt-in's data does not open: it was altered.")) from None
        return {k: int(v) for k, v in json.loads(data)["kwh"].items()}

    def _own_optin(self, campaign: str, optin: str, person: str | None, pin: str | None):  # type: ignore[no-untyped-def]
        me = signer(self._session, person, pin)
        doc_id = f"optins/{campaign}/{me.person}"
        if doc_id not in self._optin_docs(campaign):
            raise NotFoundError(_("There is no opt-in {id}.").format(id=optin))
        live = self._session.document(doc_id)
        if optin not in edoc.records(live.doc, "optins"):
            raise NotFoundError(_("There is no opt-in {id}.").format(id=optin))
        return me, live

    def withdraw(
        self,
        campaign: str,
        optin: str,
        person: str | None = None,
        pin: str | None = None,
        at: datetime | None = None,
    ) -> Change:
        """Withdraw one's consent: the opt-in leaves every figure."""
        me, live = self._own_optin(campaign, optin, person, pin)
        if edoc.records(live.doc, "optins")[optin].get("withdrawn"):
            raise InputError(_("This consent was already withdrawn."))
        withdrawn = edoc.canonical(
            {"optin": optin, "person": me.person, "withdrawn_at": _iso(at or self._now())}
        )
        signature = me.sign(edoc.WITHDRAW_CONTEXT + withdrawn.encode())
        with live.edit() as doc:
            edoc.put_record(
                doc,
                "optins",
                optin,
                {
                    "withdrawn": withdrawn,
                    "withdrawn_signer": me.id,
                    "withdrawn_signature": base64.b64encode(signature).decode(),
                },
            )
        return Change.of("optins", record_id=optin)

    def erase(
        self, campaign: str, person: str | None = None, pin: str | None = None
    ) -> dict[str, Any]:
        """Erase all of one's opt-ins in a campaign: gone from this device,
        from the relay (a snapshot replaces every envelope that held them)
        and, as they sync, from every other device. Raises, deleting
        nothing, when the relay cannot be reached at all; if it fails after
        the deletion here, the answer's ``error`` says so (erase again)."""
        me = signer(self._session, person, pin)
        doc_id = f"optins/{campaign}/{me.person}"
        if doc_id not in self._optin_docs(campaign):
            raise NotFoundError(_("You have no opt-in in this campaign."))
        return self._clear_everywhere([doc_id])

    def _clear_everywhere(self, doc_ids: list[str]) -> dict[str, Any]:
        """Delete the opt-ins of ``doc_ids`` and compact them everywhere. With
        a relay, everything queued is pushed first: if the relay cannot be
        reached, nothing is deleted and the error says so."""
        from ..sync.service import erase_documents, sync_once

        if self._store().get_meta("relay_url"):
            sync_once(self._session)
        for doc_id in doc_ids:
            with self._session.document(doc_id).edit() as doc:
                for optin in list(edoc.records(doc, "optins")):
                    edoc.delete_record(doc, "optins", optin)
        try:
            return erase_documents(self._session, doc_ids)
        except KoprogoError as exc:  # deleted here; the relay's copy waits for a new try
            return {"relay": True, "compacted": [], "error": str(exc)}

    # -- the syndic's checks and figures --------------------------------------------------

    def verify(
        self, campaign: str, optin: str, bill: Path | None = None, sha256: str | None = None
    ) -> Change:
        """Mark an opt-in verified once the bill the owner shows has the
        fingerprint given with the opt-in."""
        if bill is not None:
            try:
                sha256 = hashlib.sha256(bill.read_bytes()).hexdigest()
            except OSError as exc:
                raise InputError(
                    _("Cannot read {path}: {error}").format(path=bill, error=exc.strerror)
                ) from None
        if not sha256:
            raise InputError(_("Give the bill (its PDF) or its SHA-256."))
        sha256 = sha256.strip().lower()
        record = next((r for r in self.optins(campaign) if r.id == optin), None)
        if record is None:
            raise NotFoundError(_("There is no opt-in {id}.").format(id=optin))
        if not record.consent_valid:
            raise InputError(_("This opt-in's consent does not verify: it cannot count."))
        if record.withdrawn_at:
            raise InputError(_("This consent was withdrawn."))
        if sha256 != record.bill_sha256:
            raise InputError(
                _("This bill is not the one given with the opt-in (its SHA-256 differs).")
            )
        at = _iso(self._now())
        with self._live(campaign).edit() as doc:
            edoc.put_record(
                doc, "verified", optin, {"person": record.person, "sha256": sha256, "at": at}
            )
            self._audit(doc, f"{optin}:verified", Event.BILL_VERIFIED, at, optin, record.person)
        return Change.of("optins", record_id=optin)

    def figures(self, campaign: str) -> list[Figures]:
        """The figures as last worked out by the syndic (every member reads them)."""
        stored = edoc.records(self._live(campaign).doc, "figures")
        info = self.info(campaign)
        out = []
        for energy in info.energy_types:
            f = stored.get(energy) or {}
            out.append(
                Figures(
                    energy,
                    int(f.get("participants", 0)),
                    int(f.get("units", info.units)),
                    f.get("total_kwh"),
                    f.get("average_kwh"),
                    f.get("median_kwh"),
                )
            )
        return out

    def refresh(self, campaign: str, today: date | None = None) -> list[Figures]:
        """Work out the figures again from the verified, consenting opt-ins
        (decrypting each with the aggregating key), record what the owners
        did in the audit trail, and keep the figures in the campaign."""
        return self._refresh(campaign, today)[0]

    def _refresh(
        self, campaign: str, today: date | None = None
    ) -> tuple[list[Figures], dict[str, frozenset[str]]]:
        """:meth:`refresh`, and for each energy the opt-ins its figures count."""
        private = self._aggregator_key(campaign)
        info = self.info(campaign)
        live = self._live(campaign)
        verifier = self._verifiers.get()
        verified = edoc.records(live.doc, "verified")
        yearly: dict[str, list[int]] = {e: [] for e in info.energy_types}
        counting: dict[str, set[str]] = {e: set() for e in info.energy_types}
        at = _iso(self._now())
        day = (today or self._today()).isoformat()
        counted: list[str] = []
        with live.edit() as doc:
            seen = set()
            for doc_id, optin, fields in self._raw_optins(campaign):
                seen.add(optin)
                record = self._record(campaign, doc_id, optin, fields, verifier, verified)
                self._audit_owner(doc, record)
                if not record.counts:
                    continue
                kwh = self._open(doc_id, optin, fields, AGGREGATOR, private)
                self._audit(
                    doc, f"{optin}:decrypted:{day}", Event.DATA_DECRYPTED, at, optin, record.person
                )
                start, end = (
                    date.fromisoformat(record.period_start),
                    date.fromisoformat(record.period_end),
                )
                for energy, value in kwh.items():
                    if energy in yearly:
                        yearly[energy].append(rules.yearly_kwh(value, start, end))
                        counting[energy].add(optin)
                counted.append(optin)
            for optin, fields in edoc.records(doc, "audit").items():
                if optin.endswith(":uploaded") and optin[: -len(":uploaded")] not in seen:
                    gone = optin[: -len(":uploaded")]
                    self._audit(
                        doc,
                        f"{gone}:deleted",
                        Event.BILL_DELETED,
                        at,
                        gone,
                        fields.get("person", ""),
                    )
            stats = [rules.figures(e, values, info.units) for e, values in yearly.items()]
            stored = edoc.records(doc, "figures")
            for figure in stats:
                fields = {
                    "participants": figure.participants,
                    "units": figure.units,
                    "total_kwh": figure.total_kwh,
                    "average_kwh": figure.average_kwh,
                    "median_kwh": figure.median_kwh,
                }
                kept = stored.get(figure.energy, {})
                if any(kept.get(k) != v for k, v in fields.items()):  # only what changed
                    edoc.put_record(doc, "figures", figure.energy, {**fields, "at": at})
            if any(f.shown for f in stats):
                for optin in counted:
                    self._audit(doc, f"{optin}:anonymized", Event.BILL_ANONYMIZED, at, optin)
        return stats, {e: frozenset(ids) for e, ids in counting.items()}

    def _audit_owner(self, doc: Any, record: OptInRecord) -> None:
        """Copy what an owner did into the campaign's audit trail (which
        outlives the opt-in)."""
        if not record.consent_valid:
            return
        given = record.given_at
        self._audit(
            doc, f"{record.id}:uploaded", Event.BILL_UPLOADED, given, record.id, record.person
        )
        self._audit(
            doc, f"{record.id}:consent", Event.CONSENT_GIVEN, given, record.id, record.person
        )
        if record.withdrawn_at:
            self._audit(
                doc,
                f"{record.id}:withdrawn",
                Event.CONSENT_WITHDRAWN,
                record.withdrawn_at,
                record.id,
                record.person,
            )

    def region(self) -> str:
        """The building's pool region, from its postal code."""
        code = self._session.registry.read().association.address.postal_code
        try:
            return region_of(code)
        except EnergyError:
            raise InputError(
                _("Enter the building's postal code in the association's address first.")
            ) from None

    def publish(self, campaign: str) -> dict[str, Any]:
        """Send the building's k-anonymous figures to the relay's pools (and
        withdraw an energy's figures that fell below 5)."""
        from ..sync import energy_client

        info = self.info(campaign)
        if info.status not in (Status.NEGOTIATING, Status.AWAITING_FINAL_VOTE):
            raise InputError(_("Figures go to the pool only while the campaign negotiates."))
        stats, counting = self._refresh(campaign)
        region = self.region()
        published, withdrawn, held = [], [], []
        earlier = edoc.records(self._live(campaign).doc, "figures")
        for figure in stats:
            sent = [
                frozenset(ids)
                for ids in json.loads(earlier.get(figure.energy, {}).get("sent_sets") or "[]")
            ]
            if figure.shown and not rules.differs_safely(counting[figure.energy], sent):
                # Found by hand: with 6 then 5 participants published, a broker
                # subtracted the two totals and had one owner's yearly kWh.
                # Figures whose participants differ from ones sent before by
                # fewer than 5 are withdrawn from the pool instead.
                energy_client.withdraw(self._session, campaign, figure.energy)
                held.append(figure.energy)
            elif figure.shown:
                aggregate = Aggregate(
                    building_id=self._session.building_id,
                    campaign_id=campaign,
                    energy_type=figure.energy,
                    region=region,
                    participants=figure.participants,
                    units=max(figure.units, figure.participants),
                    total_kwh=int(figure.total_kwh or 0),
                    average_kwh=int(figure.average_kwh or 0),
                    median_kwh=int(figure.median_kwh or 0),
                    published_at=_iso(self._now()).replace("+00:00", "Z"),
                )
                energy_client.publish(self._session, aggregate)
                published.append(figure.energy)
            else:
                energy_client.withdraw(self._session, campaign, figure.energy)
                withdrawn.append(figure.energy)
        with self._live(campaign).edit() as doc:
            for energy in published:
                sets = json.loads(earlier.get(energy, {}).get("sent_sets") or "[]")
                new = sorted(counting[energy])
                if new not in sets:
                    sets.append(new)
                edoc.put_record(
                    doc,
                    "figures",
                    energy,
                    {"published": _iso(self._now()), "sent_sets": json.dumps(sets)},
                )
            for energy in [*withdrawn, *held]:
                edoc.put_record(doc, "figures", energy, {"published": None})
        return {"published": published, "withdrawn": withdrawn, "held": held}

    def fetch_offers(self, campaign: str) -> list[OfferView]:
        """Fetch the pool's offers from the relay and keep them in the campaign."""
        from ..sync import energy_client

        offers = energy_client.offers(self._session, campaign)
        chosen = self.info(campaign).chosen_offer
        fetched = {offer.id for offer in offers}
        with self._live(campaign).edit() as doc:
            for offer in offers:
                edoc.put_record(doc, "offers", offer.id, {"offer": json.dumps(offer.to_json())})
            # Found by hand: an offer its broker withdrew stayed listed and could
            # be finalized. The chosen one stays: the assembly chose it.
            for gone in set(edoc.records(doc, "offers")) - fetched - {chosen}:
                edoc.delete_record(doc, "offers", gone)
        return self.offers(campaign)

    def offers(self, campaign: str, today: date | None = None) -> list[OfferView]:
        """The offers kept in the campaign, cheapest first, each with its
        green score, the building's estimated yearly savings and whether it
        has expired."""
        today = today or self._today()
        stored = edoc.records(self._live(campaign).doc, "offers")
        totals = {f.energy: f.total_kwh or 0 for f in self.figures(campaign)}
        out = []
        for fields in stored.values():
            try:
                offer = Offer.from_json(json.loads(fields["offer"]))
            except (EnergyError, KeyError, ValueError):
                continue
            energy = offer.pool.split(":", 1)[0]
            savings = rules.estimated_savings_cents(
                totals.get(energy, 0), offer.price_kwh_millicents, offer.estimated_savings_pct
            )
            expired = date.fromisoformat(offer.valid_until) < today
            out.append(OfferView(offer, green_score(offer.green_pct), savings, expired))
        return sorted(out, key=lambda v: (v.offer.pool, v.offer.price_kwh_millicents, v.offer.id))

    def audit(self, campaign: str) -> list[dict[str, str]]:
        events = edoc.records(self._live(campaign).doc, "audit")
        return sorted(
            ({"id": k, **{n: str(v) for n, v in f.items()}} for k, f in events.items()),
            key=lambda e: (e["at"], e["id"]),
        )

    # -- the summary for the assembly -----------------------------------------------------

    def summary_pdf(self, campaign: str, language: str = "fr", on: date | None = None) -> bytes:
        """The campaign's summary for the general assembly, as a PDF: the
        facts, the mandate, the k-anonymous figures, the offers side by side
        with the chosen one marked."""
        from ..pdf.energy import CampaignSummary, EnergyFigures, OfferLine, render_summary
        from ..pdf.layout import Letterhead

        info = self.info(campaign)
        association = self._session.registry.read().association
        if association is None:
            raise InputError(_("This profile holds no building yet."))
        mandate = ""
        if info.mandate is not None:
            meeting, item = info.mandate
            with contextlib.suppress(NotFoundError):
                _m, _i, result = self._resolution(meeting, item)
                held = self._session.assembly.info(meeting)
                day = format_day(held.starts.date(), language)
                mandate = f"{held.title} ({day}) — {result.item.title}"
        return render_summary(
            CampaignSummary(
                letterhead=Letterhead(association),
                language=language,
                name=info.name,
                status=info.status,
                energy_types=info.energy_types,
                deadline=info.deadline,
                contract_months=info.contract_months,
                contract_type=info.contract_type,
                mandate=mandate,
                figures=tuple(EnergyFigures.from_figures(f) for f in self.figures(campaign)),
                offers=tuple(
                    OfferLine.from_offer(v.offer, v.yearly_savings_cents)
                    for v in self.offers(campaign)
                ),
                chosen_offer=info.chosen_offer,
                generated_on=on or self._today(),
            )
        )

    # -- the syndic's tasks ---------------------------------------------------------------

    def tasks(self, today: date) -> list[Task]:
        """Campaign deadlines for the syndic's task list: data collection
        whose deadline has come (move on to negotiation or cancel)."""
        out = []
        for info in self.campaigns():
            if info.status is Status.COLLECTING_DATA and info.deadline is not None:
                out.append(
                    Task(
                        info.deadline,
                        "energy-collecting-ends",
                        _(
                            "Energy purchase {name}: taking part closes; move on to "
                            "negotiation or cancel the campaign."
                        ).format(name=info.name),
                        severity_of(info.deadline, today, 7),
                        info.id,
                    )
                )
        return out

    # -- retention ------------------------------------------------------------------------

    def _purge(self, campaign: str, day: date) -> None:
        """Delete every opt-in of a campaign everywhere, then the sealed
        aggregating keys; mark the campaign purged only once all is done."""
        docs = self._optin_docs(campaign)  # emptied ones too: their compaction may be owed
        at = _iso(self._now())
        with self._live(campaign).edit() as doc:
            for _doc_id, optin, _fields in self._raw_optins(campaign):
                self._audit(doc, f"{optin}:deleted", Event.BILL_DELETED, at, optin)
        if docs:
            done = self._clear_everywhere(docs)  # raises, before any deletion, when offline
            if done.get("error"):
                raise SyncFailed(done["error"])  # deleted here, not yet at the relay: retried
        with self._live(campaign).edit() as doc:
            for device in list(edoc.records(doc, "keys")):
                edoc.delete_record(doc, "keys", device)
            for verified in list(edoc.records(doc, "verified")):
                edoc.delete_record(doc, "verified", verified)
            edoc.set_meta(doc, purged_on=day.isoformat())

    def retention(self, today: date | None = None) -> RetentionReport:
        """Delete per-unit data 90 days after a campaign ended (every opt-in,
        everywhere, and the aggregating key) and audit events after five
        years. Run at start-up and daily; only the syndic's devices act, the
        others receive the result as they sync."""
        report = RetentionReport()
        if not self._is_syndic():
            return report
        day = today or self._today()
        for info in self.campaigns():
            live = self._live(info.id)
            if info.status in (Status.COMPLETED, Status.CANCELLED) and self.in_pool(info.id):
                error = self._try_withdraw(info.id)  # ended while the relay was away
                if error:
                    report.errors.append(error)
            if info.purged_on is None and rules.purge_due(info.ended_on, day):
                try:
                    self._purge(info.id, day)
                except KoprogoError as exc:  # nothing marked: retried at the next run
                    report.errors.append(str(exc))
                else:
                    report.purged.append(info.id)
            expired = [
                event_id
                for event_id, fields in edoc.records(live.doc, "audit").items()
                if rules.audit_expired(date.fromisoformat(str(fields.get("at", ""))[:10]), day)
            ]
            if expired:
                with live.edit() as doc:
                    for event_id in expired:
                        edoc.delete_record(doc, "audit", event_id)
                report.audit_dropped += len(expired)
        return report


class SyncFailed(KoprogoError):
    """The relay could not take a deletion; the next run tries again."""


def _b64(text: Any) -> bytes:
    return base64.b64decode(str(text), validate=True)


def _check_consent(
    campaign: str, person: str, optin: str, fields: Mapping[str, Any], verifier: Verifier
) -> tuple[bool, str]:
    """(signature valid and matching the opt-in, given_at)."""
    try:
        consent_text = str(fields["consent"])
        consent = json.loads(consent_text)
        signature = _b64(fields["signature"])
        sealed_json = edoc.canonical(
            {"ephemeral": fields.get("ephemeral"), "sealed": json.loads(fields["sealed"])}
            if isinstance(fields.get("sealed"), str)
            else {"ephemeral": fields.get("ephemeral"), "sealed": fields.get("sealed")}
        )
    except (KeyError, ValueError, TypeError):
        return False, ""
    clear = ("lot", "energy_type", "postal_code", "period_start", "period_end", "bill_sha256")
    matches = (
        consent.get("campaign") == campaign
        and consent.get("person") == person
        and consent.get("optin") == optin
        and all(consent.get(k) == fields.get(k) for k in clear)
        and consent.get("data_sha256") == hashlib.sha256(sealed_json.encode()).hexdigest()
    )
    valid = matches and verifier.verifies(
        str(fields.get("signer", "")),
        person,
        edoc.CONSENT_CONTEXT + consent_text.encode(),
        signature,
    )
    return valid, str(consent.get("given_at", ""))


def _check_withdrawal(
    person: str, optin: str, fields: Mapping[str, Any], verifier: Verifier
) -> str | None:
    """When the consent was withdrawn, if the withdrawal is genuine."""
    try:
        text = str(fields["withdrawn"])
        data = json.loads(text)
        signature = _b64(fields["withdrawn_signature"])
    except (KeyError, ValueError, TypeError):
        return None
    if data.get("optin") != optin or data.get("person") != person:
        return None
    genuine = verifier.verifies(
        str(fields.get("withdrawn_signer", "")),
        person,
        edoc.WITHDRAW_CONTEXT + text.encode(),
        signature,
    )
    return str(data.get("withdrawn_at", "")) if genuine else None


def reading(
    energy_type: str,
    kwh: Mapping[str, int],
    period_start: date,
    period_end: date,
    postal_code: str,
    bill: Path | None = None,
    bill_sha256: str = "",
) -> Reading:
    """A :class:`Reading` from what an owner types, the bill's fingerprint
    computed from its PDF (which never leaves the owner's machine)."""
    try:
        kind = EnergyType(energy_type)
    except ValueError:
        raise InputError(_("Choose the energies to buy: electricity, gas or both.")) from None
    if bill is not None:
        try:
            bill_sha256 = hashlib.sha256(bill.read_bytes()).hexdigest()
        except OSError as exc:
            raise InputError(
                _("Cannot read {path}: {error}").format(path=bill, error=exc.strerror)
            ) from None
    return Reading(kind, dict(kwh), period_start, period_end, postal_code, bill_sha256.lower())
