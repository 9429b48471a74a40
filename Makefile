# yuefu: `make song` sets everything up and writes a song from a theme into out/;
# `make test` runs the tests. Both work on a fresh Debian machine.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: song test bench lint setup clean browser-deps

setup: $(STAMP)

$(STAMP): pyproject.toml scripts/install-system-deps.sh
	bash scripts/install-system-deps.sh
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade "pip>=24"
	$(BIN)/python -m pip install --quiet -e ".[dev,ml]"
# basic-pitch ships the piano transcription model (yuefu.listen.transcribe, run by onnxruntime
# from .[ml]); --no-deps: its declared dependencies pull TensorFlow and downgrade numpy
	$(BIN)/python -m pip install --quiet --no-deps basic-pitch==0.4.0
# transkun ships the accurate piano transcriber's checkpoint (yuefu.listen.transcribe.transkun, run
# by torch); --no-deps: it declares torchaudio, tensorboard and plotting packages it does not need
	$(BIN)/python -m pip install --quiet --no-deps transkun==2.0.1
	touch $(STAMP)

song: $(STAMP)
	$(BIN)/yuefu song "夏夜的海边" --emotion nostalgic --style ballad --lang zh -o out --force
	@echo "listen: out/song.wav   lyrics: out/lyrics.txt   lead sheet: out/song.musicxml   why: out/report.json"

test: $(STAMP) browser-deps
	$(BIN)/python -m pytest -q

# Chromium lays out the practice report in tests/browser, which skip with a reason without it.
# apt, --no-install-recommends: ~106 MB download, ~345 MB on disk, 13 s (apt-get update included)
# on a machine that has the packages above. Without root or sudo: a warning, not a failure.
browser-deps:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" -eq 0 ]; then SUDO=""; \
	  elif sudo -n true 2>/dev/null; then SUDO="sudo -n"; \
	  else echo "warning: no root or sudo to install chromium; tests/browser will skip"; exit 0; fi; \
	  echo "system packages: installing chromium (tests/browser)"; \
	  $$SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -qq && \
	  $$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
	    chromium >/dev/null || echo "warning: chromium did not install; tests/browser will skip"; }

bench: $(STAMP)
	$(BIN)/python benchmarks/render.py --quick
	$(BIN)/python benchmarks/lyrics.py
	$(BIN)/python benchmarks/melody.py
	$(BIN)/python benchmarks/singer.py --quick  # the full run (pysinsy, pocketsphinx) needs .[bench]
	$(BIN)/python benchmarks/identify.py --quick  # audfprint beside it when ../audfprint holds a copy
	$(BIN)/python benchmarks/compose.py --quick
	$(BIN)/python benchmarks/transcribe.py --quick
	$(BIN)/python benchmarks/practice.py --quick

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks train
	$(BIN)/mypy

clean:
	rm -rf out .pytest_cache .mypy_cache .ruff_cache
