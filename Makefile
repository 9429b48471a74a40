# yuefu: `make song` sets everything up and writes a song from a theme into out/;
# `make test` runs the tests. Both work on a fresh Debian machine.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: song test bench lint setup clean

setup: $(STAMP)

$(STAMP): pyproject.toml scripts/install-system-deps.sh
	bash scripts/install-system-deps.sh
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade "pip>=24"
	$(BIN)/python -m pip install --quiet -e ".[dev,ml]"
# basic-pitch ships the piano transcription model (yuefu.listen.transcribe, run by onnxruntime
# from .[ml]); --no-deps: its declared dependencies pull TensorFlow and downgrade numpy
	$(BIN)/python -m pip install --quiet --no-deps basic-pitch==0.4.0
	touch $(STAMP)

song: $(STAMP)
	$(BIN)/yuefu song "夏夜的海边" --emotion nostalgic --style ballad --lang zh -o out --force
	@echo "listen: out/song.wav   lyrics: out/lyrics.txt   lead sheet: out/song.musicxml   why: out/report.json"

test: $(STAMP)
	$(BIN)/python -m pytest -q

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
