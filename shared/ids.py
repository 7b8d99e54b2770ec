"""Sortable unique identifiers (ULID, https://github.com/ulid/spec).

Records inside documents are keyed by ULIDs (ARCHITECTURE §2): 48 bits of
milliseconds then 80 random bits, written in Crockford base32, so ids sort by
creation time and two devices never pick the same one.
"""

from __future__ import annotations

import os
import re
import time

_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_ULID_RE = re.compile(r"^[0-7][0-9A-HJKMNP-TV-Z]{25}$")


def new_ulid(now_ms: int | None = None) -> str:
    """A new 26-character ULID; ``now_ms`` fixes the time part (tests)."""
    ms = int(time.time() * 1000) if now_ms is None else now_ms
    value = (ms << 80) | int.from_bytes(os.urandom(10), "big")
    chars = []
    for _ in range(26):
        chars.append(_CROCKFORD[value & 31])
        value >>= 5
    return "".join(reversed(chars))


def is_ulid(text: str) -> bool:
    return bool(_ULID_RE.match(text))


def ulid_time(text: str) -> float:
    """When a ULID was made: seconds since the epoch, to the millisecond."""
    return (int.from_bytes(ulid_to_bytes(text), "big") >> 80) / 1000


def ulid_to_bytes(text: str) -> bytes:
    """The 16 bytes of a ULID (for binary headers)."""
    if not is_ulid(text):
        raise ValueError(f"not a ULID: {text!r}")
    value = 0
    for char in text:
        value = (value << 5) | _CROCKFORD.index(char)
    return value.to_bytes(16, "big")


# every pair of base32 digits, indexed by the 10 bits they write
_PAIRS = tuple(high + low for high in _CROCKFORD for low in _CROCKFORD)


def ulid_from_bytes(raw: bytes) -> str:
    """The text of a 16-byte ULID: 130 bits (two leading zero bits, then
    the 128), two digits at a time. Every envelope decoded has three of
    these; unrolled, this takes a third of the time of a loop over 26
    digits (docs/performance.md, Relay)."""
    if len(raw) != 16:
        raise ValueError("a ULID is 16 bytes")
    v, p = int.from_bytes(raw, "big"), _PAIRS
    return "".join(
        (
            p[v >> 120],
            p[(v >> 110) & 1023],
            p[(v >> 100) & 1023],
            p[(v >> 90) & 1023],
            p[(v >> 80) & 1023],
            p[(v >> 70) & 1023],
            p[(v >> 60) & 1023],
            p[(v >> 50) & 1023],
            p[(v >> 40) & 1023],
            p[(v >> 30) & 1023],
            p[(v >> 20) & 1023],
            p[(v >> 10) & 1023],
            p[v & 1023],
        )
    )
