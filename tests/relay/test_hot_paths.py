"""The relay's faster hot paths decide exactly what the plain code did:
signature checks without key objects, the cached month, the nonce check,
the kept ULID texts of envelope headers (docs/performance.md, Relay)."""

from __future__ import annotations

import calendar
import random
import time

import nacl.exceptions
import nacl.signing
import pytest

from shared import auth, envelope
from sync_server import limits
from sync_server.core import signatures_valid
from sync_server.limits import ReplayCache, month_of
from tests.relay.helpers import Kit


def _verify_key_says(key: bytes, message: bytes, signature: bytes) -> bool:
    """What the relay did before: a key object per check."""
    try:
        nacl.signing.VerifyKey(key).verify(message, signature)
    except (nacl.exceptions.BadSignatureError, ValueError):
        return False
    return True


def test_signatures_valid_decides_what_a_verify_key_decides():
    signing = nacl.signing.SigningKey.generate()
    key = bytes(signing.verify_key)
    message = b"koprogo-request-v1\x00POST\n/v1/x"
    signature = signing.sign(message).signature
    checks = (
        (key, message, signature),
        (key, message + b"!", signature),  # altered message
        (key, message, bytes(64)),
        (key[:31], message, signature),  # keys are 32 bytes
        (key + b"\x00", message, signature),
        (key, message, signature[:63]),  # signatures are 64 bytes
        (key, message, signature + b"\x00"),
        (key, message, b""),
        (bytes(nacl.signing.SigningKey.generate().verify_key), message, signature),
    )
    assert signatures_valid(checks) == [_verify_key_says(*check) for check in checks]
    assert signatures_valid(checks)[0] is True


def test_month_of_agrees_with_the_calendar_in_any_order(monkeypatch):
    monkeypatch.setattr(limits, "_month", (0.0, 0.0, ""))
    moments = []
    for year in (1999, 2024, 2026, 2027):
        for month in range(1, 13):
            start = calendar.timegm((year, month, 1, 0, 0, 0))
            moments += [start - 0.001, start - 1, start, start + 0.5, start + 86400 * 15]
    rng = random.Random(7)
    moments += [rng.uniform(0, 4e9) for _ in range(2000)]
    for order in (sorted(moments), rng.sample(moments, len(moments))):
        for now in order:
            assert month_of(now) == time.strftime("%Y-%m", time.gmtime(now)), now


@pytest.mark.parametrize(
    ("nonce", "well_formed"),
    [
        ("0123456789abcdef" * 2, True),
        ("0" * 32, True),
        ("0123456789ABCDEF" * 2, False),  # lowercase only
        ("g" + "0" * 31, False),
        ("0" * 31 + " ", False),
        ("0" * 15 + "-" + "0" * 16, False),
        ("0" * 31, False),
        ("0" * 33, False),
    ],
)
def test_nonces_are_32_lowercase_hex_digits(nonce, well_formed):
    headers = {
        auth.DEVICE_HEADER: "01JD0000000000000000000000",
        auth.TIMESTAMP_HEADER: "1000",
        auth.NONCE_HEADER: nonce,
        auth.SIGNATURE_HEADER: "AAAA",
    }
    if well_formed:
        assert auth.parse_headers(headers).nonce == nonce
    else:
        with pytest.raises(auth.AuthError, match="malformed"):
            auth.parse_headers(headers)


def test_envelope_ids_read_the_same_once_the_kept_texts_are_full(monkeypatch):
    monkeypatch.setattr(envelope, "_KNOWN_IDS_MAX", 3)
    envelope._KNOWN_IDS.clear()
    kits = [Kit() for _ in range(5)]
    for kit in kits:
        kit.genesis()
    for _round in range(2):
        for kit in kits:
            header = envelope.decode(kit.envelope(kit.syndic)).header
            assert (header.building_id, header.device_id) == (kit.building_id, kit.syndic.id)
            assert len(envelope._KNOWN_IDS) <= 3
    envelope._KNOWN_IDS.clear()


def test_the_replay_cache_decides_what_a_plain_dict_of_expiry_times_decides():
    """Expiring signatures a few at a time, in the order recorded, refuses
    exactly the replays a plain dict of expiry times (the request's
    timestamp + window + 1 s) refuses, and forgets what it no longer needs."""
    rng = random.Random(11)
    cache, plain = ReplayCache(window=10), {}
    now = 1000.0
    for _ in range(20_000):
        now += rng.choice((0.0, 0.01, 0.5, 3.0))
        signature = bytes([rng.randrange(60)]) * 64
        timestamp = now + rng.uniform(-10, 10)  # the clock skew the relay accepts
        fresh = plain.get(signature, 0.0) > now
        if not fresh:
            plain[signature] = timestamp + 11
        assert cache.seen(signature, now, timestamp) is fresh
    cache.seen(b"late", now + 1000)  # everything else has expired by then
    assert len(cache) == 1


def test_the_replay_cache_keeps_a_signature_as_long_as_a_replay_could_pass():
    cache = ReplayCache(window=300)
    assert not cache.seen(b"a" * 64, now=1000, timestamp=1000)
    assert cache.seen(b"a" * 64, now=1300, timestamp=1000)  # still within the window
    assert not cache.seen(b"b" * 64, now=1302, timestamp=1302)  # forgets a, which
    assert len(cache) == 1  # a replay could no longer pass: stale past 1300
    # a device whose clock is 5 minutes ahead: kept until its timestamp leaves
    assert not cache.seen(b"c" * 64, now=2000, timestamp=2300)
    assert cache.seen(b"c" * 64, now=2600, timestamp=2300)
    # two signatures differing only past their 16th byte count as one (2^-128 odds)
    assert cache.seen(b"c" * 16 + b"d" * 48, now=2600, timestamp=2300)


def test_the_replay_cache_with_a_clock_set_back():
    cache = ReplayCache(window=10)
    assert not cache.seen(b"a", 1000)  # no timestamp: kept for two windows, until 1021
    assert not cache.seen(b"b", 990)  # the clock went back: kept until 1011
    assert cache.seen(b"a", 1015) and not cache.seen(b"b", 1015)
    assert cache.seen(b"b", 1016)  # recorded again at 1015
    assert not cache.seen(b"a", 1021)
