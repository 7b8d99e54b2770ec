"""Ledger benchmark: a 500-lot ACP with ten years of accounts.

Generates a building of 500 lots (1 in 10 a cellar) and 600 persons, then
ten fiscal years, each with 12 monthly working-fund calls and 4 quarterly
reserve-fund calls (through the services, split to the cent), 2,000
supplier invoices split by quotas or a special key, and a payment from
every owner each month (≈ 9,400 entries a year, ≈ 94,000 in all); each year
is closed and opens the next. Invoices and payments are written in bulk
through the document mapping (the benchmark measures reading, not typing).

Prints (never asserts): the time to open the profile cold (fresh process:
unlock, open, read the current year), to compute every owner's balance
with ageing, and to render every owner's charge statement of the last year
as PDFs; plus the profile's size.

    .venv/bin/python bench/ledger.py [--lots 500] [--years 10]

Targets on the 2-core reference machine: balances < 1 s, 500 charge
statement PDFs < 60 s.
"""

from __future__ import annotations

import argparse
import os
import random
import subprocess
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("KOPROGO_ARGON2", "interactive")

from node.documents import ledger_doc as ldoc  # noqa: E402
from node.documents import registry_doc as rdoc  # noqa: E402
from node.domain.accounting.calls import Fund, Schedule  # noqa: E402
from node.domain.accounting.ledger import Entry, Journal, Line  # noqa: E402
from node.domain.registry import (  # noqa: E402
    Association,
    DistributionKey,
    Lot,
    LotType,
    Ownership,
    Person,
)
from node.keys import KeyStorage  # noqa: E402
from node.session import Session  # noqa: E402
from shared.ids import new_ulid  # noqa: E402

PASSPHRASE = "benchmark passphrase"
FIRST_YEAR = 2017

COLD = """
import sys, time
t0 = time.perf_counter()
from pathlib import Path
from node.session import Session
session = Session.open(Path(sys.argv[1]), lambda _c: sys.argv[2])
view = session.ledger.view(int(sys.argv[3]))
print(time.perf_counter() - t0, len(view.entries))
"""


