"""Registry operations: what the CLI and the desktop call.

Each operation checks its input (raising :class:`InputError` with a readable
message before touching the document), makes one durable, undoable edit, and
returns a :class:`Change` saying what changed so screens refresh themselves
(STYLE §3, Anki's operations).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any

from shared.ids import is_ulid, new_ulid

from ..documents import registry_doc as rdoc
from ..documents.live import LiveDocument
from ..domain.payments import format_eur
from ..domain.registry import (
    Address,
    Association,
    DistributionKey,
    Facts,
    Lot,
    LotType,
    Occupant,
    Ownership,
    Person,
    Registry,
    Right,
    check_bce,
    facts,
    match_names,
    parse_date,
)
from ..domain.validation import Problem, validate
from ..errors import InputError, NotFoundError, ProfileError
from ..i18n import _, current_language, format_day

if TYPE_CHECKING:
    from ..session import Session


@dataclass(frozen=True)
class Change:
    """What an operation changed: the collections touched and the record made."""

    collections: frozenset[str]
    record_id: str | None = None

    @classmethod
    def of(cls, *collections: str, record_id: str | None = None) -> Change:
        return cls(frozenset(collections), record_id)


ALL = ("association", "lots", "persons", "ownerships", "occupants", "keys", "council", "auditors")


class RegistryService:
    def __init__(self, session: Session) -> None:
        self._session = session
        self._projection: rdoc.RegistryProjection | None = None

    # -- reading ----------------------------------------------------------------

    @property
    def _live(self) -> LiveDocument:
        return self._session.document("registry")

    def read(self) -> Registry:
        """The current registry (cached until the document changes)."""
        doc = self._live.doc
        if self._projection is None or self._projection.doc is not doc:  # first read or reload
            self._projection = rdoc.RegistryProjection(doc)
        return self._projection.registry()

    def problems(self) -> list[Problem]:
        return validate(self.read())

    def facts(self) -> Facts:
        return facts(self.read())

    @property
    def read_only_reason(self) -> str | None:
        return self._live.read_only_reason

    # -- the building -------------------------------------------------------------

    def create_building(self, association: Association) -> Change:
        """Start the profile's building with its association details."""
        store = self._session.profile.store
        if store.get_meta("building_id"):
            raise ProfileError(_("This profile already holds a building."))
        store.set_meta({"building_id": new_ulid()})
        with self._live.edit() as doc:
            rdoc.init_document(doc)
            rdoc.put_association(doc, association)
        self._live.clear_undo()
        return Change.of("association")

    def set_association(self, **fields: Any) -> Change:
        """Change some association fields (name, quota_total, bce_number,
        street, postal_code, city, provisional_acceptance, fiscal_year_start)."""
        current = self.read().association
        if current is None:
            raise ProfileError(_("This profile holds no building yet."))
        address_fields = {
            k: fields.pop(k) for k in ("street", "postal_code", "city") if k in fields
        }
        if fields.get("bce_number"):
            fields["bce_number"] = check_bce(fields["bce_number"])
        if isinstance(fields.get("provisional_acceptance"), str):
            fields["provisional_acceptance"] = parse_date(fields["provisional_acceptance"])
        updated = dataclasses.replace(
            current, address=dataclasses.replace(current.address, **address_fields), **fields
        )
        with self._live.edit() as doc:
            rdoc.put_association(doc, updated)
        return Change.of("association")

    # -- lots ------------------------------------------------------------------------

    def add_lot(self, number: str, type: LotType, quota: int, floor: int | None = None) -> Change:
        number = number.strip()
        if self.read().lot_by_number(number):
            raise InputError(_("Lot number {number} already exists.").format(number=number))
        lot = Lot(new_ulid(), number, type, quota, floor)
        with self._live.edit() as doc:
            rdoc.put_record(doc, "lots", lot.id, rdoc.lot_fields(lot))
        return Change.of("lots", record_id=lot.id)

    def update_lot(self, lot_ref: str, **fields: Any) -> Change:
        """Change a lot (by id or number): number, type, quota, floor."""
        lot = self.find_lot(lot_ref)
        if "number" in fields:
            fields["number"] = fields["number"].strip()
            other = self.read().lot_by_number(fields["number"])
            if other is not None and other.id != lot.id:
                raise InputError(
                    _("Lot number {number} already exists.").format(number=fields["number"])
                )
        updated = dataclasses.replace(lot, **fields)
        with self._live.edit() as doc:
            rdoc.put_record(doc, "lots", lot.id, rdoc.lot_fields(updated))
        return Change.of("lots", record_id=lot.id)

    def delete_lot(self, lot_ref: str) -> Change:
        """Delete a lot with its holders, occupants and key weights."""
        lot = self.find_lot(lot_ref)
        registry = self.read()
        with self._live.edit() as doc:
            for ownership in registry.holders(lot.id):
                rdoc.delete_record(doc, "ownerships", ownership.id)
            for occupant in registry.occupants:
                if occupant.lot_id == lot.id:
                    rdoc.delete_record(doc, "occupants", occupant.id)
            for key in registry.keys:
                if lot.id in key.weights:
                    weights = {k: w for k, w in key.weights.items() if k != lot.id}
                    rdoc.put_key(doc, dataclasses.replace(key, weights=weights))
            rdoc.delete_record(doc, "lots", lot.id)
        return Change.of("lots", "ownerships", "occupants", "keys")

    def find_lot(self, lot_ref: str) -> Lot:
        registry = self.read()
        lot = registry.lot(lot_ref) or registry.lot_by_number(lot_ref.strip())
        if lot is None:
            raise NotFoundError(_("There is no lot {lot}.").format(lot=lot_ref))
        return lot

    # -- persons ---------------------------------------------------------------------

    def add_person(self, name: str, **fields: Any) -> Change:
        """Add a person (email, phone, language, email_consent, street,
        postal_code, city); returns the change with the new person's id."""
        person = _build_person(new_ulid(), name, fields)
        with self._live.edit() as doc:
            rdoc.put_record(doc, "persons", person.id, rdoc.person_fields(person))
        return Change.of("persons", record_id=person.id)

    def update_person(self, person_id: str, **fields: Any) -> Change:
        person = self.find_person(person_id)
        merged = {**rdoc.person_fields(person), **fields}
        updated = _build_person(person.id, merged.pop("name"), merged)
        with self._live.edit() as doc:
            rdoc.put_record(doc, "persons", person.id, rdoc.person_fields(updated))
        return Change.of("persons", record_id=person.id)

    def delete_person(self, person_id: str) -> Change:
        person = self.find_person(person_id)
        registry = self.read()
        held = [registry.lot(o.lot_id) for o in registry.ownerships if o.person_id == person.id]
        if held:
            numbers = ", ".join(sorted(lot.number for lot in held if lot))
            raise InputError(
                _("{name} still holds lot(s) {lots}; remove them from those lots first.").format(
                    name=person.name, lots=numbers
                )
            )
        with self._live.edit() as doc:
            for occupant in registry.occupants:
                if occupant.person_id == person.id:
                    rdoc.delete_record(doc, "occupants", occupant.id)
            rdoc.delete_record(doc, "persons", person.id)
        return Change.of("persons", "occupants")

    def erase_person(self, person_id: str) -> Change:
        """GDPR art. 17: remove a person's personal data from the registry.

        Refused while they hold a lot (the registry of owners is kept by law).
        Their record and occupancies are deleted in one edit that cannot be
        undone (the undo history would otherwise keep the erased data in
        memory). Forgetting it on disk and at the relay is the sync's job
        (:func:`node.sync.service.erase_person`).
        """
        self.check_erasable(person_id)
        # Removed earlier (and so undoable until now), what remains of them
        # is in the history, which goes. Their id is kept (no name), so that
        # the syndic's devices erase them again if their data comes back.
        with self._live.edit(undoable=False) as doc:
            rdoc.delete_record(doc, "persons", person_id)
            rdoc.put_erased(doc, person_id, self._session.now().date().isoformat())
            for wrong in [e for e in rdoc.erased(doc) if not is_ulid(e)]:  # see check_erasable
                rdoc.delete_record(doc, "erased", wrong)
        self._live.forget_history()
        return Change.of("persons", "occupants")

    def erased(self) -> frozenset[str]:
        """The ids of the persons erased from this building."""
        if not self._session.can_read("registry"):
            return frozenset()
        return rdoc.erased(self._live.doc)

    def drop_erased(self, person_id: str) -> bool:
        """Delete the records that name an erased person and came back (a
        device offline during the erasure sent them): their record and
        occupancies. Whether there were any."""
        registry = self.read()
        occupancies = [o.id for o in registry.occupants if o.person_id == person_id]
        if registry.person(person_id) is None and not occupancies:
            return False
        with self._live.edit(undoable=False) as doc:
            rdoc.delete_record(doc, "persons", person_id)
            for occupancy in occupancies:
                rdoc.delete_record(doc, "occupants", occupancy)
        return True

    def check_erasable(self, person_id: str) -> None:
        """Raise, in words, what stops erasing a person now: an unknown id, a
        lot they hold (the registry of owners is kept by law), a lot they
        occupy, a council seat or an auditor's office still running, a
        balance the association must still claim or pay back (found by
        hand: a current occupant, a council member and an owner owing
        1,250 € were erased without a word, their roles silently dropped
        and their statement impossible afterwards). A former owner or
        occupant with nothing open is erasable."""
        registry = self.read()
        person = registry.person(person_id)
        if person is None:
            # Only a record id (found by hand: a name, or any word of the
            # history such as "apartment", passed as "in the history", was
            # "erased" with success said, and kept in the erased ids).
            known = is_ulid(person_id) and self.in_history(person_id)
            if not known and person_id not in self.erased():
                raise NotFoundError(_("There is no person with id {id}.").format(id=person_id))
            return  # removed before, or erased before (erasing again finishes it)
        name = person.name

        def lots_of(records: Any) -> str:
            numbers = (registry.lot(r.lot_id) for r in records if r.person_id == person.id)
            return ", ".join(sorted(lot.number for lot in numbers if lot is not None))

        if held := lots_of(registry.ownerships):
            raise InputError(
                _(
                    "{name} still holds lot(s) {lots}: the registry of owners must keep them. "
                    "Record the new owner first, then erase."
                ).format(name=name, lots=held)
            )
        if occupied := lots_of(registry.occupants):
            raise InputError(
                _(
                    "{name} still occupies lot(s) {lots}. Remove the occupancy when they "
                    "leave, then erase."
                ).format(name=name, lots=occupied)
            )
        self._check_no_office(person.id, name)
        self._check_no_balance(person.id, name)

    def _check_no_office(self, person_id: str, name: str) -> None:
        today = self._session.now().date()
        governance = self._session.governance
        for mandate in governance.council(on=today):
            if mandate.person_id == person_id:
                raise InputError(
                    _(
                        "{name} sits on the council (mandate from {start}). End the mandate "
                        "first, then erase."
                    ).format(name=name, start=format_day(mandate.start))
                )
        for auditor in governance.auditors():
            if auditor.person_id == person_id and auditor.year >= today.year:
                raise InputError(
                    _(
                        "{name} is the auditor of the accounts of {year}. Appoint another "
                        "auditor or let that year end, then erase."
                    ).format(name=name, year=auditor.year)
                )

    def _check_no_balance(self, person_id: str, name: str) -> None:
        ledger = self._session.ledger
        years = ledger.years()
        if not years or not self._session.can_read(f"ledger/{years[-1]}"):
            return
        # the last year holds what closed years carried; a year not closed
        # carried nothing yet, so its own balance counts too
        balance = ledger.owner_balances(years[-1]).get(person_id, 0) + sum(
            ledger.owner_balances(label).get(person_id, 0)
            for label in years[:-1]
            if not ledger.year(label).closed
        )
        if balance == 0:
            return
        amount = format_eur(abs(balance), current_language())
        message = (
            _(
                "{name} still owes {amount} to the association: it needs to know who owes it. "
                "Settle the balance first (a payment, or a write-off), then erase."
            )
            if balance > 0
            else _(
                "The association still owes {name} {amount}: it needs to know whom to pay. "
                "Pay it back first, then erase."
            )
        )
        raise InputError(message.format(name=name, amount=amount))

    # -- convocations (written by the assembly service) -----------------------------

    def record_convocations(self, meeting: str, channels: dict[str, str], on: date) -> None:
        """Keep how each owner's convocation to ``meeting`` was sent. It tells
        who agreed to e-mail, so it is kept here (management only) rather
        than in the meeting's document that every owner reads. Not undoable
        from the registry: undo of the convocation belongs to the meeting."""
        with self._live.edit(undoable=False) as doc:
            for person, channel in channels.items():
                rdoc.put_convocation(doc, meeting, person, channel, on.isoformat())

    def convocations(self, meeting: str) -> dict[str, dict[str, str]]:
        """person -> {channel, on} for ``meeting``; empty on a device that
        does not receive the registry."""
        if not self._session.can_read("registry"):
            return {}
        return rdoc.convocations(self._live.doc, meeting)

    def in_history(self, record_id: str) -> bool:
        """Whether this device's copy of the registry, history included,
        mentions ``record_id`` (a person removed but not erased)."""
        needle = record_id.encode()
        return any(needle in stored.update for stored in self._live.store.read(self._live.ref))

    def find_person(self, person_id: str) -> Person:
        person = self.read().person(person_id)
        if person is None:
            raise NotFoundError(_("There is no person with id {id}.").format(id=person_id))
        return person

    def person_named(self, ref: str) -> Person:
        """A person by id or by name (case-insensitive; a unique start will do)."""
        persons = {p.id: p for p in self.read().persons}
        matches = match_names({i: p.name for i, p in persons.items()}, ref)
        if len(matches) == 1:
            return persons[matches[0]]
        if not matches:
            raise NotFoundError(_("There is no person {name!r} in the registry.").format(name=ref))
        raise InputError(
            _("{name!r} names several persons ({names}); give more of the name or the id.").format(
                name=ref, names=", ".join(sorted(persons[m].name for m in matches))
            )
        )

    # -- ownership -------------------------------------------------------------------

    def set_owner(
        self,
        lot_ref: str,
        person_id: str,
        share: int,
        right: Right = Right.FULL,
        voting: bool = False,
    ) -> Change:
        """Make ``person_id`` a holder of the lot with ``share`` (hundredths of a
        percent) of ``right``, or change that holding. ``voting=True`` makes them
        the lot's voting holder and removes the flag from the others."""
        lot = self.find_lot(lot_ref)
        self.find_person(person_id)
        holders = self.read().holders(lot.id)
        existing = next((o for o in holders if o.person_id == person_id and o.right == right), None)
        ownership = Ownership(
            existing.id if existing else new_ulid(), lot.id, person_id, share, right, voting
        )
        with self._live.edit() as doc:
            rdoc.put_record(doc, "ownerships", ownership.id, rdoc.ownership_fields(ownership))
            if voting:
                for other in holders:
                    if other.id != ownership.id and other.voting:
                        rdoc.put_record(doc, "ownerships", other.id, {"voting": False})
        return Change.of("ownerships", record_id=ownership.id)

    def add_owner(
        self,
        lot_ref: str,
        person_id: str,
        share: int,
        right: Right = Right.FULL,
        voting: bool = False,
    ) -> Change:
        """Like :meth:`set_owner`, but refuses when the person already holds
        that right on the lot (the desktop's "Add holder")."""
        lot = self.find_lot(lot_ref)
        person = self.find_person(person_id)
        if any(o.person_id == person_id and o.right == right for o in self.read().holders(lot.id)):
            raise InputError(
                _(
                    "{name} already holds that right on lot {lot}; change the holding instead."
                ).format(name=person.name, lot=lot.number)
            )
        return self.set_owner(lot.id, person_id, share, right, voting)

    def update_holding(
        self,
        ownership_id: str,
        *,
        share: int | None = None,
        right: Right | None = None,
        voting: bool | None = None,
    ) -> Change:
        """Change one holding's share, right or voting flag in one undoable
        edit. Making it the voting holding removes the flag from the others."""
        current = next((o for o in self.read().ownerships if o.id == ownership_id), None)
        if current is None:
            raise NotFoundError(_("There is no such holding."))
        updated = dataclasses.replace(
            current,
            share=current.share if share is None else share,
            right=current.right if right is None else right,
            voting=current.voting if voting is None else voting,
        )
        others = [o for o in self.read().holders(current.lot_id) if o.id != current.id]
        if any(o.person_id == updated.person_id and o.right == updated.right for o in others):
            raise InputError(_("This person already holds that right on this lot."))
        with self._live.edit() as doc:
            rdoc.put_record(doc, "ownerships", updated.id, rdoc.ownership_fields(updated))
            if updated.voting:
                for other in others:
                    if other.voting:
                        rdoc.put_record(doc, "ownerships", other.id, {"voting": False})
        return Change.of("ownerships", record_id=updated.id)

    def remove_owner(self, ownership_id: str) -> Change:
        if not any(o.id == ownership_id for o in self.read().ownerships):
            raise NotFoundError(_("There is no such holding."))
        with self._live.edit() as doc:
            rdoc.delete_record(doc, "ownerships", ownership_id)
        return Change.of("ownerships")

    # -- occupants -------------------------------------------------------------------

    def add_occupant(self, lot_ref: str, person_id: str, since: date | None = None) -> Change:
        lot = self.find_lot(lot_ref)
        person = self.find_person(person_id)
        if any(o.lot_id == lot.id and o.person_id == person_id for o in self.read().occupants):
            raise InputError(
                _("{name} is already an occupant of lot {lot}.").format(
                    name=person.name, lot=lot.number
                )
            )
        occupant = Occupant(new_ulid(), lot.id, person_id, since)
        with self._live.edit() as doc:
            rdoc.put_record(doc, "occupants", occupant.id, rdoc.occupant_fields(occupant))
        return Change.of("occupants", record_id=occupant.id)

    def remove_occupant(self, occupant_id: str) -> Change:
        if not any(o.id == occupant_id for o in self.read().occupants):
            raise NotFoundError(_("There is no such occupant."))
        with self._live.edit() as doc:
            rdoc.delete_record(doc, "occupants", occupant_id)
        return Change.of("occupants")

    # -- distribution keys --------------------------------------------------------------

    def add_key(self, name: str, weights: dict[str, int]) -> Change:
        key = DistributionKey(new_ulid(), name.strip(), self._lot_weights(weights))
        with self._live.edit() as doc:
            rdoc.put_key(doc, key)
        return Change.of("keys", record_id=key.id)

    def update_key(
        self, key_id: str, name: str | None = None, weights: dict[str, int] | None = None
    ) -> Change:
        key = next((k for k in self.read().keys if k.id == key_id), None)
        if key is None:
            raise NotFoundError(_("There is no such distribution key."))
        updated = DistributionKey(
            key.id,
            name.strip() if name is not None else key.name,
            self._lot_weights(weights) if weights is not None else key.weights,
        )
        with self._live.edit() as doc:
            rdoc.put_key(doc, updated)
        return Change.of("keys", record_id=key.id)

    def delete_key(self, key_id: str) -> Change:
        if not any(k.id == key_id for k in self.read().keys):
            raise NotFoundError(_("There is no such distribution key."))
        with self._live.edit() as doc:
            rdoc.delete_record(doc, "keys", key_id)
        return Change.of("keys")

    def _lot_weights(self, weights: dict[str, int]) -> dict[str, int]:
        """Accept lots by id or number; store them by id."""
        return {self.find_lot(ref).id: weight for ref, weight in weights.items()}

    # -- undo and bulk -------------------------------------------------------------------

    def undo(self) -> Change:
        return Change.of(*ALL) if self._live.undo() else Change.of()

    def redo(self) -> Change:
        return Change.of(*ALL) if self._live.redo() else Change.of()

    def can_undo(self) -> bool:
        return self._live.can_undo()

    def can_redo(self) -> bool:
        return self._live.can_redo()


def _build_person(person_id: str, name: str, fields: dict[str, Any]) -> Person:
    address = Address(
        street=fields.pop("street", "") or "",
        postal_code=fields.pop("postal_code", "") or "",
        city=fields.pop("city", "") or "",
        country=fields.pop("country", "BE") or "BE",
    )
    return Person(person_id, name.strip(), address=address, **fields)
