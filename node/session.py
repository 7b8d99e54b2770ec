"""A session: one unlocked profile with its documents loaded.

The session owns the pycrdt documents; whoever holds it (the CLI, or the
desktop's single worker thread) is the only thread that touches them
(ARCHITECTURE §12). Services hang off it and return plain values.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime, timedelta
from pathlib import Path

from shared.protocol import Audience, Role, audience_of, may_read, may_write

from .documents import (
    assembly_doc,
    directory_doc,
    energy_doc,
    inbox_doc,
    ledger_doc,
    registry_doc,
)
from .documents.live import KIND_UPDATE, LiveDocument
from .errors import InputError, ProfileError, StorageError
from .i18n import N_, _
from .keys import KeyStorage, PassphraseProvider
from .profile import Profile
from .store import DocumentRef

log = logging.getLogger(__name__)

# Fold a document's updates into a checkpoint once this many have piled up;
# loading thousands of small updates is far slower than one state
# (ARCHITECTURE §12, Secsync's figures).
CHECKPOINT_EVERY = 200
# a device's role in a sentence ("This device (owner) ...")
DEVICE_ROLE_WORDS = {
    "syndic": N_("the syndic's"),
    "council": N_("a council member's"),
    "owner": N_("an owner's"),
    "kiosk": N_("the building's shared computer"),
}
OFFSET_TRUSTED_SECONDS = 7 * 86_400  # how long a measured clock offset is used (Session.now)

# doc kind -> (schema version, top-level maps)
_KINDS = {
    "registry": (registry_doc.SCHEMA, registry_doc.ROOTS),
    "directory": (directory_doc.SCHEMA, directory_doc.ROOTS),
    "inbox": (inbox_doc.SCHEMA, inbox_doc.ROOTS),
    "ledger": (ledger_doc.SCHEMA, ledger_doc.ROOTS),
    "assembly": (assembly_doc.SCHEMA, assembly_doc.ROOTS),
    "ballots": (assembly_doc.BALLOT_SCHEMA, assembly_doc.BALLOT_ROOTS),
    "energy": (energy_doc.SCHEMA, energy_doc.ROOTS),
    "optins": (energy_doc.OPTIN_SCHEMA, energy_doc.OPTIN_ROOTS),
}


KEPT_PERSON_PREFIX = "person-pin:"
"""Secrets named so hold a person's keys kept on the kiosk under their PIN."""

_WRITE_DENIED = N_("Only the syndic's device changes this part; this device shows it read-only.")


def document_kinds() -> frozenset[str]:
    """The document kinds this version of KoproGo can hold."""
    return frozenset(_KINDS)


