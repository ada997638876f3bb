"""The conventions of every command: messages, exit statuses, signals.

Each top-level script ends with::

    if __name__ == '__main__':
        sys.exit(main())

where ``main(argv)`` parses the arguments and returns
``run_command(PROG, lambda: run(args))``.  :func:`run_command` turns

* a :class:`common.errors.ToolError` into ``PROG: error: MESSAGE`` on stderr
  and exit status 2 (argparse's own convention for bad options),
* an ``OSError`` (disk full, permission denied) into the same line naming
  the file and exit status 2,
* Ctrl-C into exit status 130 and SIGTERM into 143, after the command's
  own clean-up ran (outputs are only ever renamed into place when complete).

Warnings and notes go to stderr too (``PROG: warning: ...``,
``PROG: note: ...``), so stdout holds only results.
"""
from __future__ import annotations

import os
import signal
import sys
import threading
from typing import Callable, Optional

from common.errors import (EXIT_BAD_INPUT, Interrupted, ToolError,
                           signal_exit_status)


class Console:
    """One command's messages on stderr, each prefixed with its name."""

    def __init__(self, prog: str):
        self.prog = prog

    def _print(self, kind: str, message: str) -> None:
        print(f'{self.prog}: {kind}: {message}', file=sys.stderr, flush=True)

    def error(self, message: str) -> None:
        self._print('error', message)

    def warning(self, message: str) -> None:
        self._print('warning', message)

    def note(self, message: str) -> None:
        self._print('note', message)


def os_error_message(error: OSError, path: str = 'a file') -> str:
    """One line for an OSError: the file (the error's own, else ``path``),
    the system's reason, what to do."""
    where = error.filename or path
    reason = error.strerror or (str(error.args[0]) if error.args
                                else type(error).__name__)
    return f'{where}: {reason}; check the path, permissions and free space'


def _raise_interrupted(signum, _frame):
    raise Interrupted(signum)


def quiet_start(prog: str) -> None:
    """Until :func:`run_command` takes over, end the process on SIGINT or
    SIGTERM with one line and exit status 130 / 143 instead of a traceback.

    A command calls it first thing when run as a script (``if __name__ ==
    '__main__'``), before its slower imports (Chainer takes about a
    second): nothing has been written yet then, so there is nothing to
    clean up.
    """
    def exit_now(signum, _frame):
        name = signal.Signals(signum).name
        os.write(2, f'{prog}: error: interrupted ({name}) while starting; '
                    f'nothing was written\n'.encode())
        os._exit(signal_exit_status(signum))
    for number in (signal.SIGINT, signal.SIGTERM):
        signal.signal(number, exit_now)


def run_command(prog: str, command: Callable[[], int]) -> int:
    """Run ``command`` under the conventions above; returns the exit status.

    Args:
        prog: the command's name for messages, e.g. ``'pose_detector.py'``.
        command: the command's body; returns its exit status.
    """
    console = Console(prog)
    main_thread = threading.current_thread() is threading.main_thread()
    if main_thread:
        previous = {signal.SIGINT: signal.signal(signal.SIGINT,
                                                 signal.default_int_handler),
                    signal.SIGTERM: signal.signal(signal.SIGTERM,
                                                  _raise_interrupted)}
    try:
        return command()
    except ToolError as error:
        console.error(str(error))
    except OSError as error:
        console.error(os_error_message(error))
    except KeyboardInterrupt:
        console.error('interrupted (SIGINT); nothing half-written was kept')
        return signal_exit_status(signal.SIGINT)
    except Interrupted as stop:
        console.error(f'interrupted ({signal.Signals(stop.signum).name}); '
                      f'nothing half-written was kept')
        return signal_exit_status(stop.signum)
    finally:
        if main_thread:
            for number, handler in previous.items():
                signal.signal(number, handler)
    return EXIT_BAD_INPUT


class StopOnSignal:
    """While active, SIGINT and SIGTERM set :attr:`event` instead of
    raising, so a frame loop can finish the frames in hand and close its
    outputs properly; :attr:`received` is the signal, :meth:`exit_status`
    the status to exit with."""

    SIGNALS = (signal.SIGINT, signal.SIGTERM)

    def __init__(self):
        self.event = threading.Event()
        self.received: Optional[signal.Signals] = None

    def _handle(self, number, _frame):
        self.received = signal.Signals(number)
        self.event.set()

    def __enter__(self) -> 'StopOnSignal':
        # Signal handlers can only be set in the main thread; elsewhere the
        # loop simply runs without them.
        self._previous = ({s: signal.signal(s, self._handle)
                           for s in self.SIGNALS}
                          if threading.current_thread()
                          is threading.main_thread() else {})
        return self

    def __exit__(self, *exc) -> bool:
        for number, handler in self._previous.items():
            signal.signal(number, handler)
        return False
