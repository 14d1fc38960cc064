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
