PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
PORT ?= 8501

.PHONY: run test bench lint sample clean

$(VENV)/.installed: requirements.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.installed-test: $(VENV)/.installed requirements-test.txt
	$(PY) -m pip install --quiet -r requirements-test.txt
	touch $@

# The optional cluster extra (pyspark, distributed): for the parity tests, not for make run.
$(VENV)/.installed-cluster: $(VENV)/.installed requirements-cluster.txt
	$(PY) -m pip install --quiet -r requirements-cluster.txt
	touch $@

run: $(VENV)/.installed
	$(PY) -m streamlit run app.py --server.port $(PORT)

test: $(VENV)/.installed-test $(VENV)/.installed-cluster
	$(PY) -m ruff check .
	$(PY) -m mypy
	OPENBLAS_NUM_THREADS=1 $(PY) -m pytest

bench: $(VENV)/.installed-test $(VENV)/.installed-cluster
	OPENBLAS_NUM_THREADS=1 $(PY) -m benchmarks

lint: $(VENV)/.installed-test
	$(PY) -m ruff check .
	$(PY) -m mypy

sample: $(VENV)/.installed
	$(PY) -m core.data.sample

clean:
	rm -rf $(VENV) .pytest_cache
