#!/usr/bin/python3
"""Runs the integration tests: every regress/integration/test_*.py, or the
modules (or module.Class.test) named on the command line.  Prints one line
per test and ends with "N passed, N failed" (", N skipped" when some
were); exits non-zero when anything failed.  Must run as root."""

import os
import sys
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
# Keep the source tree free of __pycache__ directories.
sys.dont_write_bytecode = True


class LineResult(unittest.TestResult):
    """One line per test, as it finishes."""

    def __init__(self, stream):
        super().__init__()
        self.stream = stream
        self.passed = 0
        self.t0 = {}

    def _say(self, what, test, extra=""):
        t = time.monotonic() - self.t0.pop(test, time.monotonic())
        self.stream.write("%-5s %s (%.1fs)%s\n" % (what, test.id(), t,
                                                    extra))
        self.stream.flush()

    def startTest(self, test):
        super().startTest(test)
        self.t0[test] = time.monotonic()

    def addSuccess(self, test):
        super().addSuccess(test)
        self.passed += 1
        self._say("PASS", test)

    def addFailure(self, test, err):
        super().addFailure(test, err)
        self._say("FAIL", test)
        self.stream.write(self._exc_info_to_string(err, test))

    def addError(self, test, err):
        super().addError(test, err)
        # A failing setUpClass or tearDownClass arrives here too, with a
        # placeholder instead of a test.
        name = getattr(test, "id", lambda: str(test))()
        self.stream.write("ERROR %s\n" % name)
        self.stream.write(self._exc_info_to_string(err, test))
        self.stream.flush()

    def addSkip(self, test, reason):
        super().addSkip(test, reason)
        self._say("SKIP", test, ": " + reason)

    def addExpectedFailure(self, test, err):
        super().addExpectedFailure(test, err)
        self._say("XFAIL", test)

    def addUnexpectedSuccess(self, test):
        super().addUnexpectedSuccess(test)
        self._say("XPASS", test)


def main(argv):
    if os.geteuid() != 0:
        sys.stderr.write("run.py: must be run as root: the daemons start "
                         "as root and drop to their users and chroots\n")
        return 1
    os.chdir(HERE)
    loader = unittest.TestLoader()
    if len(argv) > 1:
        tests = loader.loadTestsFromNames(argv[1:])
    else:
        tests = loader.discover(HERE, pattern="test_*.py", top_level_dir=HERE)
    result = LineResult(sys.stdout)
    tests.run(result)
    failed = (len(result.failures) + len(result.errors)
              + len(result.unexpectedSuccesses))
    line = "%d passed, %d failed" % (result.passed, failed)
    if result.skipped:
        line += ", %d skipped" % len(result.skipped)
    sys.stdout.write(line + "\n")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
