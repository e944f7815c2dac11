"""The pytest plugin (entry point pytest11): the harness's options and plugins.

pip installs it with the package, so any pytest session has the options; the
harness acts only in a session that collects a conformance test (one that
takes the `case` fixture): see qcow2_conformance.fixtures.session.is_active.
"""

import argparse

import pytest

from qcow2_conformance.procedures import PROCEDURES

# One plugin per step that needs pytest: options and session fixtures,
# implementations' clean-up, the pipeline, and the reports. Each does nothing
# in a session that judges nothing (is_active).
pytest_plugins = [
    "qcow2_conformance.fixtures.session",
    "qcow2_conformance.fixtures.interrupts",
    "qcow2_conformance.implementations.sweep",
    "qcow2_conformance.conformance.suite",
    "qcow2_conformance.reports.collector",
]


def pytest_addoption(parser):
    group = parser.getgroup("bitmap harness")
    group.addoption(
        "--impl",
        action="append",
        default=[],
        metavar="NAME",
        help="implementation under test: reference (default), reference-qemu-img,"
        " libvirt-live, libvirt-offline, or exec:PATH; may be repeated",
    )
    group.addoption(
        "--label",
        action="append",
        default=[],
        metavar="NAME",
        help="a name for the implementation under test that stays when its path or version"
        " changes (qcow2-report matches results by it); one per --impl",
    )
    group.addoption(
        "--libvirt-uri",
        default="qemu:///system",
        metavar="URI",
        help="libvirt connection of the libvirt adapters (default qemu:///system)",
    )
    group.addoption(
        "--qemu-img",
        default=None,
        metavar="PATH",
        help="qemu-img under test (default: the one on PATH);"
        " qemu-io and qemu-storage-daemon come from its folder",
    )
    group.addoption(
        "--qemu",
        default=None,
        metavar="RELEASE|DIR",
        help="qemu binaries under test: a release (5.2, 7.2, 10.0; fetched into"
        " the user cache on first use) or a folder holding qemu-img",
    )
    group.addoption(
        "--results",
        default=None,
        metavar="PATH",
        help="where to write the results file (default conformance-out/results.json in the"
        " current folder); JUnit XML goes beside it",
    )
    group.addoption(
        "--impl-timeout",
        type=_number("--impl-timeout", float),
        default=300,
        metavar="SECONDS",
        help="kill an implementation that runs longer (default 300)",
    )
    group.addoption(
        "--impl-max-file",
        type=_number("--impl-max-file", float),
        default=1024,
        metavar="MiB",
        help="an exec: program dies of SIGXFSZ when a file it writes grows past"
        " this (default 1024)",
    )
    group.addoption(
        "--procedure",
        default="snapshot",
        metavar="NAME",
        help=f"the procedure judged: {' or '.join(PROCEDURES)} (default snapshot);"
        " only its scenarios run",
    )
    group.addoption(
        "--scenarios",
        default=None,
        metavar="DIR",
        help="a folder of scenario TOML files judged besides the catalog's; a scenario"
        " named like one of the catalog's is refused",
    )
    group.addoption(
        "--scenario",
        action="append",
        default=[],
        metavar="NAME",
        help="run only this scenario; may be repeated",
    )
    group.addoption(
        "--strict-advisory",
        action="store_true",
        default=False,
        help="advisory findings (hardening checks, the qemu cross-check) fail the"
        " run too (exit status 1)",
    )
    group.addoption(
        "--no-pin-workers",
        action="store_true",
        default=False,
        help="leave xdist workers free to run on any CPU (by default, when there are as"
        " many workers as CPUs, each takes one of its own)",
    )
    group.addoption(
        "--target-host",
        default="local://",
        metavar="SPEC",
        help="the host where every step of a scenario happens: local:// (default) or"
        " ssh://[user@]host[:port] (with testinfra's --ssh-config, --ssh-identity-file)",
    )
    group.addoption(
        "--target-dir",
        default=None,
        metavar="DIR",
        help="a folder on the target in which the run makes its own folder for chains"
        " (default: the target's /tmp; a local target without it uses pytest's)",
    )
    group.addoption(
        "--keep",
        action="store_true",
        default=False,
        help="keep the run's folder on the target (it is removed at the end otherwise)",
    )
    group.addoption(
        "--generate",
        type=_number("--generate", int),
        default=None,
        metavar="N",
        help="judge N scenarios drawn from the scenario model instead of the"
        " catalog; they are written to NAME.scenarios/ beside NAME.json",
    )
    group.addoption(
        "--lifecycles",
        type=_number("--lifecycles", int),
        default=None,
        metavar="N",
        help="judge N lifecycles of one disk drawn by a state machine (docs/lifecycles.md)"
        " instead of scenarios; a failing one is shrunk and written as a replay file",
    )
    group.addoption(
        "--lifecycle-events",
        type=_number("--lifecycle-events", int),
        default=None,
        metavar="N",
        help="with --lifecycles: at most N drawn events per lifecycle (default 12)",
    )
    group.addoption(
        "--lifecycle-commits",
        action="store_true",
        default=False,
        help="with --lifecycles: an exec: program does the commit procedure too; it is then"
        " also called as PATH COMMIT_TOP COMMIT_BASE [ABOVE] (COMMIT_BASE exists, a"
        " snapshot's OVERLAY does not)",
    )
    group.addoption(
        "--lifecycle-replay",
        default=None,
        metavar="FILE",
        help="judge the one lifecycle of a replay file that --lifecycles wrote",
    )
    group.addoption(
        "--seed",
        type=_number("--seed", int),
        default=None,
        metavar="S",
        help="seed of --generate or --lifecycles (default 11); one seed draws the same"
        " scenarios or lifecycles",
    )
    group.addoption(
        "--shrink",
        action="store_true",
        default=False,
        help="with --generate: for each rule that fails, search for a smaller"
        " scenario that fails it too and write it as shrunk-RULE.toml",
    )
    group.addoption(
        "--shrink-budget",
        type=_number("--shrink-budget", float),
        # None: not given (Settings refuses it without --shrink, then makes it 120).
        default=None,
        metavar="SECONDS",
        help="with --shrink or --lifecycles: time it may spend shrinking each failing rule"
        " (default 120)",
    )


def _number(option, kind):
    """argparse's type for a numeric option: its error says what a value must look like.

    The console script shows an argparse error as one line (cli.py).
    """
    what = "a whole number, such as 20" if kind is int else "a number, such as 2.5"

    def parse(text):
        try:
            return kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{option} {text}: not {what}") from None

    parse.__name__ = kind.__name__
    return parse


@pytest.hookimpl(tryfirst=True)
def pytest_cmdline_main(config):
    """Workers named with --tx are the run's workers.

    xdist lets -n (tox.ini's addopts give -n auto) replace every --tx with
    local ones; runs spread over machines would then silently stay here.
    """
    if config.option.tx and config.option.numprocesses:
        config.option.numprocesses = None
        if config.option.dist == "no":
            config.option.dist = "load"
