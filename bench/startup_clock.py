"""pytest plugin of bench/startup.py: when each step of a run's start and end happened.

Loaded with -p bench.startup_clock; every process of the run (the xdist
controller and each worker) writes "name wall-time cpu-time" lines to a file
of its own in the folder $BENCH_STARTUP_CLOCK. With $BENCH_STARTUP_STOP set,
the controller stops the run once the first test started (the workers end
the tests they hold), so the start can be measured without paying for a whole run.
"""

import atexit
import functools
import os
import resource
import time

import pytest
from _pytest import junitxml
from xdist import dsession

from qcow2_conformance.fixtures import session as harness_session
from qcow2_conformance.reports import collector, html, markdown, results
from qcow2_conformance.scenarios import drawn

_marks = []
_state = {}


def _cpu():
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def mark(name):
    _marks.append((name, time.time(), _cpu()))


mark("plugin imported")


def _timed(owner, attr, name):
    original = getattr(owner, attr)

    @functools.wraps(original)
    def timed(*args, **kwargs):
        mark(f"{name} begins")
        try:
            return original(*args, **kwargs)
        finally:
            mark(f"{name} ends")

    setattr(owner, attr, timed)


_timed(drawn, "draw_into", "drawing")
_timed(harness_session, "load_catalog", "catalog load")
_timed(results, "write", "results.json")
_timed(html, "write", "report.html")
_timed(markdown, "write_summary", "summary.md")
_timed(collector, "generated_summary", "generated summary")
_timed(junitxml.LogXML, "pytest_sessionfinish", "JUnit XML")
_timed(dsession.DSession, "pytest_sessionfinish", "xdist: workers torn down")


def pytest_configure(config):
    mark("pytest_configure")
    _state["config"] = config


def pytest_sessionstart(session):
    mark("sessionstart")


def pytest_xdist_setupnodes(config, specs):
    mark("xdist setupnodes")


def pytest_xdist_newgateway(gateway):
    mark(f"gateway {gateway.id} up")


def pytest_testnodeready(node):
    mark(f"{node.gateway.id} ready")


def pytest_xdist_node_collection_finished(node, ids):
    mark(f"{node.gateway.id} collection received ({len(ids)})")


def pytest_collection(session):
    mark("collection begins")


def pytest_collection_finish(session):
    mark(f"collection ends ({len(session.items)})")


def pytest_runtest_logstart(nodeid, location):
    if "first test" not in _state:
        _state["first test"] = True
        mark("first test")
        config = _state.get("config")
        if os.environ.get("BENCH_STARTUP_STOP") and not hasattr(config, "workerinput"):
            dsession = config.pluginmanager.getplugin("dsession")
            if dsession is not None:
                dsession.shouldstop = "bench: the start is measured"


def pytest_runtest_logfinish(nodeid, location):
    _state["last test"] = (time.time(), _cpu())


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_sessionfinish(session):
    if "last test" in _state:
        _marks.append(("last test", *_state["last test"]))
    mark("sessionfinish begins")
    try:
        return (yield)
    finally:
        mark("sessionfinish ends")


def pytest_testnodedown(node, error):
    mark(f"{node.gateway.id} down")


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_unconfigure(config):
    mark("unconfigure begins")
    try:
        return (yield)
    finally:
        mark("unconfigure ends")
        folder = os.environ.get("BENCH_STARTUP_CLOCK")
        if folder:
            worker = getattr(config, "workerinput", {}).get("workerid")
            path = os.path.join(folder, worker or "controller")
            _write(path)
            # Written again at exit, if the process gets there (xdist workers may not);
            # registered last, so run first of the exit handlers.
            atexit.register(_write, path, "exit handlers begin")


def _write(path, last=None):
    if last:
        mark(last)
    with open(path, "w", encoding="utf-8") as f:
        f.writelines(f"{n}\t{t}\t{c}\n" for n, t, c in _marks)
