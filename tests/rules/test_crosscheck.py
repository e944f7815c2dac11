"""The cross-check catches a qemu-img that misreports, and nothing else does."""

import os

from qcow2_conformance.conformance.pipeline import Pipeline
from qcow2_conformance.fixtures.cache import ChainCache
from qcow2_conformance.implementations.registry import Reference
from qcow2_conformance.rules.crosscheck import dirty_bits_agree
from qcow2_conformance.tools import toolset

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
        "dirty bits of 'cp1': qemu (qemu-nbd + qemu-img map) reports 3584+512, the reader 0+512"
    ]
