"""Signed requests between a device and the relay (docs/sync-protocol.md §4).

Every request to a building's endpoints carries three headers::

    KoproGo-Device:     the device id (ULID)
    KoproGo-Timestamp:  seconds since the epoch, by the device's clock + offset
    KoproGo-Nonce:      32 random hex digits, new for every request
    KoproGo-Signature:  base64 Ed25519 over
                        b"koprogo-request-v1\\0" METHOD \\n PATH \\n SHA-256(body) hex
                        \\n TIMESTAMP \\n NONCE

The nonce makes two identical requests in the same second (a legitimate
retry, or polling) two different signatures, so the replay cache refuses
only a true replay.

Brokers (docs/sync-protocol.md §9) sign their requests the same way with
their broker key, under another context (:data:`BROKER_CONTEXT`) and with
``KoproGo-Broker: <base64 public key>`` in place of ``KoproGo-Device``: a
device's signature never passes as a broker's, nor a broker's as a device's.

The relay refuses a timestamp more than :data:`WINDOW` seconds from its own
clock, and a signature it has already seen within the window (replay). A
device whose clock is off learns the relay's time from the ``KoproGo-Time``
header of every answer (including the refusal) and signs with that offset,
so a wrong client clock costs one retry and orders nothing.
"""

from __future__ import annotations

import base64
import hashlib
import os
from typing import NamedTuple

import nacl.exceptions
import nacl.signing

CONTEXT = b"koprogo-request-v1\x00"
BROKER_CONTEXT = b"koprogo-broker-request-v1\x00"
WINDOW = 300  # seconds either side of the relay's clock

DEVICE_HEADER = "KoproGo-Device"
BROKER_HEADER = "KoproGo-Broker"  # a broker's base64 public key, instead of the device id
TIMESTAMP_HEADER = "KoproGo-Timestamp"
SIGNATURE_HEADER = "KoproGo-Signature"
NONCE_HEADER = "KoproGo-Nonce"
TIME_HEADER = "KoproGo-Time"  # the relay's clock, on every answer
PROTOCOL_HEADER = "KoproGo-Protocol"  # "major.minor", both ways


MAX_TIMESTAMP_DIGITS = 19  # any clock this side of the year 300 billion


class AuthError(ValueError):
    """A request whose signature headers are missing, stale, replayed or wrong."""


class StaleTimestamp(AuthError):
    """A timestamp more than :data:`WINDOW` seconds from the relay's clock."""


def message(
    method: str, path: str, body: bytes, timestamp: int, nonce: str, context: bytes = CONTEXT
) -> bytes:
    digest = hashlib.sha256(body).hexdigest()
    return context + f"{method.upper()}\n{path}\n{digest}\n{timestamp}\n{nonce}".encode()


def sign_request(
    signing_seed: bytes,
    device_id: str,
    method: str,
    path: str,
    body: bytes,
    timestamp: int,
    nonce: str | None = None,
) -> dict[str, str]:
    """The signature headers; the nonce is random unless given (vectors)."""
    nonce = os.urandom(16).hex() if nonce is None else nonce
    signing_key = nacl.signing.SigningKey(signing_seed)
    signature = signing_key.sign(message(method, path, body, timestamp, nonce)).signature
    return {
        DEVICE_HEADER: device_id,
        TIMESTAMP_HEADER: str(timestamp),
        NONCE_HEADER: nonce,
        SIGNATURE_HEADER: base64.b64encode(signature).decode(),
    }


def sign_broker_request(
    signing_seed: bytes,
    method: str,
    path: str,
    body: bytes,
    timestamp: int,
    nonce: str | None = None,
) -> dict[str, str]:
    """A broker's signature headers: :data:`BROKER_HEADER` names its public
    key, and the signature is made under :data:`BROKER_CONTEXT`."""
    nonce = os.urandom(16).hex() if nonce is None else nonce
    signing_key = nacl.signing.SigningKey(signing_seed)
    signed = signing_key.sign(message(method, path, body, timestamp, nonce, BROKER_CONTEXT))
    return {
        BROKER_HEADER: base64.b64encode(bytes(signing_key.verify_key)).decode(),
        TIMESTAMP_HEADER: str(timestamp),
        NONCE_HEADER: nonce,
        SIGNATURE_HEADER: base64.b64encode(signed.signature).decode(),
    }


class SignedRequest(NamedTuple):
    """The signature headers of one request, parsed. A named tuple rather
    than a frozen dataclass: the relay makes one per request, and a tuple is
    built several times faster (docs/performance.md, Relay)."""

    device_id: str
    timestamp: int
    nonce: str
    signature: bytes


_HEX = "0123456789abcdef"


def parse_headers(
    headers: dict[str, str] | object, signer_header: str = DEVICE_HEADER
) -> SignedRequest:
    """The signature headers; ``signer_header`` is :data:`DEVICE_HEADER`, or
    :data:`BROKER_HEADER` for a broker (``device_id`` then holds its key)."""
    get = headers.get  # type: ignore[attr-defined]
    device, stamp, signature = get(signer_header), get(TIMESTAMP_HEADER), get(SIGNATURE_HEADER)
    nonce = get(NONCE_HEADER)
    if not device or not stamp or not signature or not nonce:
        raise AuthError("missing signature headers")
    if len(nonce) != 32 or nonce.strip(_HEX):  # nothing left: only lowercase hex digits
        raise AuthError("malformed signature headers")
    timestamp = parse_timestamp(stamp)
    try:
        return SignedRequest(device, timestamp, nonce, base64.b64decode(signature, validate=True))
    except ValueError as exc:
        raise AuthError("malformed signature headers") from exc


def parse_timestamp(text: str) -> int:
    """``KoproGo-Timestamp`` as :func:`sign_request` writes it: the decimal
    digits of a non-negative integer, without sign, spaces, underscores or
    leading zeros, so the header is exactly the text the signature covers.
    More than :data:`MAX_TIMESTAMP_DIGITS` digits is no clock's time:
    :class:`StaleTimestamp`, without converting them (a number of thousands
    of digits costs time, and more than a float holds cannot be compared
    with one)."""
    if not (text.isascii() and text.isdigit()) or (text[0] == "0" and text != "0"):
        raise AuthError("malformed signature headers")
    if len(text) > MAX_TIMESTAMP_DIGITS:
        raise StaleTimestamp("stale timestamp")
    return int(text)


def check_fresh(timestamp: int, now: float) -> None:
    """:class:`StaleTimestamp` when ``timestamp`` is more than :data:`WINDOW`
    seconds from ``now`` (§4)."""
    if abs(timestamp - now) > WINDOW:
        raise StaleTimestamp("stale timestamp")


def verify_request(
    signed: SignedRequest,
    verify_key: bytes,
    method: str,
    path: str,
    body: bytes,
    now: int,
    context: bytes = CONTEXT,
) -> None:
    """Check freshness and signature; replay is checked by the caller, which
    keeps the signatures seen within the window."""
    check_fresh(signed.timestamp, now)
    try:
        nacl.signing.VerifyKey(verify_key).verify(
            message(method, path, body, signed.timestamp, signed.nonce, context), signed.signature
        )
    except (nacl.exceptions.BadSignatureError, ValueError) as exc:
        raise AuthError("bad signature") from exc
