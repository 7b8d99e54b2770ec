"""A session: one unlocked profile with its documents loaded.

The session owns the pycrdt documents; whoever holds it (the CLI, or the
desktop's single worker thread) is the only thread that touches them
(ARCHITECTURE §12). Services hang off it and return plain values.
"""

from __future__ import annotations

from pathlib import Path

from .documents import registry_doc
from .documents.live import LiveDocument
from .errors import ProfileError
from .i18n import _
from .keys import KeyStorage, PassphraseProvider
from .profile import Profile

# Fold a document's updates into a checkpoint once this many have piled up;
# loading thousands of small updates is far slower than one state
# (ARCHITECTURE §12, Secsync's figures).
CHECKPOINT_EVERY = 200

# doc kind -> (schema version, top-level maps)
_KINDS = {"registry": (registry_doc.SCHEMA, registry_doc.ROOTS)}


class Session:
    def __init__(self, profile: Profile) -> None:
        self.profile = profile
        self._documents: dict[str, LiveDocument] = {}
        from .services.registry import RegistryService

        self.registry = RegistryService(self)

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
        """Checkpoint what piled up and close the store."""
        try:
            for live in self._documents.values():
                if self.profile.store.update_count(live.ref) > 1:
                    live.checkpoint()
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
            live = LiveDocument(self.profile.store, ref, schema, roots)
            live.subscribe(lambda: self._maybe_checkpoint(live))
            self._documents[doc_id] = live
        return live

    def _maybe_checkpoint(self, live: LiveDocument) -> None:
        if self.profile.store.update_count(live.ref) >= CHECKPOINT_EVERY:
            live.checkpoint()

    def checkpoint(self) -> dict[str, int]:
        """Checkpoint every loaded document now; returns updates folded per document."""
        return {doc_id: live.checkpoint() for doc_id, live in self._documents.items()}
