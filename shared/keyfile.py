"""A secret sealed under a passphrase (Argon2id, XChaCha20-Poly1305): the
profile's storage key where no keyring exists (ARCHITECTURE §4,
``node/keys.py``) and a broker's signing key (docs/sync-protocol.md §9,
``koprogo-relay broker keygen``).

The file is JSON::

    {"format": "koprogo-key-file", "version": 1, "kdf": "argon2id",
     "opslimit": ..., "memlimit": ..., "salt": base64,
     "sealed_key": base64(seal(Argon2id(passphrase, salt), secret, aad))}

The associated data says what the secret is for, so a broker's key file
never opens as a profile's, nor the reverse. The Argon2id cost is stored in
the file: a file opens whatever cost is the default today.
"""

from __future__ import annotations

import base64
import json
import os

import nacl.pwhash.argon2id as argon2id
import nacl.utils

from .crypto import DecryptionError, open_sealed, seal

FORMAT = "koprogo-key-file"
STORAGE_KEY_AAD = b"koprogo-keyfile-v1"
BROKER_KEY_AAD = b"koprogo-broker-key-v1"

# "moderate" is libsodium's recommendation for keys protecting data at rest
# (~256 MiB, under a second); tests lower it with KOPROGO_ARGON2=interactive.
COSTS = {
    "moderate": (argon2id.OPSLIMIT_MODERATE, argon2id.MEMLIMIT_MODERATE),
    "interactive": (argon2id.OPSLIMIT_INTERACTIVE, argon2id.MEMLIMIT_INTERACTIVE),
}


class KeyFileError(ValueError):
    """The file is damaged or is not a KoproGo key file."""


class WrongPassphrase(KeyFileError):
    """The passphrase does not open the key file (or it is for another use)."""


def seal_key_file(
    secret: bytes, passphrase: str, aad: bytes = STORAGE_KEY_AAD, cost: str | None = None
) -> bytes:
    """The bytes of a key file holding ``secret`` under ``passphrase``."""
    cost = cost or os.environ.get("KOPROGO_ARGON2", "moderate")
    opslimit, memlimit = COSTS[cost]
    salt = nacl.utils.random(argon2id.SALTBYTES)
    wrapping = argon2id.kdf(32, passphrase.encode(), salt, opslimit=opslimit, memlimit=memlimit)
    record = {
        "format": FORMAT,
        "version": 1,
        "kdf": "argon2id",
        "opslimit": opslimit,
        "memlimit": memlimit,
        "salt": base64.b64encode(salt).decode(),
        "sealed_key": base64.b64encode(seal(wrapping, secret, aad)).decode(),
    }
    return json.dumps(record, indent=2).encode()


def open_key_file(data: bytes, passphrase: str, aad: bytes = STORAGE_KEY_AAD) -> bytes:
    """The secret in a key file; :class:`KeyFileError` if the file is not
    one, :class:`WrongPassphrase` if the passphrase does not open it."""
    try:
        record = json.loads(data)
        if record.get("format") != FORMAT or record.get("kdf") != "argon2id":
            raise ValueError("not a KoproGo key file")
        salt = base64.b64decode(record["salt"])
        sealed = base64.b64decode(record["sealed_key"])
        opslimit, memlimit = int(record["opslimit"]), int(record["memlimit"])
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise KeyFileError("not a KoproGo key file, or damaged") from exc
    try:
        wrapping = argon2id.kdf(32, passphrase.encode(), salt, opslimit=opslimit, memlimit=memlimit)
    except Exception as exc:  # a salt or cost libsodium refuses: the file was altered
        raise KeyFileError("not a KoproGo key file, or damaged") from exc
    try:
        return open_sealed(wrapping, sealed, aad)
    except DecryptionError as exc:
        raise WrongPassphrase("the passphrase is not correct") from exc
