"""Clock-free limits: replay cache, token buckets, monthly request counts.

Every method takes ``now`` (unix seconds, a float or int read once by the
transport), so tests drive time by hand (STYLE §8). docs/sync-protocol.md §4
(replay window) and §7.4 (quotas and rates).

These live in one process's memory. With several relay processes on one
PostgreSQL database each process keeps its own: a replayed request that
reaches another process within the window is still harmless, because
every state-changing request is idempotent (envelope ids, members-log
sequence numbers, snapshot compare-and-swap). Monthly request counts are
shared through the database (see :meth:`RequestCounter.drain`).
"""

from __future__ import annotations

import calendar
import threading
import time
from collections import deque
from dataclasses import dataclass


class ReplayCache:
    """Signatures seen within the window; a second sighting is a replay.

    Signatures expire in the order they were recorded, a few at each call,
    instead of in a sweep of the whole cache: at a thousand requests a
    second the cache holds several hundred thousand of them, and a sweep
    stopped the event loop for a quarter of a second every 30 s.

    Memory is what this cache costs a busy relay, so an entry is small: a
    signature is kept as the integer of its first 16 bytes (two different
    signatures of the same key agree there with probability 2⁻¹²⁸, and the
    only effect would be refusing one as a replay), and for no longer than
    a replay of it could pass the timestamp check (§4: ``timestamp +
    window``), about one window for a device whose clock is right."""

    def __init__(self, window: int) -> None:
        self.window = window
        self._seen: dict[int, float] = {}
        self._order: deque[int] = deque()  # the keys of _seen, in the order recorded
        self._lock = threading.Lock()

    def seen(self, signature: bytes, now: float, timestamp: float | None = None) -> bool:
        """Record ``signature`` of a request signed at ``timestamp`` (now if
        not given); True when it was already recorded (a replay)."""
        key = int.from_bytes(signature[:16], "big") << 8 | min(len(signature), 255)
        with self._lock:
            seen, order = self._seen, self._order
            while order:
                oldest = order[0]
                until = seen.get(oldest)
                if until is not None and until > now:
                    break  # (one kept longer keeps those behind it a while: harmless)
                order.popleft()
                if until is not None:
                    del seen[oldest]
            until = seen.get(key)
            if until is not None and until > now:
                return True
            # a replay is refused as stale once now > timestamp + window (the
            # second more covers rounding); without the timestamp, it may be
            # up to a window old already
            if until is None:
                order.append(key)
            if timestamp is None:
                seen[key] = now + 2 * self.window + 1
            else:
                seen[key] = timestamp + self.window + 1
            return False

    def __len__(self) -> int:
        return len(self._seen)


@dataclass
class _Bucket:
    tokens: float
    updated: float


class TokenBuckets:
    """One token bucket per key (a device id or an address)."""

    def __init__(self, rate: float, burst: int, max_keys: int = 100_000) -> None:
        self.rate = rate
        self.burst = burst
        self.max_keys = max_keys
        self._buckets: dict[str, _Bucket] = {}
        self._lock = threading.Lock()

    def take(self, key: str, now: float) -> float:
        """Take one token: 0 when allowed, else the seconds until one is free."""
        with self._lock:
            bucket = self._buckets.get(key)
            if bucket is None:
                if len(self._buckets) >= self.max_keys:
                    self._forget_full(now)
                bucket = self._buckets[key] = _Bucket(float(self.burst), now)
            elapsed = max(0.0, now - bucket.updated)
            bucket.tokens = min(float(self.burst), bucket.tokens + elapsed * self.rate)
            bucket.updated = now
            if bucket.tokens >= 1.0:
                bucket.tokens -= 1.0
                return 0.0
            return (1.0 - bucket.tokens) / self.rate if self.rate > 0 else 3600.0

    def _forget_full(self, now: float) -> None:
        """Drop buckets that have refilled: they hold nothing worth keeping."""
        self._buckets = {
            key: b
            for key, b in self._buckets.items()
            if b.tokens + (now - b.updated) * self.rate < self.burst
        }


def month_of(now: float) -> str:
    """``YYYY-MM`` of ``now`` in UTC: the period of the monthly request quota."""
    global _month
    start, end, text = _month
    if start <= now < end:  # every request asks; the month rarely changes
        return text
    tm = time.gmtime(now)
    text = f"{tm.tm_year:04d}-{tm.tm_mon:02d}"
    start = calendar.timegm((tm.tm_year, tm.tm_mon, 1, 0, 0, 0))
    _month = (start, start + seconds_to_next_month(start), text)
    return text


_month: tuple[float, float, str] = (0.0, 0.0, "")  # the last month asked: [start, end), text


def seconds_to_next_month(now: float) -> int:
    tm = time.gmtime(now)
    year, month = (tm.tm_year + 1, 1) if tm.tm_mon == 12 else (tm.tm_year, tm.tm_mon + 1)
    start = calendar.timegm((year, month, 1, 0, 0, 0))
    return max(1, int(start - now))


class RequestCounter:
    """Requests per building and month: the stored count (as last read from
    the database) plus what this process counted since its last flush."""

    def __init__(self) -> None:
        self._stored: dict[tuple[str, str], int] = {}
        self._pending: dict[tuple[str, str], int] = {}
        self._lock = threading.Lock()

    def count(self, building_id: str, now: float) -> int:
        """Count one request; return the building's total this month, this one included."""
        key = (building_id, month_of(now))
        with self._lock:
            pending = self._pending[key] = self._pending.get(key, 0) + 1
            return self._stored.get(key, 0) + pending

    def drain(self) -> dict[tuple[str, str], int]:
        """Take the counts not yet written to the database."""
        with self._lock:
            pending, self._pending = self._pending, {}
            return pending

    def restore(self, pending: dict[tuple[str, str], int]) -> None:
        """Put back counts whose write failed."""
        with self._lock:
            for key, n in pending.items():
                self._pending[key] = self._pending.get(key, 0) + n

    def stored(self, totals: dict[tuple[str, str], int]) -> None:
        """The database's totals after a flush (all processes added up)."""
        with self._lock:
            self._stored.update(totals)
