"""Errors a person can act on.

Every exception raised for an ordinary mistake (bad input, wrong passphrase,
missing profile) is a :class:`KoprogoError` whose message is already
translated and written for a syndic, not a developer. The CLI prints it
without a traceback; the desktop shows it in a dialog.
"""

from __future__ import annotations


class KoprogoError(Exception):
    """A failure explained in words a user understands."""

    exit_code = 1


class InputError(KoprogoError):
    """The request itself is wrong (unknown lot, negative quota, bad number...)."""


class NotFoundError(InputError):
    """The record named in the request does not exist."""


class ProfileError(KoprogoError):
    """The profile folder is missing, unreadable, or from a newer version."""


class KeyAccessError(KoprogoError):
    """The storage key cannot be obtained (keyring empty, no passphrase)."""


class WrongPassphrase(KeyAccessError):
    """The passphrase does not open the key file."""


class StorageError(KoprogoError):
    """The local database could not be read or written; nothing was changed."""


class ReadOnlyError(KoprogoError):
    """The document was written by a newer KoproGo; it is shown but not edited."""
