"""The app's look: Fusion with a light palette and a restrained stylesheet.

One look on every OS keeps screenshots and the user guide true everywhere;
the palette is set explicitly because the stylesheet assumes light colours.
"""

from __future__ import annotations

from .qt import QApplication, QColor, QPalette

INK = "#1f2d3d"
MUTED = "#5b6775"
LINE = "#dde1e6"
ACCENT = "#2b6cb0"
DANGER = "#b3261e"

STYLESHEET = f"""
QMainWindow#mainWindow, QMainWindow#startWindow {{ background: #f4f6f8; }}
QToolButton#headerButton {{ border: 1px solid transparent; border-radius: 4px; padding: 4px 10px;
    color: {INK}; }}
QToolButton#headerButton:hover {{ border-color: {LINE}; background: #f4f6f8; }}
QToolButton#headerButton:disabled {{ color: #a7b1bc; }}
QListWidget#navigation {{ background: #1f2d3d; color: #d5dce4; border: none;
    padding-top: 6px; outline: 0; }}
QListWidget#navigation::item {{ padding-left: 16px; border-left: 3px solid transparent; }}
QListWidget#navigation::item:selected {{ background: #2d4054; color: #ffffff;
    border-left: 3px solid #5aa0e6; }}
QListWidget#navigation::item:hover:!selected {{ background: #27394b; }}
QListWidget#navigation::item:disabled {{ color: #8796a6; font-size: 8pt; font-weight: 600; }}
QWidget#header {{ background: #ffffff; border-bottom: 1px solid {LINE}; }}
QLabel#buildingName {{ font-size: 15pt; font-weight: 600; color: {INK}; }}
QLabel#buildingAddress {{ color: {MUTED}; }}
QLabel#quotaIndicator {{ padding: 6px 14px; border-radius: 13px; font-weight: 600;
    background: #e3f4e8; color: #1e6b34; }}
QLabel#quotaIndicator[mismatch="true"] {{ background: #fde7e6; color: {DANGER}; }}
QLabel#pageTitle {{ font-size: 13pt; font-weight: 600; color: {INK}; }}
QLabel#sectionTitle {{ font-weight: 600; color: {INK}; padding: 4px 0; }}
QLabel#budgetTotal[wrong="true"] {{ color: {DANGER}; }}
QLabel#hint {{ color: {MUTED}; }}
QLabel#inlineError, QLabel#lotProblems {{ color: {DANGER}; }}
QLabel#shareSummary {{ color: {INK}; }}
QWidget#problemsPanel {{ background: #ffffff; border-top: 1px solid {LINE}; }}
QLabel#problemsTitle {{ font-weight: 600; color: {INK}; }}
QListWidget#problemsList {{ border: none; background: #ffffff; }}
QListWidget#problemsList::item {{ padding: 3px 2px; }}
QTableView {{ background: #ffffff; alternate-background-color: #f7f9fb; border: 1px solid {LINE};
    selection-background-color: #d3e4f6; selection-color: {INK}; gridline-color: {LINE}; }}
QHeaderView::section {{ background: #eef1f4; border: none; border-bottom: 1px solid {LINE};
    border-right: 1px solid {LINE}; padding: 5px 8px; font-weight: 600; color: #3a4654; }}
QGroupBox {{ background: #ffffff; border: 1px solid {LINE}; border-radius: 6px;
    margin-top: 14px; padding: 14px 12px 10px 12px; font-weight: 600; color: {INK}; }}
QGroupBox::title {{ subcontrol-origin: margin; left: 10px; padding: 0 4px; }}
QGroupBox QLabel, QGroupBox QLineEdit, QGroupBox QSpinBox, QGroupBox QDateEdit {{
    font-weight: normal; }}
QFrame#card {{ background: #ffffff; border: 1px solid {LINE}; border-radius: 8px; }}
QLabel#cardTitle {{ font-size: 17pt; font-weight: 600; color: {INK}; }}
QLabel#cardText {{ color: {MUTED}; }}
QPushButton {{ padding: 5px 14px; }}
QPushButton#primary {{ background: {ACCENT}; color: #ffffff; border: 1px solid #245a93;
    border-radius: 4px; padding: 6px 18px; }}
QPushButton#primary:hover {{ background: #2f77c2; }}
QPushButton#primary:disabled {{ background: #9db8d6; border-color: #9db8d6; }}
QStatusBar QLabel {{ color: {MUTED}; padding: 0 8px; }}
QLabel#readOnly {{ color: {DANGER}; font-weight: 600; }}
QLabel#working {{ color: {ACCENT}; font-weight: 600; }}
QToolButton#syncIndicator {{ border: none; padding: 0 8px; color: {MUTED}; }}
QToolButton#syncIndicator:hover {{ text-decoration: underline; }}
QToolButton#syncIndicator[syncState="ok"] {{ color: #1e6b34; }}
QToolButton#syncIndicator[syncState="syncing"] {{ color: {ACCENT}; }}
QToolButton#syncIndicator[syncState="offline"] {{ color: #9a5b00; }}
QToolButton#syncIndicator[syncState="notice"] {{ color: #9a5b00; }}
QToolButton#syncIndicator[syncState="stopped"] {{ color: {DANGER}; font-weight: 600; }}
QToolButton#syncIndicator[syncState="outdated"] {{ color: {DANGER}; font-weight: 600; }}
QLabel#readOnlyBanner {{ background: #fff4d6; color: #6b4a00; border-bottom: 1px solid #f0dca0;
    padding: 8px 20px; }}
QLabel#inviteCode {{ font-family: "DejaVu Sans Mono", monospace; font-size: 30pt;
    font-weight: 600; color: {INK}; letter-spacing: 3px; padding: 8px; }}
QLabel#relayState {{ color: {INK}; font-weight: 600; }}
QLabel#messageTitle {{ font-size: 12pt; font-weight: 600; color: {INK}; }}
QPlainTextEdit#messageText {{ background: #ffffff; border: 1px solid {LINE}; padding: 6px;
    color: {INK}; }}
QLineEdit#pinField {{ font-size: 14pt; padding: 4px; }}
QLabel#allocationCheck {{ color: {MUTED}; padding: 2px 0; }}
QLabel#allocationCheck[ok="true"] {{ color: #1e6b34; font-weight: 600; }}
QLabel#allocationCheck[ok="false"] {{ color: {DANGER}; font-weight: 600; }}
QLabel#reserveStatus {{ font-weight: 600; }}
QLabel#reserveStatus[state="ok"] {{ color: #1e6b34; }}
QLabel#reserveStatus[state="problem"] {{ color: {DANGER}; }}
QLabel#reserveStatus[state="info"] {{ color: {ACCENT}; }}
QLabel#budgetTotal, QLabel#statementTotal, QLabel#balancesTotals {{ font-weight: 600; color: {INK};
    padding: 4px 2px; }}
QLabel#statementBalance {{ font-weight: 600; }}
QLabel#statementBalance[due="true"] {{ color: {DANGER}; }}
QLabel#importReport {{ color: #1e6b34; }}
QLabel#importReport[ok="false"] {{ color: {DANGER}; }}
QScrollArea#noticePreview {{ background: #e9edf1; border: 1px solid {LINE}; }}
QFrame#paper {{ background: #ffffff; }}
QLabel#noticeSender {{ font-weight: 600; color: {INK}; }}
QLabel#noticeRecipient {{ font-weight: 600; color: {INK}; }}
QLabel#noticeTitle {{ font-size: 12pt; font-weight: 600; color: {INK}; padding-top: 6px; }}
QLabel#noticeMuted {{ color: {MUTED}; }}
QLabel#noticeHeader {{ color: {MUTED}; font-weight: 600; border-bottom: 1px solid {LINE}; }}
QLabel#noticeStrong {{ font-weight: 600; color: {INK}; }}
QFrame#paymentBlock {{ border: 1px solid {INK}; border-radius: 2px; background: #ffffff; }}
QLabel#structuredReference {{ font-family: "DejaVu Sans Mono", monospace; font-size: 11pt;
    font-weight: 600; color: {INK}; }}
QToolButton#pdfMenuButton {{ padding: 5px 14px; }}
QLabel#roomSection {{ font-size: 11pt; font-weight: 600; color: {MUTED}; }}
QLabel#resolutionTitle {{ font-size: 19pt; font-weight: 600; color: {INK}; }}
QLabel#majorityLine, QLabel#quorumFigures {{ font-size: 12pt; color: {INK}; }}
QTableView#attendanceTable {{ font-size: 12pt; }}
QTableView#votesTable {{ font-size: 13pt; }}
QPushButton#roomButton {{ font-size: 11pt; padding: 6px 12px; }}
QFrame#quorumBox, QFrame#tallyPanel {{ background: #ffffff; border: 1px solid {LINE};
    border-radius: 6px; }}
QLabel#quorumVerdict, QLabel#tallyVerdict {{ font-size: 13pt; font-weight: 600; color: {INK}; }}
QLabel#quorumVerdict[reached="true"], QLabel#tallyVerdict[passed="true"] {{ color: #1e6b34; }}
QLabel#quorumVerdict[reached="false"], QLabel#tallyVerdict[passed="false"] {{ color: {DANGER}; }}
QLabel#tallyFigure {{ font-size: 21pt; font-weight: 600; color: {INK}; }}
QLabel#roomError {{ color: {DANGER}; font-size: 12pt; font-weight: 600; }}
QLabel#ballotQuestion {{ font-size: 12pt; font-weight: 600; color: {INK}; }}
"""


