#!/usr/bin/python3
"""make check-scale: the tests at the sizes users have (a 100,000-message
mailbox over POP3, 100,000 queued envelopes, 100,000-line tables, 50 MB
messages, 100,000 remote envelopes relayed to 1,000 domains), every role
under its real sandbox, because the C library
reaches system calls on large inputs that it never makes on small ones.
Run before each release; it takes several minutes.

Runs every regress/scale/test_*.py (or the modules named on the command
line) with the integration tests' harness and runner.  SALLYPORT_SCALE
(default 1) multiplies the sizes, for a quick smoke: 0.01 makes them a
hundredth.  Each test prints what it measured, "measure: ...", on
stderr.  SALLYPORT_TEST_TMPDIR (default /dev/shm) is where each suite
gets its root.  Must run as root."""

import importlib.util
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
INTEGRATION = os.path.join(os.path.dirname(HERE), "integration")
sys.dont_write_bytecode = True
# The suites' roots on a tmpfs unless told otherwise: on this project's
# disks (mounted with discard) removing 100,000 files takes minutes.
# The sandbox sees the same system calls either way; set it to /tmp for
# timings on the disk.
os.environ.setdefault("SALLYPORT_TEST_TMPDIR", "/dev/shm")
sys.path.insert(0, INTEGRATION)
sys.path.insert(0, HERE)

# The integration runner, under another name than this file's.
_spec = importlib.util.spec_from_file_location(
    "integration_run", os.path.join(INTEGRATION, "run.py"))
integration_run = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(integration_run)
integration_run.HERE = HERE

if __name__ == "__main__":
    sys.exit(integration_run.main(sys.argv))
