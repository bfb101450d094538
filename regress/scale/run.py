#!/usr/bin/python3
"""make check-scale: the tests at the sizes users have (a 100,000-message
mailbox over POP3, 100,000 queued envelopes, 100,000-line tables, 50 MB
messages), every role under its real sandbox, because the C library
reaches system calls on large inputs that it never makes on small ones.
Run before each release; it takes several minutes.

Runs every regress/scale/test_*.py (or the modules named on the command
line) with the integration tests' harness and runner.  SALLYPORT_SCALE
(default 1) multiplies the sizes, for a quick smoke: 0.01 makes them a
hundredth.  Each test prints what it measured, "measure: ...", on
stderr.  Must run as root."""

import importlib.util
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
INTEGRATION = os.path.join(os.path.dirname(HERE), "integration")
sys.dont_write_bytecode = True
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
