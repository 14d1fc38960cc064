PY ?= python3
VENV := .venv
VPY := $(VENV)/bin/python

.PHONY: test demo oracle bench clean

$(VPY):
	$(PY) -m venv $(VENV)
	$(VPY) -m pip install -q --upgrade pip

$(VENV)/.installed-test: $(VPY) pyproject.toml
	$(VPY) -m pip install -q -e '.[test]'
	touch $@

test: $(VENV)/.installed-test
	$(VPY) -m pytest -q

demo: $(VENV)/.installed-test
	$(VPY) examples/regression.py

clean:
	rm -rf $(VENV) build *.egg-info

# Compare values and gradients with PyTorch CPU (installs torch==2.13.0 into .venv).
oracle: $(VENV)/.installed-test
	$(VPY) -m pip install -q torch==2.13.0
	$(VPY) -m pytest -q tests/oracle

# Speed comparisons (never part of `make test`).
bench: $(VENV)/.installed-test
	$(VPY) -m pip install -q torch==2.13.0
	for b in bench/*.py; do $(VPY) $$b || exit 1; done
