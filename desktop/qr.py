"""QR codes for invites, drawn with Qt from reportlab's QR encoder.

reportlab's ``QrCodeWidget`` renders to PNG only through renderPM, whose
backend (rlPyCairo) is not installed; its encoder
(:mod:`reportlab.graphics.barcode.qrencoder`) gives the module matrix, which
is all a QR code is, so the dialog paints that matrix itself.
"""

from __future__ import annotations

from urllib.parse import parse_qs, urlencode, urlsplit

from reportlab.graphics.barcode import qrencoder

from .qt import QColor, QImage, QPainter, Qt

QUIET_ZONE = 4  # modules of white around the code, as the standard asks


def join_link(relay_url: str, code: str) -> str:
    """What the invite's QR code holds: ``koprogo://join?relay=<url>&code=<code>``."""
    return "koprogo://join?" + urlencode({"relay": relay_url, "code": code}, safe=":/")


def qr_matrix(text: str) -> list[list[bool]]:
    """The dark (True) and light modules of the smallest QR code holding
    ``text`` (error correction M: a quarter of a printed code may be damaged)."""
    code = qrencoder.QRCode(None, qrencoder.QRErrorCorrectLevel.M)
    code.addData(text)
    code.make()
    size = code.getModuleCount()
    return [[bool(code.isDark(row, col)) for col in range(size)] for row in range(size)]


def qr_image(text: str, module: int = 6) -> QImage:
    """``text`` as a black-on-white QR code, ``module`` pixels per module."""
    return matrix_image(qr_matrix(text), module)


def matrix_image(matrix: list[list[bool]], module: int = 6) -> QImage:
    """A QR code's module matrix (from any encoder) as a black-on-white image."""
    side = (len(matrix) + 2 * QUIET_ZONE) * module
    image = QImage(side, side, QImage.Format.Format_RGB32)
    image.fill(QColor("#ffffff"))
    painter = QPainter(image)
    try:
        for row, cells in enumerate(matrix):
            for col, dark in enumerate(cells):
                if dark:
                    painter.fillRect(
                        (col + QUIET_ZONE) * module,
                        (row + QUIET_ZONE) * module,
                        module,
                        module,
                        Qt.GlobalColor.black,
                    )
    finally:
        painter.end()
    return image


def parse_join_link(text: str) -> tuple[str, str] | None:
    """(relay address, code) from a ``koprogo://join`` link, else None."""
    text = text.strip()
    if not text.startswith("koprogo://join?"):
        return None
    query = parse_qs(urlsplit(text).query)
    relay, code = query.get("relay", [""])[0], query.get("code", [""])[0]
    return (relay, code) if relay and code else None
