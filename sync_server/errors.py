"""Refusals the relay answers with: ``{"error": code, "message": text}``.

docs/sync-protocol.md §7 lists the codes and their statuses. The relay core
raises :class:`RelayError`; the transport turns it into a JSON answer.
"""

from __future__ import annotations


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
