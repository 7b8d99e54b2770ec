"""PyInstaller entry script: PyInstaller needs a script, the app is a function."""

from desktop.app import main

if __name__ == "__main__":
    raise SystemExit(main())
