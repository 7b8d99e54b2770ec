"""Passphrases (no keyring on CI) and the language setting."""

from __future__ import annotations

from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from gui_helpers import PASSPHRASE, WAIT_MS, create_building, wait_main

import node.i18n
from desktop.qt import QCoreApplication, Qt
from desktop.settings import app_settings
from node import first_run
from node.domain.registry import Association

pytestmark = pytest.mark.gui


def make_profile(profiles: Path) -> Path:
    """A profile made by node directly, under the fixture's passphrase."""
    path = profiles / "one"
    with first_run.create_building(path, Association("ACP Rivage", 1000)):
        pass
    return path


def test_wrong_passphrase_shows_an_error_and_lets_the_user_retry(  # type: ignore[no-untyped-def]
    qtbot, start_app, profiles, monkeypatch
) -> None:
    make_profile(profiles)
    monkeypatch.delenv("KOPROGO_PASSPHRASE")
    controller = start_app()
    qtbot.waitUntil(lambda: controller.start_window is not None, timeout=WAIT_MS)
    start = controller.start_window
    assert start.current_card() is start.unlock
    start.unlock_passphrase.setText("not the passphrase")
    qtbot.mouseClick(start.unlock_submit, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: start.unlock.error.isVisible(), timeout=WAIT_MS)
    assert start.unlock.error.text() == "The passphrase is not correct."
    assert controller.main is None
    assert start.unlock_submit.isEnabled()  # the user may try again
    start.unlock_passphrase.setText(PASSPHRASE)
    qtbot.mouseClick(start.unlock_submit, Qt.MouseButton.LeftButton)
    main = wait_main(qtbot, controller)
    assert main.building_name.text() == "ACP Rivage"


def test_a_stale_environment_passphrase_leads_to_the_prompt(  # type: ignore[no-untyped-def]
    qtbot, start_app, profiles, monkeypatch
) -> None:
    make_profile(profiles)
    monkeypatch.setenv("KOPROGO_PASSPHRASE", "an old passphrase")
    controller = start_app()
    qtbot.waitUntil(
        lambda: (
            controller.start_window is not None
            and controller.start_window.current_card() is controller.start_window.unlock
        ),
        timeout=WAIT_MS,
    )
    start = controller.start_window
    assert "KOPROGO_PASSPHRASE does not unlock this building" in start.unlock.error.text()
    assert controller.main is None
    # A typo is answered as usual, and the user may try again.
    start.unlock_passphrase.setText("still not it")
    qtbot.mouseClick(start.unlock_submit, Qt.MouseButton.LeftButton)
    assert start.is_busy() and not start.unlock_submit.isEnabled()
    qtbot.waitUntil(lambda: start.unlock_submit.isEnabled(), timeout=WAIT_MS)
    assert start.unlock.error.text() == "The passphrase is not correct."
    start.unlock_passphrase.setText(PASSPHRASE)
    qtbot.mouseClick(start.unlock_submit, Qt.MouseButton.LeftButton)
    main = wait_main(qtbot, controller)
    assert main.building_name.text() == "ACP Rivage"


