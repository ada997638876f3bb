# Quick start: `make demo` runs the tool, `make test` runs the tests.
# Both create .venv and install what they need on first use.

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: demo test bench fms-example clean

$(STAMP): requirements.txt requirements-dev.txt requirements-ray.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade "setuptools>=65,<81" wheel
	$(PY) -m pip install -q --no-build-isolation -r requirements-dev.txt
	touch $(STAMP)

test: $(STAMP)
	$(PY) -m pytest -q

WEIGHTS := models/coco_posenet.npz

# The body weights: converted from models/pose_iter_440000.caffemodel if it is
# there, else downloaded (offline: a message says where to put the file).
$(WEIGHTS): | $(STAMP)
	$(PY) convert_model.py fetch posenet --dir models

demo: $(STAMP) $(WEIGHTS)
	$(PY) pose_detector.py posenet $(WEIGHTS) --images data --out out/demo

# The benchmark's own environment: the tool's requirements plus PyTorch's CPU
# build as a second peer (skipped, with a note, where it cannot be installed).
BENCH_VENV := .venv-bench
BENCH_STAMP := $(BENCH_VENV)/.installed

$(BENCH_STAMP): requirements.txt requirements-dev.txt
	$(PYTHON) -m venv $(BENCH_VENV)
	$(BENCH_VENV)/bin/python -m pip install -q --upgrade "setuptools>=65,<81" wheel
	$(BENCH_VENV)/bin/python -m pip install -q --no-build-isolation -r requirements-dev.txt
	$(BENCH_VENV)/bin/python -m pip install -q "torch==$(TORCH_VERSION)" \
		|| echo "PyTorch $(TORCH_VERSION) could not be installed: the benchmark runs without it"
	touch $(BENCH_STAMP)

TORCH_VERSION ?= 2.13.0

bench: $(BENCH_STAMP)
	$(BENCH_VENV)/bin/python bench/bench_all.py

# The README's example FMS screening report (out/fms_session/index.html) from
# the example session in data/fms_session/, and its screenshot.
fms-example: $(STAMP)
	$(PY) -m tests.fixtures.fms_example

clean:
	rm -rf $(VENV) $(BENCH_VENV) .pytest_cache
