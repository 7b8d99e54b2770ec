"""Personal messages: the syndic writes into a person's inbox; the person's
own devices (and management) read it. Nobody else holds the key."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING

from shared.ids import new_ulid

from ..documents import inbox_doc
from ..errors import InputError
from ..i18n import _
from .registry import Change

if TYPE_CHECKING:
    from ..session import Session


class InboxService:
    def __init__(self, session: Session) -> None:
        self._session = session

    def send(self, person_id: str, title: str, text: str, kind: str = "message") -> Change:
        """Put an item in ``person_id``'s inbox (the syndic's device)."""
        self._session.registry.find_person(person_id)
        if not title.strip():
            raise InputError(_("A message needs a title."))
        item = inbox_doc.InboxItem(
            new_ulid(),
            datetime.now(UTC).isoformat(timespec="seconds"),
            kind,
            title.strip(),
            text,
        )
        with self._session.document(f"inbox/{person_id}").edit() as doc:
            inbox_doc.add(doc, item)
        return Change.of("inbox", record_id=item.id)

    def erase(self, person_id: str) -> bool:
        """GDPR art. 17: empty an erased person's inbox (messages, copies of
        their calls and statements; the ledger keeps what the law requires).
        True when there was one."""
        store = self._session.profile.store
        doc_id = f"inbox/{person_id}"
        if store.document(self._session.building_id, doc_id, create=False) is None:
            return False
        with self._session.document(doc_id).edit() as doc:
            inbox_doc.clear(doc)
        return True

    def put(
        self, person_id: str, item_id: str, kind: str, title: str, text: str, data: str = ""
    ) -> Change:
        """Deliver an item with a fixed id (a call, a statement): delivering
        it again, from this device or another, updates the same item."""
        self._session.registry.find_person(person_id)
        item = inbox_doc.InboxItem(
            item_id, datetime.now(UTC).isoformat(timespec="seconds"), kind, title, text, data
        )
        with self._session.document(f"inbox/{person_id}").edit() as doc:
            inbox_doc.add(doc, item)
        return Change.of("inbox", record_id=item_id)

    def items(self, person_id: str) -> list[inbox_doc.InboxItem]:
        if not self._session.can_read(f"inbox/{person_id}"):
            raise InputError(_("This device cannot read that person's inbox."))
        return inbox_doc.read(self._session.document(f"inbox/{person_id}").doc)
