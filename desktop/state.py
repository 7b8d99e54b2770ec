"""Plain values that cross from the node worker thread to the GUI.

The worker owns the :class:`~node.session.Session` and its pycrdt documents
(ARCHITECTURE §12). What it hands to the GUI is only frozen domain values and
small records like these, so no widget can touch a document by accident.
The ``read_*`` functions run on the worker.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from node.documents import directory_doc
from node.documents.directory_doc import DirectoryLot
from node.domain.registry import Registry
from node.domain.validation import Problem
from node.i18n import _
from node.keys import PASSPHRASE_ENV, KeyStorage, keyring_available
from node.profile import list_profiles, profile_facts
from node.services.registry import ALL, Change
from node.session import Session


@dataclass(frozen=True)
class RegistryState:
    """The registry as the screens show it, read at one moment."""

    registry: Registry
    problems: tuple[Problem, ...]
    can_undo: bool
    can_redo: bool
    read_only_reason: str | None
    readable: bool = True
    """False on an owner's or kiosk device: it holds no key to the registry
    (docs/sync-protocol.md §2), so the registry above is empty."""
    awaited: bool = False
    """True on a device that joined before the syndic's device ever synced:
    nothing of the building has arrived yet (not an empty building)."""
    directory: tuple[DirectoryLot, ...] = ()
    """Where the registry is not readable: what every member sees of it."""
    building_name: str = ""
    building_address: str = ""
    directory_names: Mapping[str, str] = field(default_factory=dict)
    """Where the registry is not readable: person id -> name of the holders
    the directory lists (found by hand: an owner's own device showed its
    person as a 26-character id)."""


@dataclass(frozen=True)
class Update:
    """What one operation changed, and the state right after it."""

    change: Change
    state: RegistryState
    remote: bool = False  # True when a sync brought it, not an edit made here


@dataclass(frozen=True)
class SessionInfo:
    """Which profile is open and where its key is kept (shown to the user)."""

    path: Path
    key_storage: KeyStorage
    building_id: str | None


@dataclass(frozen=True)
class Opened:
    info: SessionInfo
    update: Update


@dataclass(frozen=True)
class ProfileEntry:
    """One profile folder as listed before unlocking: nothing personal."""

    path: Path
    key_storage: KeyStorage | None
    last_used: datetime
    role: str | None = None  # this device's role in the building
    connected: bool = False  # syncs through a relay: kept on other devices too
    removed: bool = False  # this device was removed from the building


@dataclass(frozen=True)
class StartupFacts:
    keyring: bool
    profiles: tuple[ProfileEntry, ...]


def registry_readable(session: Session) -> bool:
    """Owner and kiosk devices cannot read the registry (ARCHITECTURE §4)."""
    return session.can_read("registry")


def read_directory(session: Session) -> tuple[tuple[DirectoryLot, ...], str, str]:
    """The directory's lots, the building's name and address; empty until
    the syndic's device published them."""
    store, building = session.profile.store, session.profile.building_id
    if building is None or store.document(building, "directory", create=False) is None:
        return (), "", ""
    doc = session.document("directory").doc
    return tuple(directory_doc.read(doc)), *directory_doc.building(doc)


def person_names(session: Session) -> dict[str, str]:
    """Person id -> name, from the building's directory (holders of a lot);
    empty until the syndic's device published it (no empty copy is made)."""
    store, building = session.profile.store, session.profile.building_id
    if not session.can_read("directory") or building is None:
        return {}
    if store.document(building, "directory", create=False) is None:
        return {}
    names = directory_doc.person_names(session.document("directory").doc)
    return {pid: name for pid, name in names.items() if name}


def read_state(session: Session) -> RegistryState:
    if not registry_readable(session):
        lots, name, address = read_directory(session)
        return RegistryState(
            registry=Registry(),
            problems=(),
            can_undo=False,
            can_redo=False,
            read_only_reason=_(
                "The building's registry is visible to the syndic and the council only."
            ),
            readable=False,
            directory=lots,
            building_name=name,
            building_address=address,
            directory_names=person_names(session),
        )
    registry = session.registry
    value = registry.read()
    # Every building made here has its association from the start; without
    # one, a device that syncs is waiting for the syndic's first sync.
    awaited = value.association is None and bool(session.profile.store.get_meta("relay_url"))
    return RegistryState(
        registry=value,
        problems=() if awaited else tuple(registry.problems()),
        can_undo=registry.can_undo(),
        can_redo=registry.can_redo(),
        read_only_reason=registry.read_only_reason,
        awaited=awaited,
    )


def read_opened(session: Session) -> Opened:
    profile = session.profile
    info = SessionInfo(profile.path, profile.key_storage, profile.building_id)
    return Opened(info, Update(Change.of(*ALL), read_state(session)))


def read_profiles(root: Path) -> tuple[ProfileEntry, ...]:
    """The profiles under ``root``, newest first, without unlocking any."""
    entries = []
    for path in list_profiles(root):
        mtime = datetime.fromtimestamp(
            max(f.stat().st_mtime for f in path.iterdir() if f.is_file())
        )
        try:
            facts = profile_facts(path)
        except Exception:  # a damaged profile is still listed; opening it explains
            entries.append(ProfileEntry(path, None, mtime))
            continue
        entries.append(
            ProfileEntry(path, facts.key_storage, mtime, facts.role, facts.connected, facts.removed)
        )
    return tuple(entries)


def read_startup(root: Path) -> StartupFacts:
    return StartupFacts(keyring_available(), read_profiles(root))


def passphrase_from_environment() -> bool:
    """True when ``KOPROGO_PASSPHRASE`` is set. Node then uses it for a new
    building and tries it first when opening one, so the app does not ask
    up front; if it turns out wrong (a stale variable), node raises
    :class:`~node.errors.WrongPassphrase` and the app asks as usual."""
    return os.environ.get(PASSPHRASE_ENV) is not None
