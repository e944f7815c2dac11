"""The console scripts: qcow2-conformance, qcow2-snapshot, qcow2-commit, qcow2-report.

qcow2-conformance is pytest on the installed conformance suite, with the
suite's own ini file, so it runs the same from any folder. Its exit status
is the harness's (docs/exit-statuses.md), not pytest's.
"""

import os
import re
import sys

import pytest

from qcow2_conformance.statuses import BROKEN_PIPE, INTERRUPTED, USAGE

SUITE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "conformance")

_FROM_PYTEST = {
    pytest.ExitCode.USAGE_ERROR: USAGE,  # an unknown option, a value of the wrong type
    pytest.ExitCode.NO_TESTS_COLLECTED: USAGE,  # -k or --deselect left nothing to judge
}


def suite_argv(args):
    """pytest's arguments for a conformance run with the user's args."""
    return [SUITE, "-c", os.path.join(SUITE, "pytest.ini"), "--rootdir", SUITE, *args]


class OneLineUsage:
    """Turns pytest's usage error (its usage text, the error, its ini and rootdir)
    into one line naming the option."""

    @pytest.hookimpl(wrapper=True)
    def pytest_cmdline_parse(self, pluginmanager, args):
        try:
            return (yield)
        except pytest.UsageError as e:
            raise pytest.UsageError(one_line_usage(str(e))) from None

    def pytest_addoption(self, parser):
        # --help names the command the user typed, not pytest.main().
        parser.prog = "qcow2-conformance"


def one_line_usage(text):
    """'harness: ...' from the text of pytest's UsageError."""
    found = re.search(r"error: (.*)", text)
    if not found:
        return f"harness: {text.strip().splitlines()[-1] if text.strip() else 'usage error'}"
    message = found.group(1).strip()
    unknown = re.fullmatch(r"unrecognized arguments: (.*)", message)
    if unknown:
        return (
            f"harness: {unknown.group(1)}: unknown option;"
            " qcow2-conformance --help lists the options"
        )
    # argparse puts "argument --x: " before a type's own message, which names --x.
    message = re.sub(r"^argument (\S+): (?=\1 )", "", message)
    return f"harness: {message}"


def conformance(args=None):
    args = sys.argv[1:] if args is None else args
    try:
        status = int(pytest.main(suite_argv(args), plugins=[OneLineUsage()]))
        # What is still buffered goes out here, where a reader that went away is
        # handled; at the interpreter's exit it would end the run with 120.
        sys.stdout.flush()
    except KeyboardInterrupt:
        # Before pytest's session began (plugins loading): pytest's own handling
        # of an interrupt (fixtures/session.py) covers the rest.
        return INTERRUPTED
    except BrokenPipeError:
        # The reader of the output went away (`| head`): end as a shell's
        # program killed by SIGPIPE would, without a traceback about it.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return BROKEN_PIPE
    if status == pytest.ExitCode.NO_TESTS_COLLECTED:
        sys.stderr.write("harness: no test left to run; check -k, --deselect and --scenario\n")
    return _FROM_PYTEST.get(status, status)


def snapshot(args=None):
    from qcow2_conformance.implementations import reference

    return reference.main(args)


def commit(args=None):
    from qcow2_conformance.implementations import commit_reference

    return commit_reference.main(args)


def report(args=None):
    from qcow2_conformance.reports import compare

    return compare.main(args)
