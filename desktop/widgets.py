"""Small widgets every screen uses: the error dialog, an inline error line,
a hint line, the "please wait" box, and the base of the record dialogs.

Dialogs are opened with ``open()`` (window-modal, not blocking), never
``exec()``: the worker's answers keep arriving while a dialog is up, and
tests can drive a dialog like any other widget.
"""

from __future__ import annotations

from node.i18n import _

from .qt import (
    QDialog,
    QDialogButtonBox,
    QFontMetrics,
    QFormLayout,
    QLabel,
    QLayout,
    QMessageBox,
    QPainter,
    QProgressDialog,
    QPushButton,
    QRect,
    QSize,
    QSizePolicy,
    Qt,
    QTimer,
    QVBoxLayout,
    QWidget,
    Signal,
    isValid,
)


def show_error(parent: QWidget | None, message: str, title: str | None = None) -> QMessageBox:
    """Tell the user what went wrong, in a window-modal box that does not block."""
    box = QMessageBox(parent)
    box.setObjectName("errorBox")
    box.setIcon(QMessageBox.Icon.Warning)
    box.setWindowTitle(title or _("KoproGo"))
    box.setText(message)
    box.setStandardButtons(QMessageBox.StandardButton.Ok)
    box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    box.open()
    return box


class ErrorLabel(QLabel):
    """A red line under a form that explains why the input was refused."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("inlineError")
        self.setWordWrap(True)
        self.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Minimum)
        self.hide()

    def show_message(self, message: str) -> None:
        self.setText(message)
        self.setVisible(bool(message))

    def clear_message(self) -> None:
        self.show_message("")


def hint(text: str = "") -> QLabel:
    """A line of explanation in the hint style, wrapped to the width it has."""
    label = QLabel(text)
    label.setObjectName("hint")
    label.setWordWrap(True)
    return label


class WaitDialog(QProgressDialog):
    """A small "please wait" box with a busy bar and no buttons, for a step
    that has no window of its own to show it (opening a building). It
    appears only if the step lasts longer than ``delay_ms``, so a quick
    step shows nothing; :meth:`finish` closes it, shown or not."""

    def __init__(self, message: str, parent: QWidget | None = None, delay_ms: int = 300) -> None:
        super().__init__(message, "", 0, 0, parent)
        self.setObjectName("waitDialog")
        self.setWindowTitle(_("KoproGo"))
        self.setCancelButton(None)
        self.setMinimumWidth(320)
        self.setAutoClose(False)
        self.setAutoReset(False)
        if parent is not None:
            self.setWindowModality(Qt.WindowModality.WindowModal)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self.show)
        self._timer.start(delay_ms)

    def finish(self) -> None:
        self._timer.stop()
        self.close()
        self.deleteLater()

    def keyPressEvent(self, event) -> None:  # type: ignore[no-untyped-def]
        if event.key() != Qt.Key.Key_Escape:  # nothing to cancel: Esc does nothing
            super().keyPressEvent(event)


class RecordDialog(QDialog):
    """A form in a dialog whose Save asks the node and closes only when the
    node accepted the edit; a refusal is shown inside the dialog."""

    submitted = Signal()

    def __init__(self, title: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(title)
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.setMinimumWidth(420)
        layout = QVBoxLayout(self)
        self.form = QFormLayout()
        self.form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.ExpandingFieldsGrow)
        layout.addLayout(self.form)
        self.body = layout
        self.error = ErrorLabel(self)
        layout.addWidget(self.error)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel
        )
        self.save_button: QPushButton = self.buttons.button(QDialogButtonBox.StandardButton.Save)
        self.save_button.setText(_("Save"))
        self.buttons.button(QDialogButtonBox.StandardButton.Cancel).setText(_("Cancel"))
        self.buttons.accepted.connect(self._on_save)
        self.buttons.rejected.connect(self.reject)
        layout.addWidget(self.buttons)

    def _on_save(self) -> None:
        self.error.clear_message()
        self.submitted.emit()

    def show_error(self, error: Exception) -> None:
        self.error.show_message(str(error))
        self.save_button.setEnabled(True)


def alive(widget: QWidget) -> bool:
    """Whether ``widget`` still exists: a worker's answer may arrive after
    the dialog that asked was closed and deleted."""
    return isValid(widget)


class FlowLayout(QLayout):
    """Widgets left to right, going on to a new line when the room runs out
    (Qt's flow layout example). Found by hand: rows of buttons in German,
    French or Dutch were cut to "lle dafür [A" at 1280 pixels and to "…"
    at 1024; in a flow they keep their words and wrap instead."""

    def __init__(self, parent: QWidget | None = None, spacing: int = 6) -> None:
        super().__init__(parent)
        self._items: list = []
        self._spacing = spacing
        self.setContentsMargins(0, 0, 0, 0)

    def addItem(self, item) -> None:  # type: ignore[no-untyped-def]
        self._items.append(item)

    def count(self) -> int:
        return len(self._items)

    def itemAt(self, index: int):  # type: ignore[no-untyped-def]
        return self._items[index] if 0 <= index < len(self._items) else None

    def takeAt(self, index: int):  # type: ignore[no-untyped-def]
        return self._items.pop(index) if 0 <= index < len(self._items) else None

    def expandingDirections(self) -> Qt.Orientation:
        return Qt.Orientation(0)

    def hasHeightForWidth(self) -> bool:
        return True

    def heightForWidth(self, width: int) -> int:
        return self._arrange(QRect(0, 0, width, 0), move=False)

    def setGeometry(self, rect: QRect) -> None:
        super().setGeometry(rect)
        self._arrange(rect, move=True)

    def sizeHint(self) -> QSize:
        return self.minimumSize()

    def minimumSize(self) -> QSize:
        size = QSize()
        for item in self._items:
            size = size.expandedTo(item.minimumSize())
        return size

    def _arrange(self, rect: QRect, move: bool) -> int:
        x, y, line = rect.x(), rect.y(), 0
        parent = self.parentWidget()
        for item in self._items:
            widget = item.widget()
            if widget is not None and parent is not None and not widget.isVisibleTo(parent):
                continue  # a hidden button takes no room
            hint = item.sizeHint()
            if x > rect.x() and x + hint.width() > rect.right() + 1:
                x, y, line = rect.x(), y + line + self._spacing, 0
            if move:
                item.setGeometry(QRect(x, y, hint.width(), hint.height()))
            x += hint.width() + self._spacing
            line = max(line, hint.height())
        return y + line - rect.y()


class ElidedLabel(QLabel):
    """A one-line label that ends with "…" where its room ends, the whole
    text in its tooltip (found by hand: at 1024 pixels the header showed
    "ACP Résidence Les Tilleu" and "BCE 0842." cut mid-word)."""

    def __init__(self, text: str = "", parent: QWidget | None = None) -> None:
        super().__init__(text, parent)
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)

    def setText(self, text: str) -> None:
        super().setText(text)
        self.setToolTip(text)

    def minimumSizeHint(self) -> QSize:
        return QSize(0, super().minimumSizeHint().height())

    def paintEvent(self, _event) -> None:  # type: ignore[no-untyped-def]
        painter = QPainter(self)
        metrics = QFontMetrics(self.font())
        shown = metrics.elidedText(self.text(), Qt.TextElideMode.ElideRight, self.width())
        painter.setPen(self.palette().color(self.foregroundRole()))
        painter.drawText(self.rect(), int(self.alignment()), shown)
