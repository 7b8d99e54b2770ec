"""Budget versus actual as bars, drawn with QPainter (QtCharts is not part
of PySide6-Essentials).

One row per account: the budget as a pale bar, what was spent as a solid
bar under it — blue within the budget, red beyond it — on one scale for
every row, with the amounts written at the end of the bars.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from node.i18n import _

from ...labels import fmt_eur
from ...qt import QColor, QFont, QFontMetrics, QPainter, QPen, QRectF, QSize, Qt, QWidget

BUDGET = QColor("#c9d6e3")
ACTUAL = QColor("#2b6cb0")
OVER = QColor("#b3261e")
INK = QColor("#1f2d3d")
MUTED = QColor("#5b6775")
GRID = QColor("#e3e7ec")

ROW = 36  # pixels per account, at least
BAR = 12
LEGEND = 30
AXIS = 22


@dataclass(frozen=True)
class Bar:
    label: str
    budget: int  # cents
    actual: int


def axis_text(cents: int) -> str:
    """A grid line's amount in whole euros: ``€20,000``, ``20 000 €``."""
    return re.sub(r"[.,]00(?=\D*$)", "", fmt_eur(cents))


def nice_step(top: int, most: int = 8) -> int:
    """A round step (1, 2 or 5 × 10ⁿ cents) giving at most ``most`` grid lines."""
    most = max(most, 1)
    step = 1
    while top / step > most:
        for factor in (2, 5, 10):
            if top / (step * factor) <= most:
                return step * factor
        step *= 10
    return step


class BudgetChart(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("budgetChart")
        self.bars: tuple[Bar, ...] = ()
        self.painted = 0  # how many times the bars were drawn (tests look)
        self.setMinimumHeight(LEGEND + AXIS + ROW * 2)

    def set_bars(self, bars: Sequence[Bar]) -> None:
        self.bars = tuple(bars)
        self.setMinimumHeight(LEGEND + AXIS + ROW * max(2, len(self.bars)) + 8)
        self.updateGeometry()
        self.update()

    def sizeHint(self) -> QSize:
        return QSize(640, LEGEND + AXIS + ROW * max(2, len(self.bars)) + 8)

    def paintEvent(self, _event: object) -> None:
        painter = QPainter(self)
        try:
            painter.setRenderHint(QPainter.RenderHint.Antialiasing)
            painter.fillRect(self.rect(), QColor("#ffffff"))
            if not self.bars:
                painter.setPen(MUTED)
                painter.drawText(
                    self.rect(),
                    Qt.AlignmentFlag.AlignCenter,
                    _("No budget and no charges for this year yet."),
                )
                return
            self._paint(painter)
            self.painted += 1
        finally:
            painter.end()

    def _paint(self, painter: QPainter) -> None:
        font = QFont(self.font())
        metrics = QFontMetrics(font)
        width = self.width()
        label_width = min(
            max(metrics.horizontalAdvance(b.label) for b in self.bars) + 16, int(width * 0.38)
        )
        amount_width = metrics.horizontalAdvance(fmt_eur(max(self._top(), 1))) + 14
        left, right = label_width, width - amount_width - 8
        top_y = LEGEND
        row_height = max(
            ROW, min(ROW * 3 // 2, (self.height() - LEGEND - AXIS - 8) // len(self.bars))
        )
        plot_height = row_height * len(self.bars)
        top = self._top()
        span = max(right - left, 1)
        tick_width = metrics.horizontalAdvance(axis_text(top)) + 16
        step = nice_step(top, span // tick_width)
        scale_top = -(-top // step) * step

        def x_of(cents: int) -> float:
            return left + span * cents / scale_top

        self._legend(painter, metrics, left)
        # grid and axis
        painter.setPen(QPen(GRID, 1))
        small = QFont(font)
        small.setPointSizeF(max(7.0, font.pointSizeF() - 1))
        for tick in range(0, scale_top + 1, step):
            x = x_of(tick)
            painter.setPen(QPen(GRID, 1))
            painter.drawLine(int(x), top_y, int(x), top_y + plot_height)
            painter.setPen(MUTED)
            painter.setFont(small)
            painter.drawText(
                QRectF(x - 60, top_y + plot_height + 2, 120, AXIS - 4),
                Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop,
                axis_text(tick),
            )
        painter.setFont(font)
        for index, bar in enumerate(self.bars):
            y = top_y + index * row_height
            painter.setPen(INK)
            painter.drawText(
                QRectF(0, y, label_width - 10, row_height),
                Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter,
                metrics.elidedText(bar.label, Qt.TextElideMode.ElideRight, label_width - 12),
            )
            middle = y + row_height / 2
            budget_rect = QRectF(left, middle - BAR - 1, x_of(bar.budget) - left, BAR)
            actual_rect = QRectF(left, middle + 1, x_of(bar.actual) - left, BAR)
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(BUDGET)
            painter.drawRect(budget_rect)
            painter.setBrush(OVER if bar.actual > bar.budget else ACTUAL)
            painter.drawRect(actual_rect)
            painter.setPen(MUTED)
            painter.drawText(
                QRectF(budget_rect.right() + 6, budget_rect.top() - 2, amount_width, BAR + 4),
                Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
                fmt_eur(bar.budget),
            )
            painter.setPen(OVER if bar.actual > bar.budget else INK)
            painter.drawText(
                QRectF(actual_rect.right() + 6, actual_rect.top() - 2, amount_width, BAR + 4),
                Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
                fmt_eur(bar.actual),
            )
        painter.setPen(QPen(MUTED, 1))
        painter.drawLine(left, top_y, left, top_y + plot_height)

    def _top(self) -> int:
        return max(max(b.budget, b.actual) for b in self.bars) or 1

    def _legend(self, painter: QPainter, metrics: QFontMetrics, left: int) -> None:
        x = left
        for colour, text in (
            (BUDGET, _("Budget")),
            (ACTUAL, _("Actual")),
            (OVER, _("Actual, over budget")),
        ):
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(colour)
            painter.drawRect(QRectF(x, 9, 12, 12))
            painter.setPen(INK)
            painter.drawText(
                QRectF(x + 17, 4, metrics.horizontalAdvance(text) + 8, 22),
                Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
                text,
            )
            x += 17 + metrics.horizontalAdvance(text) + 22
