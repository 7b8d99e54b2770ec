"""Sealing one unit's consumption (DOMAIN §11, issue 6).

The consumption is encrypted with AES-256-GCM under a key derived by
HKDF-SHA256 (info ``koprogo-energy-v1``) from an X25519 agreement between a
fresh ephemeral key and each recipient's public key — the owner's devices
(or their key kept on the building's PC) and the campaign's aggregating
key — and stored per recipient as ``nonce(12) || ciphertext``. The opt-in's
place (campaign, person, opt-in id) is the associated data, so a sealed
figure cannot be moved to another opt-in. Nobody else, the relay included,
can read it.
"""

from __future__ import annotations

import base64
import os
from collections.abc import Mapping

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

INFO = b"koprogo-energy-v1"
NONCE_BYTES = 12


class SealError(ValueError):
    """The sealed data does not open with this key (wrong key or altered)."""


def _key(shared: bytes, ephemeral_public: bytes, recipient_public: bytes) -> bytes:
    return HKDF(
        algorithm=hashes.SHA256(),
        length=32,
        salt=ephemeral_public + recipient_public,
        info=INFO,
    ).derive(shared)


def public_of(private: bytes) -> bytes:
    return (
        X25519PrivateKey.from_private_bytes(private)
        .public_key()
        .public_bytes(Encoding.Raw, PublicFormat.Raw)
    )


def new_private_key() -> bytes:
    from cryptography.hazmat.primitives.serialization import NoEncryption, PrivateFormat

    return X25519PrivateKey.generate().private_bytes(
        Encoding.Raw, PrivateFormat.Raw, NoEncryption()
    )


def seal(
    plaintext: bytes, recipients: Mapping[str, bytes], associated: bytes
) -> tuple[str, dict[str, str]]:
    """(ephemeral public key, {recipient: nonce||ciphertext}), base64."""
    ephemeral = X25519PrivateKey.generate()
    ephemeral_public = ephemeral.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    sealed = {}
    for name, public in recipients.items():
        shared = ephemeral.exchange(X25519PublicKey.from_public_bytes(public))
        nonce = os.urandom(NONCE_BYTES)
        body = AESGCM(_key(shared, ephemeral_public, public)).encrypt(nonce, plaintext, associated)
        sealed[name] = base64.b64encode(nonce + body).decode()
    return base64.b64encode(ephemeral_public).decode(), sealed


def open_sealed(blob: str, ephemeral: str, private: bytes, associated: bytes) -> bytes:
    """The plaintext of one recipient's ``nonce||ciphertext``."""
    try:
        raw = base64.b64decode(blob, validate=True)
        ephemeral_public = base64.b64decode(ephemeral, validate=True)
        key = X25519PrivateKey.from_private_bytes(private)
        shared = key.exchange(X25519PublicKey.from_public_bytes(ephemeral_public))
        own_public = key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
        return AESGCM(_key(shared, ephemeral_public, own_public)).decrypt(
            raw[:NONCE_BYTES], raw[NONCE_BYTES:], associated
        )
    except (InvalidTag, ValueError, TypeError) as exc:
        raise SealError(str(exc) or "does not open") from None
