"""Small file helpers: writes that are all-or-nothing."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from .errors import InputError
from .i18n import _


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` so that a crash leaves the old file or the new
    one, never a half-written one (temporary file, fsync, rename, fsync dir)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    if hasattr(os, "O_DIRECTORY"):
        dir_fd = os.open(path.parent, os.O_DIRECTORY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)


def write_document(path: Path, data: bytes) -> Path:
    """Write a document the user asked for (a PDF, an export) all or
    nothing: a file already at ``path`` stays as it was unless the new one
    is complete. A refusal by the system (no permission, disk full, a file
    where a folder should be) becomes a readable :class:`InputError`."""
    try:
        atomic_write_bytes(path, data)
    except OSError as exc:
        raise write_refused(path, exc) from None
    return path


def write_refused(path: Path | str, exc: Exception) -> InputError:
    """The readable refusal of a write the system would not do."""
    reason = getattr(exc, "strerror", None) or str(exc)
    return InputError(_("{path} could not be written: {reason}").format(path=path, reason=reason))
