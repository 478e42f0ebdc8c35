# 12315 early-warning system. `make run` starts everything; `make test` proves it.
SHELL := /bin/bash
PY_SYS ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
# gcc and python3-dev build the extractor's compiled fast path (nlp/_fastbuild.py).
DEBS := redis-server fonts-noto-cjk fonts-dejavu-core gcc python3-dev
# The dashboard's browser tests and screenshots drive Debian's headless Chromium.
BROWSER_DEBS := chromium chromium-driver

.PHONY: run test bench eval-alerts up setup browser screenshots clean help

help:  ## list the targets
	@grep -E '^[a-z-]+:.*##' $(MAKEFILE_LIST) | sed 's/:.*## /\t/'

setup: $(STAMP)  ## venv, Python packages and Debian packages
	@$(PY) -m nlp._fastbuild    # the extractor's compiled fast path (skipped without a C compiler)

$(STAMP): requirements.txt Makefile
	@missing=""; for p in $(DEBS); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then echo "installing Debian packages:$$missing"; \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null) \
	  || { echo "could not install$$missing: run 'sudo apt-get install$$missing' and retry"; exit 1; }; fi
	@test -x $(PY) || $(PY_SYS) -m venv $(VENV)
	@$(PY) -m pip install -q --disable-pip-version-check -r requirements.txt
	@touch $(STAMP)

browser:  ## Debian's chromium and chromium-driver (for the dashboard's browser tests and screenshots)
	@missing=""; for p in $(BROWSER_DEBS); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then echo "installing Debian packages:$$missing"; \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null) \
	  || { echo "could not install$$missing: run 'sudo apt-get install$$missing' and retry"; exit 1; }; fi

run: setup  ## start broker, Redis, workers, API and the demo feed (Ctrl-C stops all); WORKERS=N, RUN_ARGS=...
	$(PY) -m streams.stack run $(if $(WORKERS),--workers $(WORKERS)) $(RUN_ARGS)

up: run

test: setup browser  ## the test suite against a real broker and redis-server (and headless Chromium)
	$(PY) -m pytest -q tests

screenshots: setup browser  ## PNGs of the wall (1920x1080, 3840x2160), duty console and review, with demo data; OUT=dir
	$(PY) -m dashboard.screenshots --out $(or $(OUT),screenshots)

bench: setup browser  ## throughput and latency benchmarks, the wall's refresh time with a year of history, and a soak of the dashboard with a wall open (SOAK_MINUTES, default 10)
	$(PY) -m streams.bench
	$(PY) -m nlp.bench
	$(PY) -m dashboard.bench
	$(PY) -m dashboard.review_bench
	$(PY) -m dashboard.soak --soak-minutes $(or $(SOAK_MINUTES),10)

eval-alerts: setup  ## score the surge detectors on two simulated years, alerts/synth.py and alerts/synth2.py (about 60 min on 2 cores; QUICK=1 about 1.5 min)
	$(PY) -m alerts.evaluate $(if $(QUICK),--quick)

clean:  ## remove the venv and the data directory
	rm -rf $(VENV) data
