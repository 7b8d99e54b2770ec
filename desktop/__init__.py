"""The KoproGo desktop app (PySide6). Imports ``node`` and ``shared``; never SQL
or crypto directly. Qt is imported only through :mod:`desktop.qt`."""
