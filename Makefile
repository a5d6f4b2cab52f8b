# Haetae: `make demo` audits the bundled corpus, `make demo-align` trains the tiny model end to end (SFT, AGAPO,
# GrouPER) into out/align/summary.html, `make test` runs the suite. Each creates .venv when absent.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.haetae-installed
export GX_ANALYTICS_ENABLED := false
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export TOKENIZERS_PARALLELISM := false
export TLDEXTRACT_CACHE := $(CURDIR)/.cache/tldextract

.PHONY: venv demo demo-align test lint bench clean

venv: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip setuptools wheel
	# torch first, pinned: a bare `torch` requirement would pull a multi-GB CUDA build.
	$(BIN)/python -m pip install -q torch==2.13.0
	$(BIN)/python -m pip install -q -e '.[dev]'
	# A Korean font for the PDF reports (WeasyPrint uses the system's fonts): fonts-nanum when root, else a note.
	@fc-list :lang=ko 2>/dev/null | grep -q . || { if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	  (apt-get install -y -q fonts-nanum >/dev/null 2>&1 || (apt-get update -q >/dev/null && apt-get install -y -q fonts-nanum >/dev/null)) \
	  && echo "installed fonts-nanum (Korean glyphs in PDF reports)"; \
	else echo "note: no Korean font found; install fonts-nanum (or Noto CJK) for Korean text in PDF reports"; fi; }
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/haetae audit pipelines/data/sample_corpus.jsonl --out out/demo

demo-align: $(STAMP)
	$(BIN)/python -m haetae.alignment.demo --out out/align

test: $(STAMP)
	$(BIN)/python -m pytest -n 2 --dist loadfile -q tests

lint: $(STAMP)
	$(BIN)/ruff check .

bench: $(STAMP)
	$(BIN)/python bench/audit_throughput.py
	$(BIN)/python bench/dedup_quality.py

clean:
	rm -rf out build *.egg-info .pytest_cache
