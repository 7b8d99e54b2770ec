"""The clock-free limits (sync_server/limits.py), driven by hand-set clocks."""

from __future__ import annotations

import calendar

from sync_server.limits import (
    ReplayCache,
    RequestCounter,
    TokenBuckets,
    month_of,
    seconds_to_next_month,
)


def test_replay_cache_remembers_a_signature_for_the_window_and_then_forgets():
    cache = ReplayCache(window=300)
    assert not cache.seen(b"sig", now=1000)
    assert cache.seen(b"sig", now=1000 + 599)
    assert not cache.seen(b"other", now=1000 + 601)  # purges what is too old to replay
    assert not cache.seen(b"sig", now=1000 + 601)
    assert len(cache) == 2


def test_token_bucket_burst_then_rate():
    buckets = TokenBuckets(rate=2.0, burst=3)
    assert [buckets.take("d", now=0.0) for _ in range(3)] == [0.0, 0.0, 0.0]
    wait = buckets.take("d", now=0.0)
    assert wait == 0.5  # one token every half second
    assert buckets.take("d", now=0.5) == 0.0
    assert buckets.take("other", now=0.5) == 0.0  # buckets are per key
    assert buckets.take("d", now=100.0) == 0.0  # refills to the burst, not beyond
    assert [buckets.take("d", now=100.0) for _ in range(3)][-1] > 0


def test_token_buckets_forget_full_buckets_when_too_many_keys():
    buckets = TokenBuckets(rate=1.0, burst=1, max_keys=2)
    buckets.take("a", now=0)
    buckets.take("b", now=0)
    buckets.take("c", now=10)  # a and b have refilled: forgotten
    assert set(buckets._buckets) == {"c"}


def test_months_and_the_time_to_the_next_one():
    end_of_year = calendar.timegm((2026, 12, 31, 23, 59, 0))
    assert month_of(end_of_year) == "2026-12"
    assert seconds_to_next_month(end_of_year) == 60
    assert seconds_to_next_month(calendar.timegm((2026, 2, 1, 0, 0, 0))) == 28 * 86400


def test_request_counter_adds_stored_and_pending():
    counter = RequestCounter()
    now = calendar.timegm((2026, 11, 22, 12, 0, 0))
    counter.stored({("B", "2026-11"): 10})
    assert counter.count("B", now) == 11
    pending = counter.drain()
    assert pending == {("B", "2026-11"): 1}
    counter.restore(pending)  # a failed write puts the counts back
    assert counter.drain() == pending
    counter.stored({("B", "2026-11"): 11})
    assert counter.count("B", now) == 12
