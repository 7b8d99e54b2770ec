"""The main window: navigation, the building's pages, problems, undo/redo,
the devices page and the sync indicator.

It holds no data of its own beyond the last :class:`~desktop.state.RegistryState`
the worker sent; after each change it hands the new state to the pages whose
collections the change touched (STYLE §3). A sync round that brought other
devices' changes arrives the same way, as a change of every collection.

On a device that may not change the registry (a council member's) the edit
buttons are off and a banner says why; on one that may not even read it (an
owner's, the building's shared computer) the building's pages say so, and
the window opens on what that device is for: the owner's own inbox, or the
residents' inboxes behind their PINs on the shared computer.
"""

from __future__ import annotations

from node.domain.identifiers import format_bce
from node.domain.registry import LotType, quota_sum
from node.domain.validation import Problem
from node.i18n import N_, _, ngettext
from node.services.registry import ALL, Change

from .labels import fmt_int, key_storage_label, lot_type_label, natural_key, role_label
from .ops import Ops
from .pages.accounts import ACCOUNT_PAGES, AccountsContext
from .pages.assembly import ASSEMBLY_PAGES, AssemblyContext
from .pages.association import AssociationPage
from .pages.base import Page
from .pages.devices import DevicesPage
from .pages.energy import ENERGY_PAGES, EnergyContext
from .pages.governance import GOVERNANCE_PAGES, TASKS_PAGE, GovernanceContext, TaskAlert
from .pages.inbox import KioskInboxPage, MyInboxPage
from .pages.keys import KeysPage
from .pages.lots import LotsPage
from .pages.ownership import OwnershipPage
from .pages.persons import PersonsPage
from .problems import PAGE_OF_CODE, ProblemsPanel
from .qt import (
    QAction,
    QCloseEvent,
    QHBoxLayout,
    QKeySequence,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QMainWindow,
    QMessageBox,
    QPushButton,
    QShortcut,
    QSize,
    QSplitter,
    QStackedWidget,
    Qt,
    QTimer,
    QToolButton,
    QVBoxLayout,
    QWidget,
    Signal,
)
from .settings import app_settings
from .state import RegistryState, SessionInfo, Update, read_state
from .sync import SyncController, SyncStatus
from .sync_widgets import SyncIndicator, SyncPanel
from .table import Column, RecordTable
from .widgets import ElidedLabel, alive

PAGES: tuple[tuple[str, type[Page]], ...] = (
    ("association", AssociationPage),
    ("lots", LotsPage),
    ("persons", PersonsPage),
    ("ownership", OwnershipPage),
    ("keys", KeysPage),
)

PAGE_ROLE = Qt.ItemDataRole.UserRole + 1
REGISTRY_ONLY = frozenset({"association", "persons", "ownership", "keys"})
"""Registry pages with nothing to show where the registry is not kept (the
Lots page shows the building's directory there)."""

DIRECTORY_COLUMNS = (
    Column(N_("Lot"), lambda r: r.number, sort=lambda r: natural_key(r.number)),
    Column(N_("Type"), lambda r: _lot_type(r.type)),
    Column(N_("Quota"), lambda r: fmt_int(r.quota), sort=lambda r: r.quota, numeric=True),
    Column(N_("Votes for the lot"), lambda r: r.voter or "—"),
)


def _lot_type(value: str) -> str:
    try:
        return lot_type_label(LotType(value))
    except ValueError:  # a type a newer version knows
        return value


# The inbox page each kind of device shows (none on management's devices:
# their Persons page shows every person's inbox).
INBOX_PAGES = ("inbox", "residents")


NAV_ROOM = 16 + 3 + 12 + 20  # item padding, selection border, margin, scroll bar


