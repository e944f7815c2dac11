"""Which CPU an xdist worker is pinned to, as pure logic.

tests/behaviour/test_parallel.py checks the pinning in real runs.
"""

import pytest

from qcow2_conformance.tools import cpus


@pytest.mark.parametrize(
    "worker, workers, available, expected",
    [
        (0, 2, {0, 1}, 0),
        (1, 2, {0, 1}, 1),
        (1, 3, {3, 5, 7}, 5),
        (0, 1, {0, 1}, None),  # one worker: nothing to keep apart
        (2, 3, {0, 1}, None),  # more workers than CPUs: the kernel shares them out
        (1, 2, {0, 1, 2}, None),  # a CPU to spare: the kernel may use it
    ],
)
def test_which_cpu_a_worker_takes(worker, workers, available, expected):
    assert cpus.pinned_cpu(worker, workers, available) == expected
