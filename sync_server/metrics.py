"""Prometheus metrics in the text exposition format, and JSON access logs.

Metrics (all prefixed ``koprogo_relay_``): requests by endpoint template and
status, a latency histogram, envelopes and bytes stored by this process,
buildings and bytes held, WebSocket clients. Logs: one JSON line per
request with the method, the path *template*, the status, the duration and
the building id — never a body, a device key or a query value.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import json
import logging
import sys
import threading
import time
from bisect import bisect_left
from collections.abc import Callable
from typing import Any

BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)


class Metrics:
    def __init__(self) -> None:
        self.requests: dict[tuple[str, str, int], int] = {}
        self.latency_counts = [0] * (len(BUCKETS) + 1)
        self.latency_sum = 0.0
        self.envelopes_stored = 0
        self.envelope_bytes = 0
        self.duplicates = 0

    def observe(self, method: str, endpoint: str, status: int, seconds: float) -> None:
        key = (method, endpoint, status)
        self.requests[key] = self.requests.get(key, 0) + 1
        self.latency_counts[bisect_left(BUCKETS, seconds)] += 1
        self.latency_sum += seconds

    def render(
        self,
        gauges: dict[str, float],
        counters: dict[str, tuple[float, str]] | None = None,
        thread_cpu: dict[str, float] | None = None,
    ) -> str:
        """The text exposition; ``counters`` are more counters by name:
        (value, help); ``thread_cpu`` the CPU seconds used by each kind of
        thread (see :func:`thread_cpu_seconds`)."""
        lines = [
            "# HELP koprogo_relay_requests_total Requests answered, by endpoint and status.",
            "# TYPE koprogo_relay_requests_total counter",
        ]
        for (method, endpoint, status), n in sorted(self.requests.items()):
            lines.append(
                f'koprogo_relay_requests_total{{method="{method}",endpoint="{endpoint}",'
                f'status="{status}"}} {n}'
            )
        lines += [
            "# HELP koprogo_relay_request_seconds Time to answer a request.",
            "# TYPE koprogo_relay_request_seconds histogram",
        ]
        cumulative = 0
        for bound, n in zip((*BUCKETS, float("inf")), self.latency_counts, strict=True):
            cumulative += n
            le = "+Inf" if bound == float("inf") else repr(bound)
            lines.append(f'koprogo_relay_request_seconds_bucket{{le="{le}"}} {cumulative}')
        lines.append(f"koprogo_relay_request_seconds_sum {self.latency_sum:.6f}")
        lines.append(f"koprogo_relay_request_seconds_count {cumulative}")
        own = {
            "envelopes_stored_total": (self.envelopes_stored, "Envelopes stored by this process."),
            "envelope_bytes_total": (self.envelope_bytes, "Envelope bytes stored by this process."),
            "duplicate_envelopes_total": (self.duplicates, "Re-sent envelopes answered as no-ops."),
        }
        for name, (value, text) in {**own, **(counters or {})}.items():
            lines += [
                f"# HELP koprogo_relay_{name} {text}",
                f"# TYPE koprogo_relay_{name} counter",
                f"koprogo_relay_{name} {value}",
            ]
        if thread_cpu:
            lines += [
                "# HELP koprogo_relay_thread_cpu_seconds_total CPU time used, by thread.",
                "# TYPE koprogo_relay_thread_cpu_seconds_total counter",
            ]
            lines += [
                f'koprogo_relay_thread_cpu_seconds_total{{thread="{name}"}} {seconds:.6f}'
                for name, seconds in sorted(thread_cpu.items())
            ]
        for name, value in sorted(gauges.items()):
            lines += [f"# TYPE koprogo_relay_{name} gauge", f"koprogo_relay_{name} {value:g}"]
        return "\n".join(lines) + "\n"


def labelled(text: str, name: str, value: str) -> str:
    """Prometheus text with the label ``name="value"`` added to every
    sample (under ``serve --workers``, each worker's series are told apart:
    a scrape reaches one worker, and ``sum`` over the label adds them up)."""
    label = f'{name}="{value}"'
    lines = []
    for line in text.splitlines():
        if line and not line.startswith("#"):
            metric, brace, rest = line.partition("{")
            if brace:
                line = f"{metric}{{{label},{rest}"
            else:
                metric, _, sample = line.partition(" ")
                line = f"{metric}{{{label}}} {sample}"
        lines.append(line)
    return "\n".join(lines) + "\n"


def thread_cpu_seconds(threads: dict[str, list[threading.Thread]]) -> dict[str, float]:
    """CPU seconds used so far by each group of threads (empty where the
    platform cannot tell another thread's CPU time)."""
    if not hasattr(time, "pthread_getcpuclockid"):
        return {}
    used: dict[str, float] = {}
    for name, group in threads.items():
        for thread in group:
            if thread.ident is None or not thread.is_alive():
                continue
            try:
                clock = time.pthread_getcpuclockid(thread.ident)
                used[name] = used.get(name, 0.0) + time.clock_gettime(clock)
            except OSError:
                continue
    return used


def _timestamp(created: float) -> str:
    """``2026-11-22T09:30:01.123Z``; the part up to the second is cached."""
    global _last_second, _last_prefix
    second = int(created)
    if second != _last_second:
        _last_prefix = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(second))
        _last_second = second
    return f"{_last_prefix}.{int((created - second) * 1000):03d}Z"


