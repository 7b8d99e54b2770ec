"""Protocol facts both the node and the relay apply (docs/sync-protocol.md).

Roles, audiences, which role reads and writes which document, size limits
and the protocol version. Changing anything here is a protocol change: bump
:data:`PROTOCOL_VERSION` (minor for additions old peers can ignore, major
for anything else) and update the test vectors in ``tests/vectors/``.
"""

from __future__ import annotations

import re
from enum import IntEnum, StrEnum

PROTOCOL_VERSION = (1, 5)  # 1.1: energy pools (§9); 1.2: appends signed by their envelope (§4);
# 1.3: envelopes up to 16 MiB (§3.1); 1.4: withdrawing an invite (§6);
# 1.5: the envelope id at each document's head in ``heads`` (§7.1)
"""(major, minor). A peer that meets a newer *major* version stops writing
and says so; a newer minor version is read normally."""

ENVELOPE_SIGNED_APPENDS = (1, 2)
"""From this version on, a relay authenticates an append by its envelope's
own signature and ignores request signature headers on it
(docs/sync-protocol.md §4); a node still signs its appends as requests for a
relay that has not said it speaks this version."""


class Role(StrEnum):
    SYNDIC = "syndic"  # administers the building, signs the members log
    COUNCIL = "council"  # oversight: reads management documents
    OWNER = "owner"  # an owner's own device
    KIOSK = "kiosk"  # the shared PC in the building


class Audience(IntEnum):
    """Who can read a document: each audience has its own key per epoch."""

    MANAGEMENT = 1  # syndic and council
    BUILDING = 2  # every enrolled device
    PERSONAL = 3  # one person (inbox), sealed to that person's key


ROLE_AUDIENCES: dict[Role, frozenset[Audience]] = {
    Role.SYNDIC: frozenset({Audience.MANAGEMENT, Audience.BUILDING}),
    Role.COUNCIL: frozenset({Audience.MANAGEMENT, Audience.BUILDING}),
    Role.OWNER: frozenset({Audience.BUILDING}),
    Role.KIOSK: frozenset({Audience.BUILDING}),
}
"""Which audience keys a device of each role receives (ARCHITECTURE §4)."""

ADMIN_ROLES = frozenset({Role.SYNDIC})
"""Roles whose devices may sign members-log entries (enrol, revoke, epoch)."""


# doc kind -> (audience, roles that may write it)
_DOCUMENTS: dict[str, tuple[Audience, frozenset[Role]]] = {
    "registry": (Audience.MANAGEMENT, frozenset({Role.SYNDIC})),
    "ledger": (Audience.MANAGEMENT, frozenset({Role.SYNDIC})),
    "maintenance": (Audience.MANAGEMENT, frozenset({Role.SYNDIC, Role.COUNCIL})),
    "directory": (Audience.BUILDING, frozenset({Role.SYNDIC})),
    # the syndic's: agenda, attendance, votes in the room, minutes / the
    # campaign; what owners add themselves goes to per-person documents
    "assembly": (Audience.BUILDING, frozenset({Role.SYNDIC})),
    "community": (Audience.BUILDING, frozenset(Role)),
    "energy": (Audience.BUILDING, frozenset({Role.SYNDIC})),
    "inbox": (Audience.PERSONAL, frozenset({Role.SYNDIC})),
    # one person's own signed records (docs/decisions/0002): ballots of a
    # meeting, opt-ins of an energy campaign; written by that person's
    # devices, by a kiosk keeping their keys, and by the syndic
    "ballots": (Audience.BUILDING, frozenset(Role)),
    "optins": (Audience.BUILDING, frozenset(Role)),
}

PER_PERSON_KINDS = frozenset({"ballots", "optins"})
"""Kinds whose last path part names the one person whose records they hold."""

_DOC_ID = re.compile(
    r"^(registry|directory|maintenance|community|ledger/[0-9]{4}|"
    r"assembly/[0-9A-Z]{26}|energy/[0-9A-Z]{26}|inbox/[0-9A-Z]{26}|"
    r"ballots/[0-9A-Z]{26}/[0-9A-Z]{26}|optins/[0-9A-Z]{26}/[0-9A-Z]{26})$"
)

MAX_DOC_ID_BYTES = 64
MAX_ENVELOPE_BYTES = 16 << 20  # 16 MiB since 1.3 (1 MiB before): a big building's ledger year
SMALL_ENVELOPE_BYTES = 1 << 20  # a relay reads a larger body's header, and checks it, first
MAX_REQUEST_BYTES = 2 << 20  # any other body
PULL_PAGE_ENVELOPES = 500
PULL_PAGE_BYTES = 4 << 20


def doc_kind(doc_id: str) -> str:
    return doc_id.split("/", 1)[0]


def is_valid_doc_id(doc_id: str) -> bool:
    return bool(_DOC_ID.match(doc_id))


def audience_of(doc_id: str) -> Audience:
    """The audience whose key encrypts ``doc_id``."""
    return _DOCUMENTS[doc_kind(doc_id)][0]


def doc_person(doc_id: str) -> str | None:
    """The person a per-person document belongs to, else ``None``."""
    if doc_kind(doc_id) in PER_PERSON_KINDS:
        return doc_id.rsplit("/", 1)[1]
    return None


def may_write(role: Role, doc_id: str, persons: frozenset[str] = frozenset()) -> bool:
    """Whether a device of ``role`` may append to ``doc_id`` (relay and node
    both refuse otherwise). ``persons`` are the persons the device writes
    for: its own person, and on a kiosk those whose keys it keeps
    (:meth:`shared.members.MembersState.persons_of`); they matter only for
    per-person documents, which other devices than the syndic's may not
    write."""
    entry = _DOCUMENTS.get(doc_kind(doc_id))
    if entry is None or role not in entry[1]:
        return False
    owner = doc_person(doc_id)
    return owner is None or role in ADMIN_ROLES or owner in persons


def may_read(role: Role, audience: Audience) -> bool:
    """Whether a device of ``role`` holds the key of ``audience``. Personal
    documents are readable by management and by their person's devices; the
    second is decided by the person key, not the role."""
    if audience is Audience.PERSONAL:
        return Audience.MANAGEMENT in ROLE_AUDIENCES[role]
    return audience in ROLE_AUDIENCES[role]