def build_registry(session: Session, lots: int, persons: int) -> None:
    session.registry.create_building(
        Association("ACP Benchmark", lots * 20, iban="BE68 5390 0754 7034", bic="GKCCBEBB")
    )
    rng = random.Random(1)
    people = [
        Person(
            new_ulid(),
            f"Person {i}",
            email=f"p{i}@example.be",
            language=rng.choice(["fr", "nl", "de", "en"]),
        )
        for i in range(persons)
    ]
    made = [
        Lot(
            new_ulid(),
            f"L{i:04d}",
            LotType.CELLAR if i % 10 == 9 else LotType.APARTMENT,
            20,
            i % 12,
        )
        for i in range(lots)
    ]
    lift = DistributionKey(
        new_ulid(), "Lift", {x.id: x.floor or 1 for x in made if x.type is LotType.APARTMENT}
    )
    holders: dict[str, list[str]] = {lot.id: [people[i % persons].id] for i, lot in enumerate(made)}
    for person in people[lots:]:  # the others co-own a lot with someone
        holders[made[rng.randrange(lots)].id].append(person.id)
    with session.document("registry").edit() as doc:
        for person in people:
            rdoc.put_record(doc, "persons", person.id, rdoc.person_fields(person))
        for lot in made:
            rdoc.put_record(doc, "lots", lot.id, rdoc.lot_fields(lot))
            owners = holders[lot.id]  # full ownership shared, the first one votes
            shares = [10_000 // len(owners)] * len(owners)
            shares[0] += 10_000 - sum(shares)
            for n, (person_id, share) in enumerate(zip(owners, shares, strict=True)):
                holding = Ownership(new_ulid(), lot.id, person_id, share, voting=n == 0)
                rdoc.put_record(doc, "ownerships", holding.id, rdoc.ownership_fields(holding))
        rdoc.put_key(doc, lift)
    problems = session.registry.problems()
    assert not problems, problems  # calls are refused on a registry with problems


def one_year(session: Session, label: int, invoices: int, rng: random.Random) -> int:
    ledger = session.ledger
    ledger.generate_calls(label, Fund.WORKING, Schedule.MONTHLY, amount=40_000_000)
    ledger.generate_calls(label, Fund.RESERVE, Schedule.QUARTERLY, amount=2_000_000)
    registry = session.registry.read()
    general = {lot.id: lot.quota for lot in registry.lots}
    lift = registry.keys[0]
    year = ledger.year(label)
    live = ledger._live(label)
    with live.edit() as doc:
        for n in range(invoices):
            key_id, weights = ("general", general) if n % 3 else (lift.id, dict(lift.weights))
            amount = rng.randint(5_000, 500_000)
            day = year.start + timedelta(days=rng.randrange(365))
            invoice_id = new_ulid()
            entry = Entry(
                f"inv-{invoice_id}",
                day,
                Journal.PURCHASES,
                f"F{n}",
                f"Supplier {n}",
                (
                    Line("611" if n % 2 else "612", debit=amount, key=key_id),
                    Line("4400", credit=amount),
                ),
                source=f"invoice:{invoice_id}",
            )
            ldoc.put_record(
                doc,
                "invoices",
                invoice_id,
                {
                    "supplier": f"Supplier {n % 40}",
                    "number": f"{label}-{n}",
                    "date": day.isoformat(),
                    "due": "",
                    "lines": [
                        {
                            "account": entry.lines[0].account,
                            "amount": amount,
                            "key": key_id,
                            "label": "",
                            "weights": ldoc.put_weights(doc, weights),
                        }
                    ],
                    "entry": entry.id,
                    "paid_entry": "",
                },
            )
            ldoc.put_entry(doc, entry)
        owed: dict[str, int] = {}
        for call in ledger.calls(label).values():
            if call["fund"] == Fund.WORKING.value:
                for share in call["shares"]:
                    owed[share["person"]] = owed.get(share["person"], 0) + int(share["amount"])
        for person, total in owed.items():
            for month in range(12):
                amount = total // 12 if rng.random() > 0.05 else total // 24  # some pay late
                ldoc.put_entry(
                    doc,
                    Entry(
                        f"rcv-{new_ulid()}",
                        date(label, month + 1, 20),
                        Journal.BANK,
                        "CODA",
                        "Payment",
                        (Line("550", debit=amount), Line("4101", credit=amount, person=person)),
                        source="payment",
                    ),
                )
    count = len(ledger.view(label).entries)
    # a year is closed once it has ended: the simulated years run to this one
    ended = datetime(label + 1, 1, 2, tzinfo=UTC)
    session.now = lambda: ended  # type: ignore[method-assign]
    ledger.close_year(label)
    return count


def size_of(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lots", type=int, default=500)
    parser.add_argument("--persons", type=int, default=600)
    parser.add_argument("--years", type=int, default=10)
    parser.add_argument("--invoices", type=int, default=2_000)
    args = parser.parse_args()
    rng = random.Random(2026)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench"
        session = Session.create(path, lambda _c: PASSPHRASE, KeyStorage.PASSPHRASE_FILE)
        build_registry(session, args.lots, args.persons)
        t0 = time.perf_counter()
        entries = sum(
            one_year(session, FIRST_YEAR + i, args.invoices, rng) for i in range(args.years)
        )
        generated = time.perf_counter() - t0
        last = FIRST_YEAR + args.years - 1
        session.close()

        cold = subprocess.run(
            [sys.executable, "-c", COLD, str(path), PASSPHRASE, str(last)],
            capture_output=True,
            text=True,
            check=True,
            cwd=ROOT,
        ).stdout.split()

        session = Session.open(path, lambda _c: PASSPHRASE)
        session.ledger.view(last)  # documents loaded
        t0 = time.perf_counter()
        balances = session.ledger.balances(last, date(last, 12, 31))
        t_balances = time.perf_counter() - t0

        t0 = time.perf_counter()
        pdfs = list(session.documents.charge_statement_pdfs(last))
        t_pdfs = time.perf_counter() - t0
        pdf_bytes = sum(len(b) for _p, b in pdfs)
        session.close()
        size = size_of(path)

    print(
        f"generated ACP: {args.lots} lots, {args.persons} persons, {args.years} years, "
        f"{entries} entries ({generated:.0f} s to generate)"
    )
    print(
        f"cold open (fresh process: imports, unlock, load, read {cold[1]} entries of "
        f"{last}): {float(cold[0]):.2f} s"
    )
    print(f"all owners' balances with ageing ({len(balances)} owners): {t_balances:.3f} s")
    print(
        f"charge statements of {last} as PDFs: {len(pdfs)} in {t_pdfs:.1f} s "
        f"({t_pdfs / max(1, len(pdfs)) * 1000:.0f} ms each, {pdf_bytes / 1e6:.1f} MB)"
    )
    print(f"profile size on disk: {size / 1e6:.1f} MB")


if __name__ == "__main__":
    main()
