"""pytest plugin of bench/generated.py: every external command of the run, and each process's CPU.

Loaded with -p bench.command_log; appends the log line of every command
(tools/command.py logs each one) to a file of its own process in the folder
$BENCH_COMMAND_LOG, the controller's and each xdist worker's, so the bench
counts commands from the harness's own log. At its end each process also
writes the CPU time it used itself, its commands left out, so the bench
can tell the harness's Python from the programs it starts.
"""

import logging
import os
import resource

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


def pytest_unconfigure(config):
    folder = os.environ.get("BENCH_COMMAND_LOG")
    if not folder:
        return
    usage = resource.getrusage(resource.RUSAGE_SELF)
    role = "worker" if hasattr(config, "workerinput") else "controller"
    with open(os.path.join(folder, f"{os.getpid()}.cpu"), "w", encoding="utf-8") as f:
        f.write(f"{role} {usage.ru_utime + usage.ru_stime}\n")
