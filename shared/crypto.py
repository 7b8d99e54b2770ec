"""Authenticated encryption used for data at rest and, later, for envelopes.

XChaCha20-Poly1305 (IETF construction, libsodium through PyNaCl) with a
random 24-byte nonce. A sealed blob is ``nonce (24) || ciphertext+tag``.
The associated data binds a blob to where it belongs (which document, which
row kind), so a blob moved to another place fails to open.
"""

from __future__ import annotations

import nacl.exceptions
import nacl.utils
from nacl.bindings import (
    crypto_aead_xchacha20poly1305_ietf_ABYTES,
    crypto_aead_xchacha20poly1305_ietf_decrypt,
    crypto_aead_xchacha20poly1305_ietf_encrypt,
    crypto_aead_xchacha20poly1305_ietf_KEYBYTES,
    crypto_aead_xchacha20poly1305_ietf_NPUBBYTES,
)

KEY_BYTES = crypto_aead_xchacha20poly1305_ietf_KEYBYTES
NONCE_BYTES = crypto_aead_xchacha20poly1305_ietf_NPUBBYTES
OVERHEAD = NONCE_BYTES + crypto_aead_xchacha20poly1305_ietf_ABYTES


class DecryptionError(Exception):
    """The blob was not sealed with this key and associated data, or was altered."""


def new_key() -> bytes:
    return nacl.utils.random(KEY_BYTES)


def seal(key: bytes, plaintext: bytes, aad: bytes, nonce: bytes | None = None) -> bytes:
    """``nonce`` is random unless given (only test vectors give one)."""
    if len(key) != KEY_BYTES:
        raise ValueError("a key is 32 bytes")
    nonce = nacl.utils.random(NONCE_BYTES) if nonce is None else nonce
    return nonce + crypto_aead_xchacha20poly1305_ietf_encrypt(plaintext, aad, nonce, key)


def open_sealed(key: bytes, blob: bytes, aad: bytes) -> bytes:
    if len(blob) < OVERHEAD:
        raise DecryptionError("blob too short")
    nonce, ciphertext = blob[:NONCE_BYTES], blob[NONCE_BYTES:]
    try:
        return crypto_aead_xchacha20poly1305_ietf_decrypt(ciphertext, aad, nonce, key)
    except nacl.exceptions.CryptoError as exc:
        raise DecryptionError("wrong key or altered data") from exc
