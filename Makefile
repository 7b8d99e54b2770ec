# One task runner (STYLE §14). Every target installs what it needs.
VENV    ?= .venv
PY      := $(VENV)/bin/python
STAMP   := $(VENV)/.installed
QT_LIBS := libegl1 libgl1 libxkbcommon0 libfontconfig1 libdbus-1-3 libglib2.0-0
PYTHON  ?= python3

.PHONY: run test lint format bench i18n screenshots installer clean system-deps

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev]'
	touch $(STAMP)

system-deps:
	@scripts/system-deps.sh $(QT_LIBS)

## run: start the desktop app
run: $(STAMP) system-deps
	$(VENV)/bin/koprogo

## test: install everything and run the whole test suite
test: $(STAMP) system-deps
	QT_QPA_PLATFORM=offscreen $(PY) -m pytest -q

## lint: ruff checks and formatting
lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: $(STAMP)
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

## bench: print the benchmark figures (never pass/fail)
bench: $(STAMP)
	$(PY) bench/registry.py

## i18n: extract messages, update the four catalogs, compile them
i18n: $(STAMP)
	$(PY) -m node.i18n_tools update

## screenshots: take screenshots of the app under Xvfb into docs/screenshots/
screenshots: $(STAMP)
	@scripts/system-deps.sh $(QT_LIBS) xvfb xauth libx11-xcb1 libxcb-cursor0 libxcb-icccm4 libxcb-image0 libxcb-keysyms1 libxcb-randr0 libxcb-render0 libxcb-render-util0 libxcb-shape0 libxcb-shm0 libxcb-sync1 libxcb-util1 libxcb-xfixes0 libxcb-xkb1 libxkbcommon-x11-0
	xvfb-run -a -s "-screen 0 1400x900x24" $(PY) -m desktop.screenshots docs/screenshots

## installer: PyInstaller one-folder build in dist/koprogo, then its self-check
# Pinned versions (installers/constraints.txt); PYTHONHASHSEED fixed so two
# builds of one commit give the same bytes (installers/README.md).
installer: $(STAMP) system-deps
	@scripts/system-deps.sh binutils  # PyInstaller runs objdump and strip on Linux
	$(PY) -m pip install -q -e '.[installer]' -c installers/constraints.txt
	PYTHONHASHSEED=1 $(VENV)/bin/pyinstaller --noconfirm --clean --log-level WARN \
		--distpath dist --workpath build/pyinstaller installers/koprogo.spec
	QT_QPA_PLATFORM=offscreen dist/koprogo/koprogo --self-check
	@du -sh dist/koprogo

clean:
	rm -rf build dist .pytest_cache .ruff_cache
