"""How large a building's documents grow: the whole state of each document
after one generated fiscal year (monthly calls, a payment from every owner
every month, 4 supplier invoices per lot), its history folded as a snapshot
would carry it. Prints the three largest documents per building size.

Run: ``.venv/bin/python bench/document_sizes.py [--lots 50 150 300 500]``.
An envelope holds at most ``shared.protocol.MAX_ENVELOPE_BYTES`` (16 MiB),
which bounds the largest document a device can snapshot (decision 0010).
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.ledger import FIRST_YEAR, PASSPHRASE, build_registry, one_year
from node.keys import KeyStorage
from node.session import Session
from shared.protocol import MAX_ENVELOPE_BYTES


def sizes_for(lots: int) -> dict[str, int]:
    with tempfile.TemporaryDirectory() as tmp:
        session = Session.create(Path(tmp) / "b", lambda _c: PASSPHRASE, KeyStorage.PASSPHRASE_FILE)
        build_registry(session, lots, int(lots * 1.2))
        one_year(session, FIRST_YEAR, lots * 4, random.Random(1))
        sizes = {}
        for ref in session.profile.store.documents():
            live = session.document(ref.doc_id)
            live.forget_history()
            sizes[ref.doc_id] = len(live.get_update())
        session.close()
    return sizes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lots", type=int, nargs="+", default=[50, 150, 300, 500])
    args = parser.parse_args()
    print(f"envelope limit: {MAX_ENVELOPE_BYTES / 1e6:.1f} MB")
    for lots in args.lots:
        largest = sorted(sizes_for(lots).items(), key=lambda x: -x[1])[:3]
        shown = ", ".join(f"{doc} {size / 1e6:.2f} MB" for doc, size in largest)
        print(f"{lots:>5} lots: {shown}", flush=True)


if __name__ == "__main__":
    main()
