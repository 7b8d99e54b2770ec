"""DOMAIN §11, issue 6 point 7: the app deletes per-unit energy data that is
due when a building is opened and then daily, on the worker thread."""

from __future__ import annotations

from datetime import date

import pytest
from gui_helpers import PASSPHRASE, WAIT_MS, create_building, wait_idle

from desktop.ops import DAILY_MS
from node.session import Session

pytestmark = pytest.mark.gui


def _ended_campaign(session) -> str:  # type: ignore[no-untyped-def]
    campaign = session.energy.create("Hiver", ["gas"], date(2099, 1, 31))
    session.energy.cancel(campaign, on=date(2020, 1, 1))  # over long ago
    return campaign


def test_retention_runs_at_opening_and_daily(qtbot, start_app) -> None:  # type: ignore[no-untyped-def]
    controller = start_app()
    create_building(qtbot, controller)
    made: list[str] = []
    controller.ops.run(lambda s: made.append(_ended_campaign(s)))
    wait_idle(qtbot, controller)
    assert controller.ops._daily.isActive() and controller.ops._daily.interval() == DAILY_MS
    controller.ops._daily.timeout.emit()  # a day later
    wait_idle(qtbot, controller)
    purged: list[object] = []
    controller.ops.run(lambda s: purged.append(s.energy.info(made[0]).purged_on))
    wait_idle(qtbot, controller)
    assert purged == [date.today()]

    # a campaign that ended long ago in a profile opened later is purged on opening
    controller.ops.run(lambda s: made.append(_ended_campaign(s)))
    wait_idle(qtbot, controller)
    path = controller.ops._session.profile.path  # type: ignore[union-attr]
    opened: list[object] = []
    controller.ops.open(lambda: Session.open(path, lambda _c: PASSPHRASE), opened.append)
    qtbot.waitUntil(lambda: bool(opened), timeout=WAIT_MS)
    controller.ops.run(lambda s: purged.append(s.energy.info(made[1]).purged_on))
    wait_idle(qtbot, controller)
    assert purged[-1] == date.today()
