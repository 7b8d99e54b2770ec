"""Prometheus metrics in the text exposition format, and JSON access logs.

Metrics (all prefixed ``koprogo_relay_``): requests by endpoint template and
status, a latency histogram, envelopes and bytes stored by this process,
buildings and bytes held, WebSocket clients. Logs: one JSON line per
request with the method, the path *template*, the status, the duration and
the building id — never a body, a device key or a query value.
"""

from __future__ import annotations

import json
import logging
import sys
import time
from bisect import bisect_left

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

    def render(self, gauges: dict[str, float]) -> str:
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
        counters = {
            "envelopes_stored_total": (self.envelopes_stored, "Envelopes stored by this process."),
            "envelope_bytes_total": (self.envelope_bytes, "Envelope bytes stored by this process."),
            "duplicate_envelopes_total": (self.duplicates, "Re-sent envelopes answered as no-ops."),
        }
        for name, (value, text) in counters.items():
            lines += [
                f"# HELP koprogo_relay_{name} {text}",
                f"# TYPE koprogo_relay_{name} counter",
                f"koprogo_relay_{name} {value}",
            ]
        for name, value in sorted(gauges.items()):
            lines += [f"# TYPE koprogo_relay_{name} gauge", f"koprogo_relay_{name} {value:g}"]
        return "\n".join(lines) + "\n"


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line = {
            "time": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            + f".{int(record.msecs):03d}Z",
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


def setup_logging(level: str = "INFO") -> None:
    """JSON lines on stderr for the relay's loggers (``koprogo.relay*``)."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger("koprogo.relay")
    root.handlers[:] = [handler]
    root.setLevel(level)
    root.propagate = False
