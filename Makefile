# The two set-up commands: `make run` and `make test`.
PYTHON ?= python3.11
VENV   ?= .venv
BIN    := $(VENV)/bin
PORT   ?= 8501
export HF_HUB_OFFLINE := 1
export TOKENIZERS_PARALLELISM := false

.PHONY: run test install install-test browser ingest-sample ui bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml $(VENV)/.installed
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@

install: $(VENV)/.installed
install-test: $(VENV)/.installed-test

# Debian Chromium + ChromeDriver for the browser test (root on CI and dev machines).
browser:
	@command -v chromium >/dev/null && command -v chromedriver >/dev/null || \
	  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null; }

ingest-sample: install
	$(BIN)/hemicycle ingest data/corpus
	$(BIN)/hemicycle enrich --provider heuristic --yes --no-progress

run: ingest-sample
	$(BIN)/hemicycle ui --port $(PORT)

# Two workers, one test file each at a time (module and session fixtures stay per file):
# much of the suite waits on subprocesses, servers and the browser.
test: install-test browser
	$(BIN)/python -m pytest -n 2 --dist loadfile

bench: ingest-sample
	$(BIN)/hemicycle bench ingest
	$(BIN)/hemicycle bench query

clean:
	rm -rf $(VENV) data/collections data/chroma data/cache data/reports
