"""Every screen and document in French, Dutch, German and English: the four
catalogs hold every message of the code, translated, and compiled."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from node import i18n
from node.i18n_tools import extract, load, problems

FIELD = re.compile(r"\{([a-z_]*)(![rs])?(:[^}]*)?\}")


def test_catalogs_are_complete_and_compiled():
    assert problems() == []


@pytest.mark.parametrize("language", ["fr", "nl", "de"])
def test_translations_keep_every_placeholder(language: str):
    broken = []
    for message in load(language):
        if not message.id:
            continue
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        wanted = {m.group(0) for m in FIELD.finditer(ids[-1])}
        for string in strings:
            if not string:
                continue  # untranslated: reported by the completeness test
            if {m.group(0) for m in FIELD.finditer(string)} != wanted:
                broken.append(f"{ids[0]!r} -> {string!r}")
    assert broken == []


def test_the_extractor_finds_messages_in_node_and_desktop():
    locations = {loc[0].split("/")[0] for m in extract() for loc in m.locations}
    assert locations == {"node", "desktop"}


@pytest.mark.parametrize(
    ("language", "expected"),
    [("fr", "phrase secrète"), ("nl", "wachtzin"), ("de", "Passphrase"), ("en", "passphrase")],
)
def test_switching_language_switches_messages(language: str, expected: str):
    i18n.set_language(language)
    assert expected in i18n._("The passphrase is not correct.")


def test_unknown_language_is_refused():
    with pytest.raises(ValueError):
        i18n.set_language("es")


def test_no_message_is_marked_inside_an_f_string():
    """Babel's extractor does not look into f-strings: ``f"{_('for')}"`` was
    never translated (found when a new message went missing)."""
    marked = re.compile(r"\{(_|ngettext|N_)\(\s*['\"]")
    root = Path(__file__).resolve().parents[1]
    found = [
        f"{path.relative_to(root)}:{number}"
        for folder in ("node", "desktop", "sync_server", "shared")
        for path in sorted((root / folder).rglob("*.py"))
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1)
        if marked.search(line)
    ]
    assert found == []