def test_new_passphrase_is_asked_twice(qtbot, start_app, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.delenv("KOPROGO_PASSPHRASE")
    controller = start_app()
    qtbot.waitUntil(lambda: controller.start_window is not None, timeout=WAIT_MS)
    start = controller.start_window
    qtbot.mouseClick(start.demo_button, Qt.MouseButton.LeftButton)
    assert start.current_card() is start.new_passphrase
    start.passphrase1.setText("short")
    start.passphrase2.setText("short")
    qtbot.mouseClick(start.passphrase_submit, Qt.MouseButton.LeftButton)
    assert "at least 8 characters" in start.new_passphrase.error.text()
    start.passphrase1.setText("a long passphrase")
    start.passphrase2.setText("a long passphrase!")
    qtbot.mouseClick(start.passphrase_submit, Qt.MouseButton.LeftButton)
    assert start.new_passphrase.error.text() == "The two passphrases differ."
    start.passphrase2.setText("a long passphrase")
    qtbot.mouseClick(start.passphrase_submit, Qt.MouseButton.LeftButton)
    main = wait_main(qtbot, controller)
    assert len(main.state.registry.lots) == 24  # the demo building
    assert "passphrase" in main.key_storage.text()
    assert (controller.info.path / "storage-key.json").exists()


def french_catalog(root: Path) -> Path:
    """A tiny French catalog, so the test does not depend on how far the
    real translations have got."""
    catalog = Catalog(locale="fr", domain="koprogo")
    for english, french in {
        "Persons": "Personnes",
        "Lots": "Lots",
        "Ownership": "Propriété",
        "Settings": "Paramètres",
    }.items():
        catalog.add(english, french)
    folder = root / "fr" / "LC_MESSAGES"
    folder.mkdir(parents=True)
    with (folder / "koprogo.mo").open("wb") as handle:
        write_mo(handle, catalog)
    return root


def test_language_switch_rebuilds_the_texts(  # type: ignore[no-untyped-def]
    qtbot, start_app, tmp_path, monkeypatch
) -> None:
    monkeypatch.setattr(node.i18n, "LOCALE_DIR", french_catalog(tmp_path / "locale"))
    controller = start_app()
    main = create_building(qtbot, controller)
    main.go_to("persons")
    assert main.pages["persons"].title() == "Persons"
    controller.show_settings()
    dialog = controller.dialog
    dialog.language.setCurrentIndex(dialog.language.findData("fr"))
    dialog.accept()
    qtbot.waitUntil(lambda: controller.main is not main, timeout=WAIT_MS)
    rebuilt = controller.main
    labels = [rebuilt.nav.item(i).text() for i in range(rebuilt.nav.count())]
    assert "Personnes" in labels and "Persons" not in labels
    assert rebuilt.current_page() == "persons"  # the user stays where they were
    assert rebuilt.state is not None and rebuilt.building_name.text() == "ACP Les Érables"
    assert app_settings().value("language") == "fr"
    # Qt's own words too (found by hand: its file dialogs stayed in English)
    assert QCoreApplication.translate("QFileDialog", "Look in:") == "Voir dans\xa0:"

    # The choice is kept: the next start is in French too.
    rebuilt.close()
    qtbot.waitUntil(lambda: controller.main is None, timeout=WAIT_MS)
    controller.shutdown()
    again = wait_main(qtbot, start_app())
    assert again.pages["persons"].title() == "Personnes"


@pytest.mark.parametrize(
    "language, words",
    [("de", "Französisch"), ("nl", "Frans"), ("fr", "français"), ("en", "French")],
)
def test_a_language_in_a_sentence_is_named_in_the_screens_language(language, words):
    """Found by hand: German screens said "Protokoll auf Français"."""
    from desktop.labels import language_in_words, language_label

    node.i18n.set_language(language)
    try:
        assert language_in_words("fr") == words
        assert language_label("fr") == "Français"  # lists to choose from keep endonyms
    finally:
        node.i18n.set_language("en")


def test_the_page_gone_to_is_in_view_in_the_navigation(qtbot, start_app) -> None:  # type: ignore[no-untyped-def]
    """Found by hand: going to Devices from the sync panel, or after a
    language change, left its entry off the bottom of the list at 1280×800."""
    controller = start_app()
    main = create_building(qtbot, controller)
    main.resize(1000, 420)
    main.show()
    qtbot.waitExposed(main)
    main.go_to("devices")
    item = main.nav.currentItem()
    assert item is not None and main.current_page() == "devices"
    qtbot.waitUntil(
        lambda: main.nav.viewport().rect().contains(main.nav.visualItemRect(item)),
        timeout=WAIT_MS,
    )
