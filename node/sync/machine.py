"""The sync client's state machine (STYLE §9), pure and clock-free.

States, and what each means to the user:

``idle``         nothing to do; everything pushed and pulled at ``last_sync``.
``pushing``      sending local changes to the relay.
``pulling``      fetching and applying other devices' changes.
``backing_off``  the relay could not be reached (or asked us to slow down);
                 the next attempt is at ``retry_at``, doubling each time up to
                 five minutes. Local edits go on and wait in the outbox.
``rejected``     the relay refused something it will refuse again (this
                 device revoked, a write its role may not make, quota full);
                 a person must act. Nothing is retried until they do.
``read_only``    the relay or a document speaks a newer protocol major:
                 this device keeps reading what it can and writes nothing
                 until KoproGo is updated.

The machine takes events and the current time and returns the new status;
the engine (I/O) feeds it. Tests drive it with recorded events.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, replace
from enum import StrEnum

BACKOFF_FIRST = 1.0
BACKOFF_MAX = 300.0


class State(StrEnum):
    IDLE = "idle"
    PUSHING = "pushing"
    PULLING = "pulling"
    BACKING_OFF = "backing_off"
    REJECTED = "rejected"
    READ_ONLY = "read_only"


@dataclass(frozen=True)
class Status:
    state: State = State.IDLE
    last_sync: float | None = None  # when a full push + pull last succeeded
    failures: int = 0  # consecutive failures, drives the backoff
    retry_at: float | None = None
    error: str | None = None  # for people, already translated by the engine
    error_code: str | None = None  # stable, for scripts

    def to_json(self) -> dict[str, object]:
        return {
            "state": self.state.value,
            "last_sync": self.last_sync,
            "failures": self.failures,
            "retry_at": self.retry_at,
            "error": self.error,
            "error_code": self.error_code,
        }


def backoff_delay(failures: int, rng: random.Random | None = None) -> float:
    """1 s, 2 s, 4 s... up to 5 min, with ±20 % jitter so that many devices
    coming back at once do not hit the relay together."""
    base = min(BACKOFF_MAX, BACKOFF_FIRST * 2 ** max(0, failures - 1))
    jitter = (rng or random).uniform(0.8, 1.2)
    return min(BACKOFF_MAX, base * jitter)


def can_start(status: Status, now: float) -> bool:
    """Whether a sync round may start now."""
    if status.state in (State.REJECTED, State.READ_ONLY):
        return False
    if status.state is State.BACKING_OFF:
        return status.retry_at is None or now >= status.retry_at
    return True


def pushing(status: Status) -> Status:
    return replace(status, state=State.PUSHING)


def pulling(status: Status) -> Status:
    return replace(status, state=State.PULLING)


def succeeded(status: Status, now: float) -> Status:
    return Status(State.IDLE, last_sync=now)


def failed(
    status: Status,
    now: float,
    error: str,
    code: str,
    retry_after: float | None = None,
    rng: random.Random | None = None,
) -> Status:
    """A failure worth retrying (network, 5xx, 429): back off."""
    failures = status.failures + 1
    delay = retry_after if retry_after is not None else backoff_delay(failures, rng)
    return replace(
        status,
        state=State.BACKING_OFF,
        failures=failures,
        retry_at=now + delay,
        error=error,
        error_code=code,
    )


def with_problem(status: Status, error: str, code: str) -> Status:
    """A round that succeeded except for something only a person can solve
    (a change too large to send): idle, rounds go on, the problem is shown."""
    return replace(status, error=error, error_code=code)


def rejected(status: Status, error: str, code: str) -> Status:
    return replace(status, state=State.REJECTED, retry_at=None, error=error, error_code=code)


def read_only(status: Status, error: str) -> Status:
    return replace(
        status, state=State.READ_ONLY, retry_at=None, error=error, error_code="newer-protocol"
    )


def resume(status: Status) -> Status:
    """A person acted on a rejection (e.g. changed the relay address): try again."""
    if status.state is State.READ_ONLY:
        return status
    return replace(status, state=State.IDLE, failures=0, retry_at=None, error=None, error_code=None)
