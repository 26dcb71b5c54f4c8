PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test bench bench-quality bench-upload bench-web bench-ingest lint clean

$(STAMP): pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -c constraints.txt -e '.[test]'
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/valuelens run

test: $(STAMP)
	$(BIN)/pytest

bench: $(STAMP)
	$(BIN)/python bench/pipeline.py
	$(BIN)/python bench/model_size.py

bench-quality: $(STAMP)
	$(BIN)/python bench/model_quality.py

bench-upload: $(STAMP)
	$(BIN)/python bench/upload_to_live.py

bench-web: $(STAMP)
	$(BIN)/python bench/web_load.py

bench-ingest: $(STAMP)
	$(BIN)/python bench/ingest_memory.py

lint: $(STAMP)
	$(BIN)/ruff check dashboard workers models tests bench

clean:
	rm -rf $(VENV) .pytest_cache
