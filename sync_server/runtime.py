"""What a running relay holds, under typed ``web.AppKey``s (STYLE §8).

``create_app`` puts the config, the metrics and an empty :class:`Runtime`
under their keys; the ``cleanup_ctx`` fills the runtime when the app starts
(database engine, writer, reader and verifier threads, core, hub) and
empties it on shutdown.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from aiohttp import web
from sqlalchemy import Engine

from .config import RelayConfig
from .core import RelayCore, SignatureCheck, signatures_valid
from .energy import EnergyCore
from .lanes import Lane
from .metrics import Metrics
from .notify import Hub
from .storage import Storage
from .workers import Link
from .writer import Writer

T = TypeVar("T")

DISK_FULL_SECONDS = 60.0  # /healthz says "disk full" this long after the last such failure


@dataclass
class Runtime:
    engine: Engine | None = None
    storage: Storage | None = None
    core: RelayCore | None = None
    energy: EnergyCore | None = None  # energy pools (docs/sync-protocol.md §9)
    hub: Hub = field(default_factory=Hub)
    writer: Writer | None = None  # the writer thread: every change, appends in group commits
    reader: Lane | None = None  # reads (pulls, heads, invites, members refreshes)
    verifier: Lane | None = None  # Ed25519 verifications
    origin: str = ""
    link: Link | None = None  # to the parent process under `serve --workers N` (SQLite)
    loop: asyncio.AbstractEventLoop | None = None  # while the app runs
    tasks: list[asyncio.Task[None]] = field(default_factory=list)
    disk_full_at: float = 0.0  # when a write last failed for want of disk space

    @property
    def relay(self) -> RelayCore:
        assert self.core is not None, "the relay is not started"
        return self.core

    async def write(self, fn: Callable[..., T], *args: Any) -> T:
        """Run ``fn`` on the writer thread (members log, registrations)."""
        assert self.writer is not None, "the relay is not started"
        return await self.writer.call(fn, *args)

    async def read(self, fn: Callable[..., T], *args: Any) -> T:
        """Run ``fn`` on a reader thread (pulls, heads, invites)."""
        assert self.reader is not None, "the relay is not started"
        return await self.reader.call(fn, *args)

    async def verify(self, checks: tuple[SignatureCheck, ...]) -> list[bool]:
        """Verify signatures (see ``signatures_valid``) on the verifier
        threads, or here on the event loop when there are none."""
        if self.verifier is None:
            return signatures_valid(checks)
        return await self.verifier.call(signatures_valid, checks)


CONFIG = web.AppKey("config", RelayConfig)
METRICS = web.AppKey("metrics", Metrics)
RUNTIME = web.AppKey("runtime", Runtime)
NOW = web.RequestKey("now", float)  # read once per request by the middleware
# the building a request is about when its path does not name it (invites)
BUILDING = web.RequestKey("building", str)
