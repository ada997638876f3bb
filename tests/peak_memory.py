"""Peak memory of a piece of code, measured in a child process.

For the tests of inputs crafted to make a reader allocate far more than the
file holds (a zip bomb, a header declaring 400 megapixels): the claim is
about what the process really takes, so it is measured on the child's peak
resident set size (``VmHWM`` of ``/proc/self/status``), reset to the current
size (``/proc/self/clear_refs``) once the imports are done.
"""
import json
import os
import subprocess
import sys
from typing import Optional, Tuple

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

_CHILD = '''
import json
{setup}


def status_kb(field):
    with open('/proc/self/status') as f:
        for line in f:
            if line.startswith(field + ':'):
                return int(line.split()[1])


try:
    with open('/proc/self/clear_refs', 'w') as f:
        f.write('5')                 # VmHWM := VmRSS (Linux 4.0 and later)
    before = status_kb('VmRSS')
except OSError:                      # no reset: growth of the peak only
    before = status_kb('VmHWM')
try:
    {call}
    error = None
except BaseException as e:           # the error is the result
    error = [type(e).__name__, str(e)]
growth = status_kb('VmHWM') - before
print(json.dumps({{'growth_mb': growth / 1024, 'error': error}}))
'''


def peak_growth(setup: str, call: str, timeout: float = 120
                ) -> Tuple[float, Optional[Tuple[str, str]]]:
    """Run ``setup`` (imports, definitions) then the one-line ``call`` in a
    fresh Python from the repository root.

    Returns:
        ``(growth_mb, error)``: how far the peak resident memory rose above
        the memory in use before ``call`` (MiB), and ``(exception type
        name, message)`` if ``call`` raised, else None.
    """
    child = _CHILD.format(setup=setup, call=call)
    done = subprocess.run([sys.executable, '-c', child], cwd=ROOT,
                          capture_output=True, text=True, timeout=timeout)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout.strip().splitlines()[-1])
    error = tuple(result['error']) if result['error'] else None
    return result['growth_mb'], error