class MainWindow(QMainWindow):
    new_building_requested = Signal()
    open_requested = Signal()
    settings_requested = Signal()
    relay_settings_requested = Signal()
    close_requested = Signal()

    def __init__(
        self, ops: Ops, info: SessionInfo, sync: SyncController, page: str = "lots"
    ) -> None:
        super().__init__()
        self.setObjectName("mainWindow")
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.ops = ops
        self.info = info
        self.sync = sync
        self.sync_panel: SyncPanel | None = None
        self.state: RegistryState | None = None
        self.allow_close = False
        self._close_asked = False
        self.unsent_box: QMessageBox | None = None  # "changes not sent yet", while open
        self.setWindowTitle(_("KoproGo"))
        self.setMinimumSize(QSize(960, 600))

        self.pages: dict[str, Page] = {}
        self.stack = QStackedWidget()
        for name, page_class in PAGES:
            page_widget = page_class(ops)
            page_widget.setObjectName(f"page_{name}")
            page_widget.message.connect(self.notify)
            page_widget.navigate.connect(self.go_to)
            self.pages[name] = page_widget
            self.stack.addWidget(page_widget)
        # The accounts: management's devices only (owners' and the shared
        # computer's cannot read the ledger), one fiscal year for all pages.
        self.accounts = AccountsContext(self)
        for name, page_class in ACCOUNT_PAGES:
            page_widget = page_class(ops, self.accounts)
            page_widget.setObjectName(f"page_{name}")
            page_widget.message.connect(self.notify)
            page_widget.navigate.connect(self.go_to)
            self.pages[name] = page_widget
            self.stack.addWidget(page_widget)
        # The assemblies: every device sees its meetings; what each may do
        # there (run them, vote remotely, watch) is read on the worker.
        self.assembly = AssemblyContext(ops, self)
        for name, page_class in ASSEMBLY_PAGES:
            page_widget = page_class(ops, self.assembly)
            page_widget.setObjectName(f"page_{name}")
            page_widget.message.connect(self.notify)
            page_widget.navigate.connect(self.go_to)
            self.pages[name] = page_widget
            self.stack.addWidget(page_widget)
        # The group energy purchase: the syndic runs campaigns, owners take part.
        self.energy = EnergyContext(ops, self)
        for name, page_class in ENERGY_PAGES:
            page_widget = page_class(ops, self.energy)
            page_widget.setObjectName(f"page_{name}")
            page_widget.message.connect(self.notify)
            page_widget.navigate.connect(self.go_to)
            self.pages[name] = page_widget
            self.stack.addWidget(page_widget)
        self.devices = DevicesPage(ops, sync)
        self.devices.setObjectName("page_devices")
        self.devices.message.connect(self.notify)
        self.devices.connect_button.clicked.connect(self.relay_settings_requested)
        self.pages["devices"] = self.devices
        self.stack.addWidget(self.devices)
        self.my_inbox = MyInboxPage(ops, sync)
        self.residents = KioskInboxPage(ops, sync)
        for name, page_widget in (("inbox", self.my_inbox), ("residents", self.residents)):
            page_widget.setObjectName(f"page_{name}")
            page_widget.message.connect(self.notify)
            self.pages[name] = page_widget
            self.stack.addWidget(page_widget)
        self._inbox_opened = False  # the window went to the device's inbox page once
        # The council, the auditor, the syndic's mandate and tasks: the syndic's device only.
        self.governance = GovernanceContext(ops, self)
        for name, page_class in GOVERNANCE_PAGES:
            page_widget = page_class(ops, self.governance)
            page_widget.setObjectName(f"page_{name}")
            page_widget.message.connect(self.notify)
            page_widget.navigate.connect(self.go_to)
            self.pages[name] = page_widget
            self.stack.addWidget(page_widget)
        self.unavailable = self._make_unavailable()
        self.stack.addWidget(self.unavailable)

        self.nav = self._make_navigation()
        self._show_inbox_entries(sync.status)
        self._show_assembly_entries()
        self.assembly.access_changed.connect(self._show_assembly_entries)
        self._show_energy_entries()
        self.energy.access_changed.connect(self._show_energy_entries)
        self._show_governance_entries()
        self.governance.access_changed.connect(self._show_governance_entries)
        self.problems = ProblemsPanel()
        self.problems.activated.connect(self.show_problem)

        self.building_name = ElidedLabel()
        self.building_name.setObjectName("buildingName")
        self.building_address = ElidedLabel()
        self.building_address.setObjectName("buildingAddress")
        self.quota_indicator = QLabel()
        self.quota_indicator.setObjectName("quotaIndicator")
        self.quota_indicator.setToolTip(_("Sum of the lots' quotas / quota total of the deed"))

        header = QWidget()
        header.setObjectName("header")
        header_layout = QHBoxLayout(header)
        header_layout.setContentsMargins(20, 12, 20, 12)
        titles = QVBoxLayout()
        titles.setSpacing(2)
        titles.addWidget(self.building_name)
        titles.addWidget(self.building_address)
        header_layout.addLayout(titles, 1)
        self._make_actions()
        for widget in (self.undo_button, self.redo_button, self.quota_indicator):
            header_layout.addWidget(widget, 0, Qt.AlignmentFlag.AlignVCenter)
        header_layout.insertSpacing(header_layout.count() - 1, 12)

        content = QSplitter(Qt.Orientation.Vertical)
        content.addWidget(self.stack)
        content.addWidget(self.problems)
        content.setStretchFactor(0, 4)
        content.setStretchFactor(1, 1)
        content.setChildrenCollapsible(False)
        content.setSizes([620, 120])

        right = QWidget()
        right_layout = QVBoxLayout(right)
        right_layout.setContentsMargins(0, 0, 0, 0)
        right_layout.setSpacing(0)
        right_layout.addWidget(header)
        self.banner = QLabel()
        self.banner.setObjectName("readOnlyBanner")
        self.banner.setWordWrap(True)
        self.banner.hide()
        right_layout.addWidget(self.banner)
        self.task_alert = TaskAlert(self.governance)
        self.task_alert.open_tasks.connect(lambda: self.go_to(TASKS_PAGE))
        right_layout.addWidget(self.task_alert)
        right_layout.addWidget(content, 1)

        body = QSplitter(Qt.Orientation.Horizontal)
        body.addWidget(self.nav)
        body.addWidget(right)
        body.setStretchFactor(1, 1)
        body.setChildrenCollapsible(False)
        body.setSizes([self.nav_width, 1280 - self.nav_width])
        self.setCentralWidget(body)

        self._make_status_bar()
        geometry = app_settings().value("main/geometry")
        if geometry is not None:
            self.restoreGeometry(geometry)
        else:
            self.resize(1280, 800)
        self.go_to(page)
        ops.changed.connect(self.apply_update)
        ops.slow.connect(self.show_working)
        sync.status_changed.connect(self._on_sync_status)
        sync.synced.connect(self._after_sync)

    # -- building the window ------------------------------------------------------

    def _make_navigation(self) -> QListWidget:
        nav = QListWidget()
        nav.setObjectName("navigation")
        # by pixel: by item, with hidden entries, scrolling to one fell short
        nav.setVerticalScrollMode(QListWidget.ScrollMode.ScrollPerPixel)
        # Explicit heights: stylesheet padding does not reach item size hints.
        sections = (
            (_("Building"), [name for name, _page in PAGES]),
            (_("Accounts"), [name for name, _page in ACCOUNT_PAGES]),
            (_("Assemblies"), [name for name, _page in ASSEMBLY_PAGES]),
            (_("Energy"), [name for name, _page in ENERGY_PAGES]),
            (_("Governance"), [name for name, _page in GOVERNANCE_PAGES]),
            (_("Messages"), list(INBOX_PAGES)),
            (_("Sync"), ["devices"]),
        )
        for title, names in sections:
            section = QListWidgetItem(title.upper())
            section.setFlags(Qt.ItemFlag.NoItemFlags)
            section.setSizeHint(QSize(0, 34))
            nav.addItem(section)
            if names == list(INBOX_PAGES):
                self.messages_section = section
            if names and names[0] == ACCOUNT_PAGES[0][0]:
                self.accounts_section = section
            for name in names:
                item = QListWidgetItem(self.pages[name].title())
                item.setData(PAGE_ROLE, name)
                item.setSizeHint(QSize(0, 36))
                nav.addItem(item)
        # As wide as its longest label in this language (found by hand: Dutch,
        # French and German labels were cut), within reason.
        widest = max(
            nav.fontMetrics().horizontalAdvance(nav.item(r).text()) for r in range(nav.count())
        )
        self.nav_width = max(180, min(340, widest + NAV_ROOM))
        nav.setMinimumWidth(self.nav_width)
        nav.setMaximumWidth(max(260, self.nav_width))
        nav.currentItemChanged.connect(self._on_nav)
        for number, name in enumerate(list(self.pages)[:9], start=1):  # Ctrl+1 … Ctrl+9
            shortcut = QShortcut(QKeySequence(f"Ctrl+{number}"), self)
            shortcut.activated.connect(lambda name=name: self.go_to(name))
        return nav

    def _make_actions(self) -> None:
        self.undo_action = QAction(_("&Undo"), self)
        self.undo_action.setShortcut(QKeySequence(QKeySequence.StandardKey.Undo))
        self.undo_action.triggered.connect(self.undo)
        self.redo_action = QAction(_("&Redo"), self)
        self.redo_action.setShortcuts([QKeySequence("Ctrl+Shift+Z"), QKeySequence("Ctrl+Y")])
        self.redo_action.triggered.connect(self.redo)
        for action in (self.undo_action, self.redo_action):
            action.setEnabled(False)

        menu = self.menuBar().addMenu(_("&File"))
        new = menu.addAction(_("&New building…"))
        new.setShortcut(QKeySequence(QKeySequence.StandardKey.New))
        new.triggered.connect(self.new_building_requested)
        open_ = menu.addAction(_("&Open another building…"))
        open_.setShortcut(QKeySequence(QKeySequence.StandardKey.Open))
        open_.triggered.connect(self.open_requested)
        menu.addSeparator()
        settings = menu.addAction(_("&Settings…"))
        settings.setShortcut(QKeySequence("Ctrl+,"))
        settings.triggered.connect(self.settings_requested)
        self.sync_action = menu.addAction(_("S&ync now"))
        self.sync_action.setShortcut(QKeySequence("F5"))
        self.sync_action.triggered.connect(lambda: self.sync.sync_now(manual=True))
        menu.addSeparator()
        quit_ = menu.addAction(_("&Quit"))
        quit_.setShortcut(QKeySequence(QKeySequence.StandardKey.Quit))
        quit_.triggered.connect(self.close)

        edit = self.menuBar().addMenu(_("&Edit"))
        edit.addAction(self.undo_action)
        edit.addAction(self.redo_action)

        help_ = self.menuBar().addMenu(_("&Help"))
        help_.addAction(_("&About KoproGo"), self.show_about)

        self.undo_button = self._header_button(self.undo_action, "↶")
        self.redo_button = self._header_button(self.redo_action, "↷")

    def _header_button(self, action: QAction, glyph: str) -> QToolButton:
        """Undo and redo sit in the header, always in view, as text buttons."""
        button = QToolButton()
        button.setObjectName("headerButton")
        button.setDefaultAction(action)
        button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        button.setText(f"{glyph} {action.text().replace('&', '')}")
        action.changed.connect(lambda: button.setText(f"{glyph} {action.text().replace('&', '')}"))
        return button

    def _make_status_bar(self) -> None:
        self.key_storage = QLabel(
            _("Key: {where}").format(where=key_storage_label(self.info.key_storage))
        )
        self.key_storage.setObjectName("keyStorage")
        self.key_storage.setToolTip(
            _("Where this building's storage key is kept. Profile folder: {path}").format(
                path=self.info.path
            )
        )
        self.read_only = QLabel()
        self.read_only.setObjectName("readOnly")
        self.read_only.hide()
        self.working = QLabel(_("Working…"))
        self.working.setObjectName("working")
        self.working.setToolTip(
            _("KoproGo is busy with your last action; the window stays usable.")
        )
        self.working.setVisible(self.ops.is_slow)
        self.sync_indicator = SyncIndicator(self.sync)
        self.sync_indicator.clicked.connect(self.show_sync_panel)
        self.statusBar().addPermanentWidget(self.sync_indicator)
        self.statusBar().addPermanentWidget(self.working)
        self.statusBar().addPermanentWidget(self.read_only)
        self.statusBar().addPermanentWidget(self.key_storage)

    # -- showing the state ----------------------------------------------------------

    def load(self) -> None:
        """Ask the worker for the whole state (a new window, or after a rebuild)."""
        self.ops.run(read_state, on_done=lambda s: self.apply_update(Update(Change.of(*ALL), s)))

    def apply_update(self, update: Update) -> None:
        self.state = state = update.state
        touched = update.change.collections
        for page in self.pages.values():
            if page.state is None or not page.collections.isdisjoint(touched):
                page.show_state(state)
        self.problems.show_problems(state.problems)
        self._show_header(state)
        self.undo_action.setEnabled(state.can_undo)
        self.redo_action.setEnabled(state.can_redo)
        self.read_only.setText(_("Read-only") if state.read_only_reason else "")
        self.read_only.setToolTip(state.read_only_reason or "")
        self.read_only.setVisible(bool(state.read_only_reason))
        self._show_banner(state)
        self.problems.setVisible(state.readable and not state.awaited)
        self._show_accounts_entries(state.readable)
        self._show_registry_entries(state.readable)
        self._show_directory(state)
        self._show_current()
        self._open_inbox_once()

    def _show_header(self, state: RegistryState) -> None:
        association = state.registry.association
        if not state.readable:
            role = self.sync.status.role
            # Named from the directory once the syndic's device published it
            # (found by hand: owners' windows never said which building).
            self.building_name.setText(state.building_name or _("Building synced with this device"))
            if state.building_name:
                self.setWindowTitle(_("{name} — KoproGo").format(name=state.building_name))
            details = [
                state.building_address,
                _("This device: {role}").format(role=role_label(role)) if role else "",
            ]
            self.building_address.setText(" · ".join(d for d in details if d))
            self.quota_indicator.hide()
            return
        if state.awaited:
            self.building_name.setText(_("Nothing received from the syndic's device yet"))
            self.building_address.setText(
                _("The building appears here once the syndic's computer has synced with the relay.")
            )
            self.quota_indicator.hide()
            return
        if association is None:
            self.building_name.setText(_("No building"))
            self.building_address.clear()
            self.quota_indicator.hide()
            return
        self.setWindowTitle(_("{name} — KoproGo").format(name=association.name))
        self.building_name.setText(association.name)
        details = [association.address.one_line()]
        if association.bce_number:
            details.append(_("BCE/KBO {number}").format(number=format_bce(association.bce_number)))
        self.building_address.setText(" · ".join(d for d in details if d))
        total = quota_sum(state.registry.lots)
        mismatch = total != association.quota_total
        self.quota_indicator.setText(
            _("Quotas {sum} / {total}").format(
                sum=fmt_int(total), total=fmt_int(association.quota_total)
            )
        )
        self.quota_indicator.setProperty("mismatch", mismatch)
        self.quota_indicator.style().unpolish(self.quota_indicator)
        self.quota_indicator.style().polish(self.quota_indicator)
        self.quota_indicator.show()

    # -- navigation --------------------------------------------------------------------

    def _on_nav(self, item: QListWidgetItem | None, _previous: QListWidgetItem | None) -> None:
        self._show_current()
        name = item.data(PAGE_ROLE) if item else None
        if name in self.pages:
            self.pages[name].activated()

    def _show_current(self) -> None:
        """Show the page chosen in the navigation, or, on a device that
        cannot read the registry, why its pages are empty."""
        item = self.nav.currentItem()
        name = item.data(PAGE_ROLE) if item else None
        if name not in self.pages:
            return
        unreadable = self.state is not None and not self.state.readable
        if unreadable and self.pages[name].needs_registry:
            self.stack.setCurrentWidget(self.unavailable)
        else:
            self.stack.setCurrentWidget(self.pages[name])
        if self.state is not None:  # the session screen takes the whole height of the room's screen
            full_height = getattr(self.pages[name], "full_height", False)
            shown = self.state.readable and not self.state.awaited
            self.problems.setVisible(shown and not full_height)

    def current_page(self) -> str:
        item = self.nav.currentItem()
        name = item.data(PAGE_ROLE) if item else None
        return name if name in self.pages else "lots"

    def _make_unavailable(self) -> QWidget:
        """The building's pages on an owner's device or the building's shared computer."""
        page = QWidget()
        page.setObjectName("registryUnavailable")
        layout = QVBoxLayout(page)
        layout.setContentsMargins(40, 40, 40, 40)
        title = QLabel(_("The registry is not kept on this device"))
        title.setObjectName("pageTitle")
        title.setWordWrap(True)
        text = QLabel(
            _(
                "The building's registry — the owners' contact details, their shares and the "
                "distribution keys — is visible to the syndic and the council only, so this "
                "device does not receive it. It stays connected to the building and receives "
                "what concerns everyone."
            )
        )
        text.setObjectName("hint")
        text.setWordWrap(True)
        self.unavailable_text = text
        self.directory_title = QLabel(
            _("What every member sees: the lots, their quotas and who votes for each")
        )
        self.directory_title.setObjectName("sectionTitle")
        self.directory_title.setWordWrap(True)
        self.directory_table = RecordTable(DIRECTORY_COLUMNS, stretch=3, fit=True)
        self.directory_table.setObjectName("directoryTable")
        self.directory_title.hide()
        self.directory_table.hide()
        devices = QPushButton(_("See the building's devices"))
        devices.clicked.connect(lambda: self.go_to("devices"))
        self.inbox_button = QPushButton()
        self.inbox_button.setObjectName("primary")
        self.inbox_button.clicked.connect(lambda: self.go_to(self._inbox_page() or "devices"))
        self.inbox_button.hide()
        row = QHBoxLayout()
        row.addWidget(self.inbox_button)
        row.addWidget(devices)
        row.addStretch(1)
        layout.addWidget(title)
        layout.addWidget(text)
        layout.addLayout(row)
        layout.addSpacing(16)
        layout.addWidget(self.directory_title)
        layout.addWidget(self.directory_table, 1)
        layout.addStretch(0)
        return page

    def _show_directory(self, state: RegistryState) -> None:
        """On an owner's device or the shared computer: the building's
        directory in place of the registry's pages."""
        shown = not state.readable and bool(state.directory)
        self.directory_table.set_rows(state.directory if shown else ())
        self.directory_title.setVisible(shown)
        self.directory_table.setVisible(shown)

    def _show_banner(self, state: RegistryState) -> None:
        """Why this building cannot be changed here; on a device removed from
        the building, that this copy is no longer updated (found by hand: it
        kept the usual banner, as if it were still in step)."""
        if self.sync.status.removed:
            text = _(
                "This device was removed from the building: this copy is no longer updated, "
                "and changes made here are not sent. It stays on this computer until you "
                "remove it (File → Open another building → Remove from this computer)."
            )
        else:
            text = state.read_only_reason or ""
        self.banner.setText(text)
        # on every kind of device when it was removed (found by hand: an
        # owner's and the shared computer's windows only had a status line)
        self.banner.setVisible(bool(text) and (state.readable or self.sync.status.removed))

    def _on_sync_status(self, status: SyncStatus) -> None:
        self._show_inbox_entries(status)
        if self.state is not None:
            self._show_banner(self.state)
        if self.state is not None and not self.state.readable:
            self._show_header(self.state)  # it names this device's role
        self._open_inbox_once()

    def _inbox_page(self) -> str | None:
        """The inbox page of this kind of device, if it has one."""
        if self.my_inbox.available:
            return "inbox"
        if self.residents.available:
            return "residents"
        return None

    def _show_inbox_entries(self, _status: SyncStatus) -> None:
        """Only the inbox page this device uses appears in the navigation."""
        shown = self._inbox_page()
        for row in range(self.nav.count()):
            item = self.nav.item(row)
            if item.data(PAGE_ROLE) in INBOX_PAGES:
                item.setHidden(item.data(PAGE_ROLE) != shown)
        self.messages_section.setHidden(shown is None)
        if shown is not None:
            self.inbox_button.setText(self.pages[shown].title())
        self.inbox_button.setVisible(shown is not None)

    def _show_registry_entries(self, readable: bool) -> None:
        """Where the registry is not kept, one entry (Lots: the directory)
        instead of five leading to the same page (found by hand)."""
        for row in range(self.nav.count()):
            item = self.nav.item(row)
            if item.data(PAGE_ROLE) in REGISTRY_ONLY:
                item.setHidden(not readable)

    def _show_accounts_entries(self, readable: bool) -> None:
        """The accounts are management's: an owner's device or the building's
        shared computer never shows them (it cannot read the ledger)."""
        accounts = {name for name, _page in ACCOUNT_PAGES}
        for row in range(self.nav.count()):
            item = self.nav.item(row)
            if item.data(PAGE_ROLE) in accounts:
                item.setHidden(not readable)
        self.accounts_section.setHidden(not readable)

    def _show_assembly_entries(self) -> None:
        """Each device lists the assembly pages it uses: the session on the
        syndic's and the council's, the remote ballot where someone signs."""
        access = self.assembly.access
        names = {name for name, _page in ASSEMBLY_PAGES}
        for row in range(self.nav.count()):
            item = self.nav.item(row)
            name = item.data(PAGE_ROLE)
            if name in names:
                item.setHidden(access is None or not self.pages[name].available(access))

    def _show_governance_entries(self) -> None:
        """The governance pages are the syndic's: other devices do not list them."""
        shown = self.governance.syndic_device
        names = {name for name, _page in GOVERNANCE_PAGES}
        for row in range(self.nav.count()):
            item = self.nav.item(row)
            if item.data(PAGE_ROLE) in names:
                item.setHidden(not shown)
                if item.data(PAGE_ROLE) == GOVERNANCE_PAGES[0][0]:
                    self.nav.item(row - 1).setHidden(not shown)  # the section's title

    def _show_energy_entries(self) -> None:
        """Each device lists the energy pages it uses ("Take part" where someone opts in)."""
        access = self.energy.access
        for row in range(self.nav.count()):
            item = self.nav.item(row)
            name = item.data(PAGE_ROLE)
            if name in dict(ENERGY_PAGES):
                item.setHidden(access is None or not self.pages[name].available(access))

    def _open_inbox_once(self) -> None:
        """An owner's or the shared computer's window shows its inbox page
        rather than the registry it cannot read (once, when both are known)."""
        page = self._inbox_page()
        if self._inbox_opened or page is None or self.state is None or self.state.readable:
            return
        self._inbox_opened = True
        if self.pages[self.current_page()].needs_registry:
            self.go_to(page)

    def _after_sync(self, _result: object) -> None:
        for page in self.pages.values():
            page.synced()

    def show_sync_panel(self) -> SyncPanel:
        if self.sync_panel is not None:
            self.sync_panel.close()
        panel = SyncPanel(self.sync, self)
        panel.devices_requested.connect(lambda: self.go_to("devices"))
        panel.relay_requested.connect(self.relay_settings_requested)
        panel.finished.connect(lambda _r: self._forget_panel(panel))
        self.sync_panel = panel
        panel.open()
        return panel

    def _forget_panel(self, panel: SyncPanel) -> None:
        if self.sync_panel is panel:
            self.sync_panel = None

    def go_to(self, page: str, record_id: str = "") -> None:
        for row in range(self.nav.count()):
            item = self.nav.item(row)
            if item.data(PAGE_ROLE) == page and not item.isHidden():
                self.nav.setCurrentRow(row)
                # in view even when the window is not shown yet (found by
                # hand: after a language change, Devices was off the list)
                QTimer.singleShot(0, lambda item=item: alive(self) and self.nav.scrollToItem(item))
        if record_id:
            self.pages[page].select_record(record_id)

    def show_problem(self, problem: Problem) -> None:
        page = PAGE_OF_CODE.get(problem.code, "lots")
        self.go_to(page, problem.subjects[0] if problem.subjects else "")

    def show_working(self, slow: bool) -> None:
        """ "Working…" in the status bar while the worker is slow to answer."""
        self.working.setVisible(slow)

    def notify(self, message: str) -> None:
        self.statusBar().showMessage(message, 8000)

    # -- undo ----------------------------------------------------------------------------

    def undo(self) -> None:
        self.ops.change(lambda s: s.registry.undo(), on_done=lambda u: self._after_undo(u, True))

    def redo(self) -> None:
        self.ops.change(lambda s: s.registry.redo(), on_done=lambda u: self._after_undo(u, False))

    def _after_undo(self, update: Update, undo: bool) -> None:
        if not update.change.collections:
            self.notify(_("Nothing to undo.") if undo else _("Nothing to redo."))

    # -- about and closing -------------------------------------------------------------------

    def show_about(self) -> None:
        box = QMessageBox(self)
        box.setWindowTitle(_("About KoproGo"))
        box.setText(
            _(
                "KoproGo — free software (AGPL-3.0) for Belgian co-ownership associations "
                "(ACP/VME). Your data stays on your computer, encrypted."
            )
        )
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.open()

    def closeEvent(self, event: QCloseEvent) -> None:
        """Closing first closes the session on the worker (it checkpoints);
        the controller then lets the window go."""
        if self.allow_close:
            self.residents.close_inbox()  # nothing of a resident's inbox outlives the window
            app_settings().setValue("main/geometry", self.saveGeometry())
            event.accept()
            return
        event.ignore()
        if self._close_asked or self.unsent_box is not None:
            return
        status = self.sync.status
        if status.connected and status.pending and not status.removed:
            self._ask_about_unsent(status.pending)
            return
        self._close_asked = True
        self.close_requested.emit()

    def _ask_about_unsent(self, pending: int) -> None:
        """Found by hand: closing with changes not sent yet said nothing, and
        the syndic believed the council had them. Nothing is lost: they
        wait on this computer."""
        box = QMessageBox(self)
        box.setIcon(QMessageBox.Icon.Information)
        box.setWindowTitle(_("Changes not sent yet"))
        box.setText(
            ngettext(
                "{n} change is not sent yet: the other devices do not have it.",
                "{n} changes are not sent yet: the other devices do not have them.",
                pending,
            ).format(n=pending)
        )
        box.setInformativeText(
            ngettext(  # found by hand: "1 change … they are kept"
                "Nothing is lost: it is kept on this computer and sent the next time "
                "KoproGo opens this building and reaches the relay.",
                "Nothing is lost: they are kept on this computer and sent the next time "
                "KoproGo opens this building and reaches the relay.",
                pending,
            )
        )
        close = box.addButton(_("Close anyway"), QMessageBox.ButtonRole.AcceptRole)
        box.addButton(_("Keep open"), QMessageBox.ButtonRole.RejectRole)
        box.setDefaultButton(close)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)

        def answered(_result: int) -> None:
            self.unsent_box = None
            if box.clickedButton() is close:
                self._close_asked = True
                self.close_requested.emit()

        box.finished.connect(answered)
        self.unsent_box = box
        box.open()
