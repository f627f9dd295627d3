"""Runs one test module for ctest, and tells ctest when nothing in it could run.

`python3 -m unittest` exits 0 when every test was skipped (no GPU, no transformers), so
ctest would report "Passed" for a module that checked nothing. This runner exits 77
instead, which tests/sft/CMakeLists.txt declares as ctest's skip code.
"""
import sys
import unittest

SKIPPED_EXIT = 77


def main() -> int:
    if len(sys.argv) != 2:
        print("usage: run_module.py TEST_MODULE", file=sys.stderr)
        return 2
    suite = unittest.defaultTestLoader.loadTestsFromName(sys.argv[1])
    result = unittest.TextTestRunner(verbosity=2).run(suite)
    if not result.wasSuccessful():
        return 1
    if result.testsRun > 0 and len(result.skipped) == result.testsRun:
        print(f"{sys.argv[1]}: all {result.testsRun} tests skipped; reported to ctest as skipped")
        return SKIPPED_EXIT
    return 0


if __name__ == "__main__":
    sys.exit(main())
