"""The cross-check catches a qemu-img that misreports, and nothing else does."""

import os

import pytest

from qcow2_conformance.conformance.pipeline import Pipeline
from qcow2_conformance.fixtures import chain
from qcow2_conformance.fixtures.cache import ChainCache
from qcow2_conformance.implementations.registry import Reference
from qcow2_conformance.observe import baseline
from qcow2_conformance.qcow2 import dirty
from qcow2_conformance.rules.crosscheck import dirty_bits_agree
from qcow2_conformance.tools import toolset
from qcow2_conformance.tools.toolset import BITMAP_COMMAND, NBD, STORAGE_DAEMON

from support import FAULTY, failed_rules, qemu_folder


def test_a_lying_qemu_img_trips_only_the_cross_check(tools, catalog, tmp_path):
    source = open(os.path.join(FAULTY, "lying_qemu_img.py")).read()
    liar = toolset.find(tools.host, qemu_folder(tools, tmp_path / "qemu", qemu_img=source))
    pipeline = Pipeline(
        liar, ChainCache(liar, str(tmp_path / "chains")), str(tmp_path / "runs"), timeout=60
    )
    verdicts = pipeline.verdicts(Reference(), catalog["chain-depth-2"])
    assert failed_rules(verdicts) == {"qemu-img-agrees"}
    message = verdicts[("qemu-img-agrees", "ACTIVE before")].message
    assert message == "ACTIVE: virtual size 1073742336 says qemu-img, 1073741824 says the file"


def test_dirty_bits_that_disagree_are_reported():
    assert dirty_bits_agree("cp1", [(0, 65536)], [(0, 65536)]) == []
    assert dirty_bits_agree("cp1", [(0, 512)], [(3584, 512)]) == [
        "dirty bits of 'cp1': qemu's merge (read over NBD by qemu-img map) reports 3584+512,"
        " the reader 0+512"
    ]


_BITS_BACKWARDS = bytes(int(f"{value:08b}"[::-1], 2) for value in range(256))


@pytest.mark.parametrize("daemon", [True, False], ids=["qemu-storage-daemon", "qemu-nbd"])
def test_qemus_merge_catches_a_reader_that_reads_bits_backwards(
    tools, catalog, tmp_path, monkeypatch, daemon
):
    # Three layers of granularities 1M, 512 and 64K, dirty bits not byte-aligned at 512.
    scenario = catalog["commit-granularity-kept"]
    if not daemon:
        tools = tools.without_storage_daemon()
    reason = tools.lacks(STORAGE_DAEMON) if daemon else tools.lacks(NBD, BITMAP_COMMAND)
    if reason:
        pytest.skip(reason)
    (tmp_path / "chain").mkdir()
    built = chain.build(tools, scenario, str(tmp_path / "chain"))

    def problems():
        merged = baseline.baseline(tools, scenario, built, str(tmp_path / "scratch")).merged
        return [
            p for name, (ours, qemus) in merged.items() for p in dirty_bits_agree(name, ours, qemus)
        ]

    assert problems() == []
    # The least significant bit first is the spec's order; this reader reads the most.
    edges = dirty._edges
    monkeypatch.setattr(
        dirty, "_edges", lambda data, limit: edges(data.translate(_BITS_BACKWARDS), limit)
    )
    found = problems()
    assert [p.split(":")[0] for p in found] == ["dirty bits of 'cp'", "dirty bits of 'fine'"]
