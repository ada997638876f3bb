"""The one error base class and the exit statuses of every command.

Every error a user can act on (a bad file, a wrong option, a missing GPU)
is a :class:`ToolError` subclass owned by the module that detects it
(``ImageError`` in :mod:`pose.images`, ``FmsError`` in :mod:`fms`, ...).
Its message is one line that names the file or option concerned and says
what to do; :func:`common.cli.run_command` prints it and exits with
:data:`EXIT_BAD_INPUT`.
"""
from __future__ import annotations

import signal

#: Everything asked was done.
EXIT_OK = 0
#: A batch ran to its end but some of its items failed (each one's reason is
#: reported; the others were done).
EXIT_SOME_FAILED = 1
#: Bad input or a failed output (message on stderr), as argparse uses for
#: bad options.
EXIT_BAD_INPUT = 2
#: A signal ends a command with 128 + its number, as shells report it:
#: 130 for Ctrl-C (SIGINT), 143 for SIGTERM.
EXIT_SIGNAL_BASE = 128


class ToolError(Exception):
    """A problem the user can fix; the message says what and how."""


class Interrupted(BaseException):
    """A stop signal (SIGTERM) received outside a loop that handles it.

    Derived from BaseException, like KeyboardInterrupt, so that ``except
    Exception`` clean-up code does not swallow it.
    """

    def __init__(self, signum: int):
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


def signal_exit_status(signum: int) -> int:
    """The exit status after signal ``signum`` (130 for SIGINT)."""
    return EXIT_SIGNAL_BASE + int(signum)
