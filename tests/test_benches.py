"""The benchmarks still run (found 2026-11-23: bench/ledger.py and
bench/document_sizes.py had stopped at their first call for funds since
calls are refused on a registry with problems, and nobody noticed). Each
runs at a tiny size; what they print is not checked against any time."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize(
    ("script", "args", "printed"),
    [
        ("ledger.py", ["--lots", "12", "--persons", "14", "--years", "2", "--invoices", "20"],
         "charge statements"),
        ("document_sizes.py", ["--lots", "12"], "12 lots: ledger/"),
        ("own_envelopes.py", ["--lots", "12", "--changes", "4"], "ledger/"),
        ("registry.py", ["--lots", "20", "--persons", "24"], ""),
    ],
)  # fmt: skip
def test_a_benchmark_runs_to_its_end(script: str, args: list[str], printed: str) -> None:
    done = subprocess.run(
        [sys.executable, str(ROOT / "bench" / script), *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert printed in done.stdout
