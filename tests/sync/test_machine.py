"""The sync state machine, driven by recorded events (STYLE §9)."""

from __future__ import annotations

import random

from node.sync import machine
from node.sync.machine import State


def run(events, start=None):
    """Feed events to the machine; return the states it went through."""
    status = start or machine.Status()
    seen = [status.state]
    rng = random.Random(1)
    for event, now in events:
        if event == "round":
            assert machine.can_start(status, now)
            status = machine.pushing(status)
            seen.append(status.state)
            status = machine.pulling(status)
        elif event == "ok":
            status = machine.succeeded(status, now)
        elif event == "offline":
            status = machine.failed(status, now, "offline", "unreachable", rng=rng)
        elif event == "refused":
            status = machine.rejected(status, "removed", "revoked-device")
        elif event == "newer":
            status = machine.read_only(status, "update")
        elif event == "resume":
            status = machine.resume(status)
        seen.append(status.state)
    return status, seen


def test_a_good_round():
    status, seen = run([("round", 0), ("ok", 1)])
    assert seen == [State.IDLE, State.PUSHING, State.PULLING, State.IDLE]
    assert status.last_sync == 1 and status.error is None


def test_failures_back_off_exponentially_then_recover():
    status, _ = run([("round", 0), ("offline", 0)])
    assert status.state is State.BACKING_OFF and 0.8 <= status.retry_at <= 1.2
    assert not machine.can_start(status, 0.5)
    status, _ = run([("round", 2), ("offline", 2)], status)
    assert status.failures == 2 and 2 + 1.6 <= status.retry_at <= 2 + 2.4
    status, _ = run([("round", 10), ("ok", 10)], status)
    assert (status.state, status.failures, status.retry_at) == (State.IDLE, 0, None)


def test_backoff_is_capped_at_five_minutes():
    delays = [machine.backoff_delay(n, random.Random(n)) for n in range(1, 30)]
    assert max(delays) <= machine.BACKOFF_MAX
    assert delays[0] < 2 and delays[-1] >= 0.8 * machine.BACKOFF_MAX


def test_rejected_waits_for_a_person():
    status, _ = run([("round", 0), ("refused", 0)])
    assert status.state is State.REJECTED and not machine.can_start(status, 10**9)
    status, _ = run([("resume", 1)], status)
    assert status.state is State.IDLE and machine.can_start(status, 1)


def test_newer_protocol_stays_read_only():
    status, _ = run([("round", 0), ("newer", 0), ("resume", 1)])
    assert status.state is State.READ_ONLY and not machine.can_start(status, 2)
    assert status.error_code == "newer-protocol"


def test_status_round_trips_to_json():
    status, _ = run([("round", 0), ("offline", 0)])
    data = status.to_json()
    assert data["state"] == "backing_off" and data["error_code"] == "unreachable"
