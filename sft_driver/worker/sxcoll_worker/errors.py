"""Exit codes and the one-line error convention shared by the worker and prepare.

Bad input (flags, environment, data files) gets one line on stderr and exit code 2,
before any work, as everywhere in sxcoll. The driver tells failures apart by the code.
"""

import sys

EXIT_OK = 0
EXIT_RUNTIME = 1      # the run started and failed (a peer died, NCCL error, ...)
EXIT_USAGE = 2        # bad flags, environment or input files; nothing was run
EXIT_OOM = 3          # device out of memory: the driver may retry with a smaller micro-batch

PROG = "sxcoll-worker"


class UsageError(Exception):
    """Bad input; its message is the one line the user sees."""


def one_line(text: str) -> str:
    """Errors must stay one line: the driver greps them out of interleaved rank logs."""
    return " ".join(str(text).split())


def print_error(message: str, prog: str = PROG) -> None:
    print(f"{prog}: error: {one_line(message)}", file=sys.stderr, flush=True)
