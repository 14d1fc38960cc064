PY ?= python3
VENV := .venv
VPY := $(VENV)/bin/python

.PHONY: test demo oracle bench clean hips

$(VPY):
	$(PY) -m venv $(VENV)
	$(VPY) -m pip install -q --upgrade pip

$(VENV)/.installed-test: $(VPY) pyproject.toml
	$(VPY) -m pip install -q -e '.[test,mpi,plot]'
	touch $@

test: $(VENV)/.installed-test
	$(VPY) -m pytest -q

# Train the Fashion-MNIST MLP example.  Installs the data (Debian's dataset-fashion-mnist)
# with apt-get when it is missing and we are root; otherwise says how to get it.
FMNIST := /usr/share/datasets/fashion-mnist
demo: $(VENV)/.installed-test
	@if [ ! -f $(FMNIST)/train-images-idx3-ubyte.gz ] && \
	    [ ! -d "$${KNETPY_DATA:-/nonexistent}/fashion-mnist" ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "make demo: installing dataset-fashion-mnist with apt-get"; \
	    DEBIAN_FRONTEND=noninteractive apt-get install -y -q dataset-fashion-mnist || \
	    { apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q dataset-fashion-mnist; } \
	    || exit 1; \
	  else \
	    echo "make demo: Fashion-MNIST is missing. Install it with"; \
	    echo "    sudo apt-get install dataset-fashion-mnist"; \
	    echo "or put its four idx(.gz) files in \$$KNETPY_DATA/fashion-mnist."; \
	    exit 1; \
	  fi; \
	fi
	mkdir -p build
	$(VPY) examples/mnist_mlp.py --checkpoint build/mnist_mlp.h5 --plot build/mnist_mlp_loss.png

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

# Fuzz `load` with 5,000 resealed byte mutations of a checkpoint (each load in a
# forked process with a memory limit and a timeout); prints crashes / hangs / other errors.
.PHONY: fuzz
fuzz: $(VENV)/.installed-test
	KNETPY_KEY_DIR=$$(mktemp -d) $(VPY) tests/fuzz_checkpoints.py 5000

# HIPS autograd 1.9.1's own tests and examples run against our autograd (downloads the sdist
# into a temporary folder; never part of `make test`).
hips: $(VENV)/.installed-test
	bash bench/hips_suite.sh $(VPY) all
