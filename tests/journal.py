"""A tiny text form for ledger tests (STYLE §5: tests read like a journal).

    entry('''
        2027-03-01 purchases INV-7 "Électricité T1"
          612     D 120.00  key=general
          4400    C 120.00
    ''')

Amounts are written in euros with two decimals and kept in cents;
``person=`` and ``lot=`` and ``key=`` tag a line. :func:`balances_text`
prints a view's balances the same way, so tests compare text.
"""

from __future__ import annotations

import shlex
import textwrap
from datetime import date
from decimal import Decimal

from node.domain.accounting.ledger import Entry, Journal, LedgerView, Line

_counter = [0]


def cents(text: str) -> int:
    value = Decimal(text) * 100
    assert value == value.to_integral_value(), text
    return int(value)


def euros(value: int) -> str:
    sign = "-" if value < 0 else ""
    return f"{sign}{abs(value) // 100}.{abs(value) % 100:02d}"


def entry(text: str, entry_id: str | None = None) -> Entry:
    lines = [raw for raw in textwrap.dedent(text).strip().splitlines() if raw.strip()]
    head = shlex.split(lines[0])
    day, journal, reference = head[0], head[1], head[2]
    description = head[3] if len(head) > 3 else reference
    parsed = []
    for raw in lines[1:]:
        parts = raw.split()
        account, side, amount = parts[0], parts[1], cents(parts[2])
        tags = dict(p.split("=", 1) for p in parts[3:])
        parsed.append(
            Line(
                account,
                debit=amount if side == "D" else 0,
                credit=amount if side == "C" else 0,
                person=tags.get("person"),
                lot=tags.get("lot"),
                key=tags.get("key"),
            )
        )
    _counter[0] += 1
    return Entry(
        entry_id or f"E{_counter[0]:05d}",
        date.fromisoformat(day),
        Journal(journal),
        reference,
        description,
        tuple(parsed),
    )


def balances_text(view: LedgerView) -> str:
    """``account  net`` per line (debit positive), accounts with a balance only."""
    rows = [f"{a:<6} {euros(b.net):>10}" for a, b in view.balances().items() if b.net]
    return "\n".join(rows)


def text(block: str) -> str:
    rows = [" ".join(r.split()) for r in textwrap.dedent(block).strip().splitlines()]
    return "\n".join(rows)


def same(view: LedgerView, expected: str) -> bool:
    return text(balances_text(view)) == text(expected)
