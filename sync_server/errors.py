"""Refusals the relay answers with: ``{"error": code, "message": text}``.

docs/sync-protocol.md §7 lists the codes and their statuses. The relay core
raises :class:`RelayError`; the transport turns it into a JSON answer.
"""

from __future__ import annotations

import errno
import sqlite3


class RelayError(Exception):
    """A refusal with an HTTP status, a stable code and an English message."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        headers: dict[str, str] | None = None,
        extra: dict[str, object] | None = None,
        close: bool = False,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers or {}
        self.extra = extra or {}
        # answer, then close the connection: the rest of the body is not read
        self.close = close
        # the building a refusal is about when the path does not name it (an
        # invite's): the access log names it, so an operator sees which hit a quota
        self.building: str | None = None

    def body(self) -> dict[str, object]:
        return {"error": self.code, "message": self.message, **self.extra}

    def __repr__(self) -> str:
        return f"RelayError({self.status}, {self.code!r}, {self.message!r})"


def bad_request(code: str, message: str) -> RelayError:
    return RelayError(400, code, message)


def unauthorized(code: str, message: str) -> RelayError:
    return RelayError(401, code, message)


def conflict(code: str, message: str, **extra: object) -> RelayError:
    return RelayError(409, code, message, extra=extra)


def not_found(code: str, message: str) -> RelayError:
    return RelayError(404, code, message)


def too_many(code: str, message: str, retry_after: int) -> RelayError:
    retry = max(1, int(retry_after))
    return RelayError(429, code, message, {"Retry-After": str(retry)}, {"retry_after": retry})


def disk_full(exc: BaseException | None) -> bool:
    """Whether ``exc`` (or what caused it) is the database's disk being
    full: SQLite's SQLITE_FULL, PostgreSQL's 53100, or ENOSPC."""
    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        if isinstance(exc, OSError) and exc.errno == errno.ENOSPC:
            return True
        if isinstance(exc, sqlite3.OperationalError) and "disk is full" in str(exc):
            return True
        if getattr(exc, "sqlstate", None) == "53100":  # PostgreSQL disk_full
            return True
        exc = getattr(exc, "orig", None) or exc.__cause__ or exc.__context__
    return False
