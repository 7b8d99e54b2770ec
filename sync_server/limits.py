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
    stopped the event loop for a quarter of a second every 30 s."""

    def __init__(self, window: int) -> None:
        self.window = window
        self._seen: dict[bytes, float] = {}
        self._order: deque[bytes] = deque()  # the keys of _seen, oldest first
        self._lock = threading.Lock()

    def seen(self, signature: bytes, now: float) -> bool:
        """Record ``signature``; True when it was already recorded (a replay)."""
        with self._lock:
            seen, order = self._seen, self._order
            while order:
                oldest = order[0]
                until = seen.get(oldest)
                if until is not None and until > now:
                    break  # (a clock set back keeps some longer: harmless)
                order.popleft()
                if until is not None:
                    del seen[oldest]
            until = seen.get(signature)
            if until is not None and until > now:
                return True
            # a signature stays fresh until its timestamp leaves the window;
            # keeping it for two windows after first sight covers both sides
            if until is None:
                order.append(signature)
            seen[signature] = now + 2 * self.window
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