_last_second, _last_prefix = -1, ""


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line = {
            "time": _timestamp(record.created),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        fields = getattr(record, "fields", None)
        if isinstance(fields, dict):
            line.update(fields)
        if record.exc_info:
            line["error"] = self.formatException(record.exc_info)
        return json.dumps(line, separators=(",", ":"))


class JsonLinesHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """The relay's handler: JSON lines on a stream (stderr). :class:`AccessLog`
    writes its lines to the same stream directly."""


def _json_string(text: str) -> str:
    """``json.dumps(text)``, without its cost for the usual plain text."""
    if text.isascii() and text.isprintable() and '"' not in text and "\\" not in text:
        return f'"{text}"'
    return json.dumps(text)


class AccessLog:
    """One JSON line per request, at INFO on ``koprogo.relay.access``.

    The same line as :class:`JsonFormatter` makes for a log record, but
    formatted directly and written in one piece per turn of the event loop:
    a ``logging`` call per request cost the relay about as much CPU as
    verifying a signature. When the logger's only handler is the relay's
    own (:func:`setup_logging`), lines are buffered and written to its
    stream by ``flush``, scheduled once per loop iteration; otherwise (tests
    capturing logs, an operator's own logging setup) each request goes
    through ``logging`` as a record with ``fields``.
    """

    def __init__(self, logger: logging.Logger) -> None:
        self.logger = logger
        self._lines: list[str] = []
        # the middle of a line, by (method, path template): a handful of each
        self._middles: dict[tuple[str, str], str] = {}

    def _handler(self) -> JsonLinesHandler | None:
        """The relay's handler, when lines may bypass ``logging``."""
        logger: logging.Logger | None = self.logger
        handlers: list[logging.Handler] = []
        while logger is not None:
            if logger.filters:
                return None
            handlers += logger.handlers
            logger = logger.parent if logger.propagate else None
        if len(handlers) == 1 and isinstance(handlers[0], JsonLinesHandler):
            return handlers[0] if not handlers[0].filters else None
        return None

    def enabled(self) -> bool:
        return self.logger.isEnabledFor(logging.INFO)

    def request(
        self,
        loop: asyncio.AbstractEventLoop | None,
        method: str,
        path: str,
        status: int,
        ms: float,
        building: str | None,
    ) -> None:
        if loop is None or self._handler() is None:
            fields = {"method": method, "path": path, "status": status, "ms": ms}
            self.logger.info("request", extra={"fields": {**fields, "building": building}})
            return
        middle = self._middles.get((method, path))
        if middle is None:
            if len(self._middles) >= 256:  # methods are the client's: keep it bounded
                self._middles.clear()
            middle = self._middles[method, path] = (
                f'"logger":{_json_string(self.logger.name)},"message":"request",'
                f'"method":{_json_string(method)},"path":{_json_string(path)},'
            )
        b = "null" if building is None else _json_string(building)
        self._lines.append(
            f'{{"time":"{_timestamp(time.time())}","level":"info",{middle}'
            f'"status":{status},"ms":{ms!r},"building":{b}}}\n'
        )
        if len(self._lines) == 1:
            loop.call_soon(self.flush)

    def flush(self) -> None:
        lines, self._lines = self._lines, []
        handler = self._handler()
        if not lines or handler is None:
            return
        with handler.lock or contextlib.nullcontext():
            try:
                for piece in pieces(lines):
                    handler.stream.write(piece)
                    handler.flush()
            except Exception:  # a closed or full stream: as logging would, go on
                pass


ATOMIC_WRITE = 4096  # PIPE_BUF: a write this size to a pipe is never interleaved


def pieces(lines: list[str]) -> list[str]:
    """``lines`` joined into pieces of whole lines of at most
    :data:`ATOMIC_WRITE` bytes (a longer line alone), each written by one
    ``write``: under ``serve --workers`` several processes write to the same
    stderr, and a line cut between two writes could be interleaved with
    another worker's."""
    out: list[str] = []
    current: list[str] = []
    size = 0
    for line in lines:
        length = len(line.encode()) if not line.isascii() else len(line)
        if current and size + length > ATOMIC_WRITE:
            out.append("".join(current))
            current, size = [], 0
        current.append(line)
        size += length
    if current:
        out.append("".join(current))
    return out


def setup_logging(level: str = "INFO") -> None:
    """JSON lines on stderr for the relay's loggers (``koprogo.relay*``), and
    for aiohttp's and asyncio's own warnings and errors, which would else
    reach stderr as plain multi-line tracebacks (a malformed request line
    from any client made one)."""
    handler = JsonLinesHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger("koprogo.relay")
    root.handlers[:] = [handler]
    root.setLevel(level)
    root.propagate = False
    # Their own handler: a filter on the relay's would turn AccessLog's
    # direct writes off (a logging call per request, ~60 µs of CPU each).
    theirs = JsonLinesHandler(sys.stderr)
    theirs.setFormatter(JsonFormatter())
    theirs.addFilter(_client_mistake_in_one_line)
    for name in ("aiohttp", "asyncio"):
        other = logging.getLogger(name)
        other.handlers[:] = [theirs]
        other.setLevel(max(logging.WARNING, logging.getLevelName(level.upper())))
        other.propagate = False


def _client_mistake_in_one_line(record: logging.LogRecord) -> bool:
    """A request aiohttp could not parse (bad method, line too long, bad
    bytes in the URL...) is the client's mistake, answered 400: logged as
    one warning line naming it, without a traceback."""
    from aiohttp.http_exceptions import HttpProcessingError

    error = record.exc_info[1] if record.exc_info else None
    if isinstance(error, HttpProcessingError):
        record.levelno, record.levelname = logging.WARNING, "WARNING"
        record.msg, record.args = "malformed request: %s", (type(error).__name__,)
        record.exc_info = record.exc_text = None
    return True


# what asyncio reports as "socket.accept() out of system resource"
OUT_OF_RESOURCES = frozenset({errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.ENOMEM})


class LoopErrors:
    """The relay's event-loop exception handler: asyncio's own writes a
    multi-line traceback per error, outside the JSON log.

    Out of file descriptors (or kernel buffers, or memory), every failed
    ``accept()`` is such an error, again and again while it lasts (an
    operator saw 2.5 MB/s of them): those become at most one warning line
    per ``every`` seconds, counting the ones left out. Any other error the
    loop reports is one JSON line with its traceback as a field.
    """

    def __init__(
        self,
        logger: logging.Logger,
        every: float = 10.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.logger = logger
        self.every = every
        self.clock = clock
        self._quiet_until: float | None = None
        self._left_out = 0

    def __call__(self, loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        error = context.get("exception")
        message = str(context.get("message") or "event loop error")
        if isinstance(error, OSError) and error.errno in OUT_OF_RESOURCES:
            now = self.clock()
            if self._quiet_until is not None and now < self._quiet_until:
                self._left_out += 1
                return
            fields = {"error": f"{type(error).__name__}: {error}", "left_out": self._left_out}
            self._quiet_until, self._left_out = now + self.every, 0
            self.logger.warning(
                f"{message} (said at most every {self.every:g} s)", extra={"fields": fields}
            )
            return
        details = {
            key: repr(value)[:300]
            for key, value in context.items()
            if key not in ("message", "exception")
        }
        exc_info = (type(error), error, error.__traceback__) if error is not None else None
        self.logger.error(message, exc_info=exc_info, extra={"fields": details})
