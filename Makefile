# Quick start: `make demo` runs the tool, `make test` runs the tests.
# Both create .venv and install what they need on first use.

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: demo test bench clean

$(STAMP): requirements.txt requirements-dev.txt
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

bench: $(STAMP)
	$(PY) bench/bench_convert.py
	$(PY) bench/bench_decode.py
	$(PY) bench/bench_detect.py
	$(PY) bench/bench_video.py

clean:
	rm -rf $(VENV) .pytest_cache
