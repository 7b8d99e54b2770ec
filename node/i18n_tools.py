"""Maintain the gettext catalogs: ``python -m node.i18n_tools update|check``.

``update`` extracts every ``_()``, ``N_()`` and ``ngettext()`` message from
``node/`` and ``desktop/`` with Babel, merges them into the four ``.po``
catalogs (English msgids are copied as their own translation; French, Dutch
and German keep their translations and get empty entries for new messages),
and compiles the ``.mo`` files. ``check`` reports what is missing or
untranslated and exits non-zero (the test suite runs the same check).
"""

from __future__ import annotations

import io
import sys
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po

from .i18n import DOMAIN, LANGUAGES, LOCALE_DIR

ROOT = Path(__file__).resolve().parent.parent
SOURCES = ("node", "desktop")
KEYWORDS = {"_": None, "N_": None, "ngettext": (1, 2)}


def extract() -> Catalog:
    template = Catalog(project="KoproGo", domain=DOMAIN, charset="utf-8")
    for source in SOURCES:
        for filename, lineno, message, comments, context in extract_from_dir(
            ROOT / source, method_map=[("**.py", "python")], keywords=KEYWORDS
        ):
            template.add(
                message,
                locations=[(f"{source}/{filename}", lineno)],
                auto_comments=comments,
                context=context,
            )
    return template


def po_path(language: str) -> Path:
    return LOCALE_DIR / language / "LC_MESSAGES" / f"{DOMAIN}.po"


def load(language: str) -> Catalog:
    path = po_path(language)
    if not path.exists():
        return Catalog(locale=language, domain=DOMAIN, project="KoproGo", charset="utf-8")
    with path.open("rb") as handle:
        return read_po(handle, locale=language, domain=DOMAIN)


def update() -> None:
    template = extract()
    for language in LANGUAGES:
        catalog = load(language)
        catalog.update(template, no_fuzzy_matching=True, update_header_comment=False)
        catalog.obsolete.clear()
        if language == "en":
            for message in catalog:
                if message.id and _untranslated(message):
                    message.string = message.id
        path = po_path(language)
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("wb") as handle:
            write_po(handle, catalog, width=100, omit_header=False, sort_output=True)
        with path.with_suffix(".mo").open("wb") as handle:
            write_mo(handle, catalog)


def problems() -> list[str]:
    """What is missing, untranslated or not compiled, as readable lines."""
    template = extract()
    wanted = {m.id for m in template if m.id}
    found = []
    for language in LANGUAGES:
        catalog = load(language)
        have = {m.id: m for m in catalog if m.id}
        missing = sorted(str(i) for i in wanted - have.keys())
        if missing:
            found.append(f"{language}: {len(missing)} messages missing, e.g. {missing[:3]}")
        empty = sorted(str(m.id) for m in have.values() if m.id in wanted and _untranslated(m))
        if empty:
            found.append(f"{language}: {len(empty)} messages untranslated, e.g. {empty[:3]}")
        fuzzy = sorted(str(m.id) for m in have.values() if m.fuzzy and m.id in wanted)
        if fuzzy:
            found.append(f"{language}: {len(fuzzy)} fuzzy translations, e.g. {fuzzy[:3]}")
        mo = po_path(language).with_suffix(".mo")
        buffer = io.BytesIO()
        write_mo(buffer, catalog)
        if not mo.exists() or mo.read_bytes() != buffer.getvalue():
            found.append(f"{language}: {mo.name} is not compiled from the current .po")
    return found


def _untranslated(message) -> bool:
    strings = message.string if isinstance(message.string, tuple) else (message.string,)
    return not all(strings)


def main(argv: list[str]) -> int:
    command = argv[0] if argv else "check"
    if command == "update":
        update()
    found = problems()
    for line in found:
        print(line, file=sys.stderr)
    if found:
        print(
            "Translate the entries above in node/locale/*/LC_MESSAGES/koprogo.po, "
            "then run 'make i18n'.",
            file=sys.stderr,
        )
    return 1 if (found and command == "check") else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
