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
from dataclasses import dataclass

import nacl.exceptions
import nacl.signing

CONTEXT = b"koprogo-request-v1\x00"
WINDOW = 300  # seconds either side of the relay's clock

DEVICE_HEADER = "KoproGo-Device"
TIMESTAMP_HEADER = "KoproGo-Timestamp"
SIGNATURE_HEADER = "KoproGo-Signature"
NONCE_HEADER = "KoproGo-Nonce"
TIME_HEADER = "KoproGo-Time"  # the relay's clock, on every answer
PROTOCOL_HEADER = "KoproGo-Protocol"  # "major.minor", both ways


class AuthError(ValueError):
    """A request whose signature headers are missing, stale, replayed or wrong."""


def message(method: str, path: str, body: bytes, timestamp: int, nonce: str) -> bytes:
    digest = hashlib.sha256(body).hexdigest()
    return CONTEXT + f"{method.upper()}\n{path}\n{digest}\n{timestamp}\n{nonce}".encode()


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


@dataclass(frozen=True)
class SignedRequest:
    device_id: str
    timestamp: int
    nonce: str
    signature: bytes


_HEX = frozenset("0123456789abcdef")


def parse_headers(headers: dict[str, str] | object) -> SignedRequest:
    get = headers.get  # type: ignore[attr-defined]
    device, stamp, signature = get(DEVICE_HEADER), get(TIMESTAMP_HEADER), get(SIGNATURE_HEADER)
    nonce = get(NONCE_HEADER)
    if not device or not stamp or not signature or not nonce:
        raise AuthError("missing signature headers")
    if len(nonce) != 32 or not set(nonce) <= _HEX:
        raise AuthError("malformed signature headers")
    try:
        return SignedRequest(device, int(stamp), nonce, base64.b64decode(signature, validate=True))
    except ValueError as exc:
        raise AuthError("malformed signature headers") from exc


def verify_request(
    signed: SignedRequest, verify_key: bytes, method: str, path: str, body: bytes, now: int
) -> None:
    """Check freshness and signature; replay is checked by the caller, which
    keeps the signatures seen within the window."""
    if abs(signed.timestamp - now) > WINDOW:
        raise AuthError("stale timestamp")
    try:
        nacl.signing.VerifyKey(verify_key).verify(
            message(method, path, body, signed.timestamp, signed.nonce), signed.signature
        )
    except (nacl.exceptions.BadSignatureError, ValueError) as exc:
        raise AuthError("bad signature") from exc
