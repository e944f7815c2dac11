"""pytest plugin of bench/generated.py: every external command of the run, one line each.

Loaded with -p bench.command_log; appends the log line of every command
(tools/command.py logs each one) to a file of its own process in the folder
$BENCH_COMMAND_LOG, the controller's and each xdist worker's, so the bench
counts commands from the harness's own log.
"""

import logging
import os

from qcow2_conformance.tools import command


def pytest_configure(config):
    folder = os.environ.get("BENCH_COMMAND_LOG")
    if not folder:
        return
    handler = logging.FileHandler(os.path.join(folder, f"{os.getpid()}.log"), encoding="utf-8")
    handler.setLevel(logging.INFO)
    command.log.addHandler(handler)
    command.log.setLevel(logging.INFO)
    # Only to the file: pytest's log capture would otherwise take every line,
    # a cost a run without this plugin does not have.
    command.log.propagate = False
