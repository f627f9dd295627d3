"""`python3 -m sxcoll_worker.deepspeed_probe`: can this interpreter import DeepSpeed as the worker does?

sxcoll sft runs it before a sweep with DeepSpeed runs on this host, so that a missing
DeepSpeed is one line and exit 2 before any work rather than a failed run. Prints the
version (exit 0) or the worker's own one-line reason and how to provide it (exit 2).
"""

import sys

from .errors import EXIT_USAGE, UsageError, one_line


def main() -> int:
    try:
        from .deepspeed_engine import import_deepspeed

        print(import_deepspeed().__version__)
        return 0
    except UsageError as exc:
        print(one_line(str(exc)))
    except Exception as exc:  # noqa: BLE001 - torch itself missing, say so in the same form
        from .ds_config import HOW_TO_PROVIDE

        print(one_line(f"--parallel deepspeed: DeepSpeed is not importable by {sys.executable} "
                       f"({type(exc).__name__}: {exc}); {HOW_TO_PROVIDE}"))
    return EXIT_USAGE


if __name__ == "__main__":
    sys.exit(main())
