"""The relay's settings: where it listens, where it stores, and its limits.

Defaults follow docs/sync-protocol.md §7.4 (the cloud tier): 500 MB stored,
50 devices and 100,000 requests a month per building; a token bucket of
20 requests/s with a burst of 100 per device. Every figure can be changed
from the command line (``koprogo-relay serve --help``).
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field
from pathlib import Path

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8765


@dataclass(frozen=True)
class Limits:
    """Quotas per building and rates per device or address (§7.4)."""

    max_bytes_per_building: int = 500 * 1000 * 1000
    max_devices_per_building: int = 50
    max_requests_per_month: int = 100_000
    device_rate: float = 20.0  # tokens per second
    device_burst: int = 100
    address_rate: float = 2.0  # unsigned endpoints (invites, registration)
    address_burst: int = 20


@dataclass(frozen=True)
class RelayConfig:
    database_url: str
    host: str = DEFAULT_HOST
    port: int = DEFAULT_PORT
    limits: Limits = field(default_factory=Limits)
    auto_migrate: bool = True  # SQLite only: migrate on start (PostgreSQL never)
    trust_forwarded_for: bool = False  # behind a reverse proxy: key addresses on X-Forwarded-For
    db_threads: int = 4  # reader threads; writes go through one writer
    verify_threads: int = 1  # threads verifying signatures beside the event loop
    usage_flush_seconds: float = 10.0
    # a request body must all arrive within this time (408 `slow-body`)
    body_seconds: float = 30.0
    worker: int = 0  # this process's number under `serve --workers N` (1..N), 0 alone
    # sharing the database (PostgreSQL, workers): how often the stored members
    # logs are compared with this process's, for an announcement it missed
    members_check_seconds: float = 5.0

    @property
    def is_postgresql(self) -> bool:
        return is_postgresql(self.database_url)


def is_postgresql(url: str) -> bool:
    return url.startswith(("postgresql:", "postgresql+", "postgres:"))


def default_data_dir() -> Path:
    """A per-user data folder: ``$KOPROGO_RELAY_HOME``, else the platform's
    usual place (XDG data home on Linux)."""
    override = os.environ.get("KOPROGO_RELAY_HOME")
    if override:
        return Path(override)
    if sys.platform == "win32":
        base = Path(os.environ.get("LOCALAPPDATA", Path.home() / "AppData" / "Local"))
    elif sys.platform == "darwin":
        base = Path.home() / "Library" / "Application Support"
    else:
        # empty means unset (the XDG specification; found by hand: it meant ./)
        base = Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share")
    return base / "koprogo-relay"


def resolve_database_url(
    database_url: str | None, data_dir: str | os.PathLike[str] | None, create: bool = True
) -> str:
    """``--database-url`` if given, else ``sqlite:///<data dir>/relay.sqlite3``,
    the folder made unless ``create`` is false (a read-only command).

    ``postgresql://`` URLs are given the psycopg 3 driver.
    """
    if database_url:
        if database_url.startswith("postgres://"):
            database_url = "postgresql://" + database_url[len("postgres://") :]
        if database_url.startswith("postgresql://"):
            database_url = "postgresql+psycopg://" + database_url[len("postgresql://") :]
        return database_url
    folder = Path(data_dir) if data_dir else default_data_dir()
    if create:
        folder.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{folder.resolve() / 'relay.sqlite3'}"