class Session:
    def __init__(self, profile: Profile) -> None:
        self.profile = profile
        self._documents: dict[str, LiveDocument] = {}
        self._closed = False
        from .services.assembly import AssemblyService
        from .services.assembly_documents import AssemblyDocuments
        from .services.bank import BankService
        from .services.documents import DocumentsService
        from .services.energy import EnergyService
        from .services.governance import GovernanceService
        from .services.inbox import InboxService
        from .services.ledger import LedgerService
        from .services.registry import RegistryService

        self.registry = RegistryService(self)
        self.assembly = AssemblyService(self)
        self.assembly_documents = AssemblyDocuments(self)
        self.inbox = InboxService(self)
        self.ledger = LedgerService(self)
        self.bank = BankService(self)
        self.documents = DocumentsService(self)
        self.governance = GovernanceService(self)
        self.energy = EnergyService(self)

    # -- lifecycle ----------------------------------------------------------

    @classmethod
    def open(cls, path: Path, provider: PassphraseProvider | None = None) -> Session:
        return cls(Profile.open(path, provider))

    @classmethod
    def create(
        cls,
        path: Path,
        provider: PassphraseProvider | None = None,
        key_storage: KeyStorage | None = None,
    ) -> Session:
        return cls(Profile.create(path, provider, key_storage))

    def close(self) -> None:
        """Checkpoint what piled up and close the store (once; later calls
        do nothing)."""
        if self._closed:
            return
        self._closed = True
        try:
            for live in self._documents.values():
                if self.profile.store.update_count(live.ref) > 1:
                    live.checkpoint()
        except StorageError:
            # Best effort: the changes are saved, and fold at the next close
            # (found by hand: on a full disk a saved edit was reported as
            # failed, and a retry made a duplicate)
            log.warning("checkpoint on close skipped (disk full?)", exc_info=True)
        finally:
            self.profile.close()

    def __enter__(self) -> Session:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- documents -------------------------------------------------------------

    @property
    def building_id(self) -> str:
        building_id = self.profile.building_id
        if building_id is None:
            raise ProfileError(_("This profile holds no building yet."))
        return building_id

    def document(self, doc_id: str) -> LiveDocument:
        live = self._documents.get(doc_id)
        if live is None:
            ref = self.profile.store.document(self.building_id, doc_id)
            assert ref is not None
            schema, roots = _KINDS[doc_id.split("/")[0]]
            try:
                live = LiveDocument(self.profile.store, ref, schema, roots)
            except StorageError as exc:
                self._fetch_again(ref, exc)
                live = LiveDocument(self.profile.store, ref, schema, roots)
            live.outbox_enabled = self.sync_enabled
            role = self.profile.store.get_meta("role")
            if role and not may_write(Role(role), doc_id, self.writes_for()):
                live.deny_writes(_WRITE_DENIED)
            live.subscribe(lambda: self._maybe_checkpoint(live))
            self._documents[doc_id] = live
        return live

    def catch_up_with_disk(self) -> bool:
        """Load again the documents another process on this profile changed
        on disk (found by hand: `sync --watch` beside a command took the
        command's edits, pulled back from the relay under this device's id,
        for a copied profile folder). True when it did."""
        if not self.profile.store.written_elsewhere():
            return False
        for live in self._documents.values():
            live.reload()
        return True

    def _fetch_again(self, ref: DocumentRef, error: StorageError) -> None:
        """A stored change of the document cannot be decrypted: the file was
        damaged (a flipped bit, a bad disk; the key was checked at opening).
        Found by hand: one damaged row locked the whole profile, every command
        refused, though the relay held everything. A building that syncs
        drops this copy and pulls it again (what was not sent yet stays in the
        outbox); one that does not cannot, and says so."""
        store = self.profile.store
        if store.is_readable(ref):
            raise error  # not damage: that error stands
        if not (store.get_meta("relay_url") and self.sync_enabled):
            raise StorageError(
                _(
                    "The copy of {doc} on this computer is damaged (the file was altered), and "
                    "this building does not sync with a relay to fetch it again: restore the "
                    "profile folder from a backup."
                ).format(doc=ref.doc_id)
            ) from error
        log.warning("%s is damaged on this computer: dropping it to pull it again", ref.doc_id)
        store.forget_copy(ref)
        repaired = set(json.loads(store.get_meta("fetched_again") or "[]")) | {ref.doc_id}
        store.set_meta({"fetched_again": json.dumps(sorted(repaired))})

    def _maybe_checkpoint(self, live: LiveDocument) -> None:
        if self.profile.store.update_count(live.ref) >= CHECKPOINT_EVERY:
            live.checkpoint()

    def writes_for(self) -> frozenset[str]:
        """The persons this device writes for: its own person, and on the
        building's shared PC every person whose keys it keeps."""
        store = self.profile.store
        persons = {store.get_meta("person")} - {None, ""}
        prefix = KEPT_PERSON_PREFIX
        persons |= {name.removeprefix(prefix) for name in store.secret_names(prefix)}
        return frozenset(persons)

    def can_read(self, doc_id: str) -> bool:
        """Whether this device may read ``doc_id``: by its role, or for a
        personal document by being that person's device (a profile not yet
        synced with anyone is the building's own syndic profile: yes)."""
        store = self.profile.store
        role = store.get_meta("role")
        audience = audience_of(doc_id)
        if not role or may_read(Role(role), audience):
            return True
        person = store.get_meta("person")
        return audience is Audience.PERSONAL and person == doc_id.split("/", 1)[1]

    def now(self) -> datetime:
        """The time, corrected by how far this computer's clock was found off
        the relay's at the last sync (protocol §4: the relay's clock is the
        reference); this computer's own time when it never synced."""
        store = self.profile.store
        offset = int(store.get_meta("clock_offset") or 0)
        measured = float(store.get_meta("clock_offset_at") or 0)
        here = datetime.now(UTC)
        # Found by hand: a laptop whose clock was a year off synced once, its
        # clock was then put right, and an offline assembly was stamped a
        # year late. A clock put right jumps by about the offset, so an
        # offset measured more than a week ago by this clock (either way) is
        # not trusted any more.
        if offset and abs(here.timestamp() - measured) > OFFSET_TRUSTED_SECONDS:
            return here
        return here + timedelta(seconds=offset)

    def _role_words(self) -> str:
        """This device's role as a person says it, in their language (found by
        hand: "Dit apparaat (kiosk)", "Dieses Gerät (owner)")."""
        role = self.profile.store.get_meta("role") or ""
        return _(DEVICE_ROLE_WORDS[role]) if role in DEVICE_ROLE_WORDS else role

    def require_accounts(self) -> None:
        """As :meth:`require_registry`, for the accounts (``ledger/<year>``)."""
        if not self.can_read("ledger/2000"):
            raise InputError(
                _(
                    "This device ({role}) does not receive the accounts; they are kept on the "
                    "syndic's and the council's devices. Owners find their calls for funds and "
                    "statements in their inbox."
                ).format(role=self._role_words())
            )

    def require_registry(self) -> None:
        """Refuse in words a command on the registry on a device whose role
        does not receive it (an owner's, the kiosk), where it would show an
        empty building or say that a person does not exist."""
        if not self.can_read("registry"):
            raise InputError(
                _(
                    "This device ({role}) does not receive the building's registry; it is "
                    "kept on the syndic's and the council's devices."
                ).format(role=self._role_words())
            )

    # -- sync ----------------------------------------------------------------------

    @property
    def sync_enabled(self) -> bool:
        return self.profile.store.get_meta("sync") == "on"

    def enable_sync(self, initial_push: bool) -> None:
        """From now on, local changes also go to the outbox (in the same
        transaction as the edit). ``initial_push`` queues the whole current
        state of every document first (a building just registered)."""
        store = self.profile.store
        with store.transaction():
            store.set_meta({"sync": "on"})
            for ref in store.documents():
                if ref.building_id != self.building_id:
                    continue
                live = self.document(ref.doc_id)
                live.outbox_enabled = True
                if initial_push and live.get_state() != b"\x00":
                    store.enqueue(ref, live.schema, KIND_UPDATE, b"", live.get_update())

    def checkpoint(self) -> dict[str, int]:
        """Checkpoint every loaded document now; returns updates folded per document."""
        return {doc_id: live.checkpoint() for doc_id, live in self._documents.items()}
