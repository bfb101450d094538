"""What the scale tests share: the sizes (SALLYPORT_SCALE multiplies
them), a timer that reports what it measured, and the path of the
queue writer (regress/scale/mkqueue, built by make check-scale)."""

import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
FACTOR = float(os.environ.get("SALLYPORT_SCALE", "1"))
MKQUEUE = os.path.join(HERE, "mkqueue")
# Generous: a slow, busy 2-core machine must pass.
SLOW_SECS = 900


def size(n):
    """n scaled by SALLYPORT_SCALE, at least 1."""
    return max(1, int(n * FACTOR))


def measure(what, fn, *args, **kw):
    """Runs fn, writes "measure: <what> <secs>s" to stderr; fn's value."""
    t0 = time.monotonic()
    v = fn(*args, **kw)
    sys.stderr.write("measure: %s %.2fs\n" % (what, time.monotonic() - t0))
    sys.stderr.flush()
    return v


def ctl_slowly(suite, *args):
    """sallyctl args read by a reader that stops for a while: sallyctl
    blocks on its full stdout pipe and stops reading the manager, whose
    list once filled its write queue and was cut off.  (returncode,
    stdout, stderr)."""
    p = subprocess.Popen([suite.binary("sallyctl"), "-f", suite.conf]
                         + list(args), stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
    time.sleep(5)
    out, err = p.communicate(timeout=SLOW_SECS)
    return p.returncode, out, err
