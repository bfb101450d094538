"""A quick run of the scale tests (regress/scale/, make check-scale) at a
five-hundredth of their sizes, so that make check keeps their code
working: 200 messages over POP3, 200 queued envelopes, 200-line tables,
100 KB messages by every path, 200 remote envelopes relayed (sink up,
down, the relay killed) and a 100 KB message to 100 remote recipients.
The real sizes are make check-scale's."""

import os
import sys

os.environ.setdefault("SALLYPORT_SCALE", "0.002")
sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))), "scale"))

# The classes imported are the tests this module runs.
from test_scale_big import TestScaleBig  # noqa: E402,F401
from test_scale_pop3 import TestScalePOP3  # noqa: E402,F401
from test_scale_queue import TestScaleQueue  # noqa: E402,F401
from test_scale_relay import (  # noqa: E402,F401
    TestScaleRelay, TestScaleRelayBig, TestScaleRelayDown, TestScaleRelayKill)
from test_scale_tables import TestScaleTables  # noqa: E402,F401
