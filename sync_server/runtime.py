"""What a running relay holds, under typed ``web.AppKey``s (STYLE §8).

``create_app`` puts the config, the metrics and an empty :class:`Runtime`
under their keys; the ``cleanup_ctx`` fills the runtime when the app starts
(database engine, executors, core, hub, writer) and empties it on shutdown.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, TypeVar

from aiohttp import web
from sqlalchemy import Engine

from .config import RelayConfig
from .core import RelayCore
from .metrics import Metrics
from .notify import Hub
from .storage import Storage
from .writer import BatchWriter

T = TypeVar("T")


@dataclass
class Runtime:
    engine: Engine | None = None
    storage: Storage | None = None
    core: RelayCore | None = None
    hub: Hub = field(default_factory=Hub)
    writer: BatchWriter | None = None
    write_executor: ThreadPoolExecutor | None = None
    read_executor: ThreadPoolExecutor | None = None
    origin: str = ""
    tasks: list[asyncio.Task[None]] = field(default_factory=list)

    @property
    def relay(self) -> RelayCore:
        assert self.core is not None, "the relay is not started"
        return self.core

    async def write(self, fn: Callable[..., T], *args: Any) -> T:
        """Run ``fn`` on the writer thread (members log, registrations)."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self.write_executor, lambda: fn(*args))

    async def read(self, fn: Callable[..., T], *args: Any) -> T:
        """Run ``fn`` on a reader thread (pulls, heads, invites)."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self.read_executor, lambda: fn(*args))


CONFIG = web.AppKey("config", RelayConfig)
METRICS = web.AppKey("metrics", Metrics)
RUNTIME = web.AppKey("runtime", Runtime)
NOW = web.RequestKey("now", float)  # read once per request by the middleware
