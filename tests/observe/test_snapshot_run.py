"""backup-ready's probe writes stay inside OVERLAY, however small it is."""

import pytest

from qcow2_conformance.observe.snapshot_run import probe_writes


@pytest.mark.parametrize(
    "size, writes",
    [
        (1 << 30, ((0, 4096), ((1 << 29) - 512, 65536 + 1024), ((1 << 30) - 4096, 4096))),
        (512, ((0, 512),)),
        (5120, ((0, 4096), (0, 5120), (1024, 4096))),
    ],
)
def test_probe_writes_are_cut_to_the_image(size, writes):
    assert probe_writes(size) == writes
