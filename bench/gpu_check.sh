#!/usr/bin/env bash
# The GPU check in one run, from the repository root:
#
#     bash bench/gpu_check.sh
#
# or, without the tests and with the limits of a short second run:
#
#     GPU_TESTS=0 BENCH_LIMIT=230 BENCH_BUDGET=190 bash bench/gpu_check.sh
#
# 1. prints the GPU, the driver and the Python packages' versions;
# 2. installs the wheels in .whl/ (Chainer 7.8.1 and setuptools < 81, which
#    still has the pkg_resources Chainer imports) into /tmp/site, offline;
# 3. runs the GPU tests and the precision and kernel tests (time-limited;
#    GPU_TESTS=0 leaves them out);
# 4. runs bench/bench_gpu.py on GPU 0 (time-limited; no new section after
#    its budget), writing $OUT/gpu_results.json; BENCH_SECTIONS picks its
#    sections (default: detection,video,layers,parts; see --sections).
#
# Everything printed also goes to $OUT/log.txt ($OUT defaults to
# /tmp/gpu_check).  Expected wall time on an H100: about 4 to 5 minutes,
# at most about 6 (the limits below); with GPU_TESTS=0 BENCH_LIMIT=230
# BENCH_BUDGET=190, about 3 minutes, at most about 4.
set -u
OUT=${OUT:-/tmp/gpu_check}
PYTHON=${PYTHON:-python3}
#: Seconds for the tests, for the benchmark, and the benchmark's budget
#: after which it starts no new section.
TEST_LIMIT=${TEST_LIMIT:-120}
BENCH_LIMIT=${BENCH_LIMIT:-220}
BENCH_BUDGET=${BENCH_BUDGET:-150}
GPU_TESTS=${GPU_TESTS:-1}
BENCH_SECTIONS=${BENCH_SECTIONS:-detection,video,layers,parts}

cd "$(dirname "$0")/.." || exit 2
mkdir -p "$OUT"
exec > >(tee "$OUT/log.txt") 2>&1

echo "== machine"
nvidia-smi -L
nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.sm \
    --format=csv,noheader
nproc

echo "== carried wheels"
if compgen -G '.whl/*.whl' > /dev/null; then
    "$PYTHON" -m pip install -q --no-index --no-deps --no-compile \
        --no-cache-dir --upgrade --target /tmp/site .whl/*.whl \
        || echo "WARNING: installing the wheels failed"
    export PYTHONPATH=/tmp/site${PYTHONPATH:+:$PYTHONPATH}
else
    echo "no .whl/*.whl: using the installed Chainer"
fi

"$PYTHON" - <<'EOF'
import platform
import models  # noqa: F401  (NumPy 2 fix before chainer)
import chainer, cupy, numpy
print('Python', platform.python_version(), '| NumPy', numpy.__version__,
      '| Chainer', chainer.__version__, '| CuPy', cupy.__version__,
      '| CUDA runtime', cupy.cuda.runtime.runtimeGetVersion(),
      '| GPUs', cupy.cuda.runtime.getDeviceCount(),
      '| chainer cuda available', chainer.backends.cuda.available)
EOF

test_status=0
if [ "$GPU_TESTS" != 0 ]; then
    echo "== GPU tests"
    timeout -s INT -k 10 "$TEST_LIMIT" "$PYTHON" -m pytest -q -rfEs -p no:cacheprovider \
        --durations=8 tests/test_gpu.py tests/models/test_precision.py \
        tests/models/test_gpu_conv.py 2>&1 | tee "$OUT/pytest.txt"
    test_status=${PIPESTATUS[0]}
    echo "tests exit status: $test_status (124: cut at ${TEST_LIMIT} s)"
else
    echo "== GPU tests left out (GPU_TESTS=0)"
fi

echo "== benchmark"
timeout -s INT -k 10 "$BENCH_LIMIT" "$PYTHON" bench/bench_gpu.py --gpu 0 --runs 5 \
    --budget "$BENCH_BUDGET" --sections "$BENCH_SECTIONS" --json "$OUT/gpu_results.json"
bench_status=$?
echo "benchmark exit status: $bench_status (124: cut at ${BENCH_LIMIT} s;" \
     "results so far are in gpu_results.json)"

if [ "$GPU_TESTS" != 0 ]; then
    echo "== tests again (summary)"
    tail -n 3 "$OUT/pytest.txt"
fi
exit $(( test_status != 0 || bench_status != 0 ))
