"""pytest plugin of bench/parallel.py: when the first test started and the last one ended.

Loaded with -p bench.run_clock; writes two wall-clock times (time.time()) to
the file $BENCH_RUN_CLOCK. Under xdist the controller hears of each test's
start and end from its worker, so it alone writes.
"""

import os
import time

_times = []


def pytest_runtest_logstart(nodeid, location):
    if not _times:
        _times.append(time.time())


def pytest_runtest_logfinish(nodeid, location):
    _times[1:] = [time.time()]


def pytest_unconfigure(config):
    path = os.environ.get("BENCH_RUN_CLOCK")
    if path and not hasattr(config, "workerinput") and len(_times) == 2:
        with open(path, "w") as f:
            f.write(f"{_times[0]} {_times[1]}\n")