def light_palette() -> QPalette:
    palette = QPalette()
    colours = {
        QPalette.ColorRole.Window: "#f4f6f8",
        QPalette.ColorRole.WindowText: INK,
        QPalette.ColorRole.Base: "#ffffff",
        QPalette.ColorRole.AlternateBase: "#f7f9fb",
        QPalette.ColorRole.Text: INK,
        QPalette.ColorRole.Button: "#f3f5f7",
        QPalette.ColorRole.ButtonText: INK,
        QPalette.ColorRole.Highlight: ACCENT,
        QPalette.ColorRole.HighlightedText: "#ffffff",
        QPalette.ColorRole.ToolTipBase: "#ffffff",
        QPalette.ColorRole.ToolTipText: INK,
        QPalette.ColorRole.PlaceholderText: "#8a96a3",
        QPalette.ColorRole.Link: ACCENT,
    }
    for role, colour in colours.items():
        palette.setColor(role, QColor(colour))
    palette.setColor(QPalette.ColorGroup.Disabled, QPalette.ColorRole.ButtonText, QColor("#9aa5b1"))
    palette.setColor(QPalette.ColorGroup.Disabled, QPalette.ColorRole.Text, QColor("#9aa5b1"))
    palette.setColor(QPalette.ColorGroup.Disabled, QPalette.ColorRole.WindowText, QColor("#9aa5b1"))
    return palette


def apply_style(app: QApplication) -> None:
    app.setStyle("Fusion")
    app.setPalette(light_palette())
    app.setStyleSheet(STYLESHEET)
