"""What the PDF tests share: sample documents, reading a PDF back with
pypdf, a fake translation, and decoding a QR code from a rendered page.

(Named ``test_pdf_*`` so that it sits with the PDF tests; it holds no test.)
"""

from __future__ import annotations

import shutil
import subprocess
from datetime import date
from io import BytesIO
from pathlib import Path

import pypdf
import pytest

from node.domain.registry import Address, Association
from node.pdf.call_for_funds import CallNotice, Fund, NoticeLine
from node.pdf.layout import Letterhead, Recipient, Syndic
from node.pdf.payment import PaymentDetails

ROOT = Path(__file__).resolve().parent.parent

IBAN = "BE68539007547034"
REFERENCE = "+++123/4567/89002+++"


def association() -> Association:
    return Association(
        name="ACP Résidence Les Tilleuls",
        quota_total=10_000,
        bce_number="0403170701",
        address=Address("Avenue des Tilleuls 12", "1180", "Uccle"),
    )


def letterhead() -> Letterhead:
    syndic = Syndic(
        "Gestion Dupont SRL",
        Address("Avenue Louise 54", "1050", "Ixelles"),
        phone="02 123 45 67",
        email="syndic@gestion-dupont.be",
    )
    return Letterhead(association(), syndic)


def payment(reference: str = REFERENCE) -> PaymentDetails:
    return PaymentDetails(IBAN, "ACP Résidence Les Tilleuls", reference, bic="GKCCBEBB")


def recipient(name: str = "Madame Françoise Dœuvre-Müller") -> Recipient:
    return Recipient(name, Address("Rue de l’Église 3 bte 2", "1000", "Bruxelles"))


def notice(
    language: str = "fr",
    lines: tuple[NoticeLine, ...] | None = None,
    **changes: object,
) -> CallNotice:
    """A working-fund call for the second quarter of 2027: lot A3 for
    1 234,56 € and cellar C12 for 65,44 € (total 1 300,00 €)."""
    if lines is None:
        lines = (
            NoticeLine("A3", 945, 10_000, 123_456),
            NoticeLine("C12", 53, 10_000, 6_544, key_name="Ascenseur"),
        )
    values: dict[str, object] = {
        "letterhead": letterhead(),
        "language": language,
        "recipient": recipient(),
        "fund": Fund.WORKING,
        "period_start": date(2027, 4, 1),
        "period_end": date(2027, 6, 30),
        "issued_on": date(2027, 3, 15),
        "due_date": date(2027, 4, 15),
        "lines": lines,
        "payment": payment(),
        "period_label": "2e trimestre 2027",
        "reference": "AF 2027/2",
    }
    values.update(changes)
    return CallNotice(**values)  # type: ignore[arg-type]


class MarkedTranslations:
    """A translation that shows which messages went through it: every
    message comes back as ``«[lang] message»``."""

    def __init__(self, language: str):
        self.language = language

    def gettext(self, message: str) -> str:
        return f"«[{self.language}] {message}»"

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        return self.gettext(singular if n == 1 else plural)


def plain(text: str) -> str:
    """Text with its no-break spaces made plain (pypdf and Babel write
    them differently)."""
    return text.replace("\xa0", " ").replace("\u202f", " ")


def pages_text(data: bytes) -> list[str]:
    reader = pypdf.PdfReader(BytesIO(data))
    return [plain(page.extract_text()) for page in reader.pages]


def reader(data: bytes) -> pypdf.PdfReader:
    return pypdf.PdfReader(BytesIO(data))


@pytest.fixture(scope="session")
def qr_tools() -> None:
    """zbarimg (zbar-tools) and pdftoppm (poppler-utils), installed when missing."""
    tools = ("zbarimg", "pdftoppm")
    if not all(shutil.which(t) for t in tools):
        script = ROOT / "scripts" / "system-deps.sh"
        subprocess.run(
            [str(script), "zbar-tools", "poppler-utils"], check=False, timeout=900, text=True
        )
    missing = [t for t in tools if not shutil.which(t)]
    if missing:
        pytest.skip(f"cannot install {', '.join(missing)} (zbar-tools, poppler-utils) here")


def decode_qr_image(image: Path) -> str:
    """The text of the one QR code in ``image``, read as UTF-8 bytes."""
    command = ["zbarimg", "--quiet", "--raw", "-Sbinary", str(image)]
    result = subprocess.run(command, capture_output=True, timeout=60)
    if result.returncode != 0:  # zbar before 0.23 has no -Sbinary
        command.remove("-Sbinary")
        result = subprocess.run(command, capture_output=True, timeout=60)
    assert result.returncode == 0, result.stderr.decode(errors="replace")
    return result.stdout.decode("utf-8").removesuffix("\n")


def decode_qr_in_pdf(data: bytes, folder: Path, page: int = 1) -> str:
    """Render one page of a PDF at 300 dpi and decode its QR code."""
    pdf = folder / "document.pdf"
    pdf.write_bytes(data)
    stem = folder / "page"
    subprocess.run(
        ["pdftoppm", "-png", "-r", "300", "-f", str(page), "-l", str(page), str(pdf), str(stem)],
        check=True,
        timeout=120,
    )
    (image,) = folder.glob("page*.png")
    return decode_qr_image(image)
