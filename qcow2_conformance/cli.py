"""The console scripts: qcow2-conformance, qcow2-snapshot, qcow2-commit, qcow2-report.

qcow2-conformance is pytest on the installed conformance suite, with the
suite's own ini file, so it runs the same from any folder.
"""

import os
import sys

SUITE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "conformance")

# pytest's exit statuses, as the harness's table says them (README, "Exit statuses").
USAGE = 2
INTERRUPTED = 130
_FROM_PYTEST = {
    4: USAGE,  # pytest's: an unknown option, a value of the wrong type
}


def suite_argv(args):
    """pytest's arguments for a conformance run with the user's args."""
    return [SUITE, "-c", os.path.join(SUITE, "pytest.ini"), "--rootdir", SUITE, *args]


def conformance(args=None):
    import pytest

    args = sys.argv[1:] if args is None else args
    status = int(pytest.main(suite_argv(args)))
    return _FROM_PYTEST.get(status, status)


def snapshot(args=None):
    from qcow2_conformance.implementations import reference

    return reference.main(sys.argv[1:] if args is None else args)


def commit(args=None):
    from qcow2_conformance.implementations import commit_reference

    return commit_reference.main(sys.argv[1:] if args is None else args)


def report(args=None):
    from qcow2_conformance.reports import compare

    return compare.main(sys.argv[1:] if args is None else args)
