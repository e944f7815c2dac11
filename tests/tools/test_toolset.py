"""What a qemu release lacks is detected, and what needs it is skipped, saying so."""

import json
import os

from qcow2_conformance.conformance.pipeline import Pipeline
from qcow2_conformance.fixtures.cache import ChainCache
from qcow2_conformance.implementations.registry import Reference
from qcow2_conformance.tools import toolset

from support import FAULTY, conformance, qemu_folder

# The recipe with -g forgotten: right wherever ACTIVE has no bitmap.
RECIPE = os.path.join(FAULTY, "omits_granularity.py")

# A qemu-img from before 'qemu-img bitmap' existed (5.1): no such command.
NO_BITMAP_COMMAND = """#!/bin/sh
case "$1" in
  bitmap) echo "qemu-img: Command not found: bitmap" >&2; exit 1 ;;
  --help) "@REAL@" --help | grep -v '^ *bitmap '; exit 0 ;;
esac
exec "@REAL@" "$@"
"""


def test_capabilities_of_the_qemu_under_test(tools):
    assert {"qemu-img bitmap", "qemu-nbd", "qemu-storage-daemon"} <= tools.capabilities


def test_without_daemon_and_qemu_nbd_the_reference_falls_back(tools, catalog, tmp_path):
    bare = toolset.find(tools.host, qemu_folder(tools, tmp_path / "qemu", keep=("qemu-io",)))
    assert bare.qemu_storage_daemon is None and "qemu-nbd" not in bare.capabilities
    pipeline = Pipeline(
        bare, ChainCache(bare, str(tmp_path / "chains")), str(tmp_path / "runs"), timeout=60
    )
    verdicts = pipeline.verdicts(Reference(), catalog["dirty-recording"])
    outcomes = {k: v.outcome for k, v in verdicts.items()}
    assert set(outcomes.values()) <= {"passed", "skipped"}
    merged = verdicts[("qemu-img-agrees", "dirty bits of 'b1'")]
    assert merged.outcome == "skipped"
    assert merged.message == (f"qemu's merge of 'b1' needs qemu-nbd, which {bare.release} lacks")


def test_a_qemu_img_without_bitmap_command_skips_what_needs_it(tools, tmp_path):
    folder = tmp_path / "qemu"
    qemu_folder(tools, folder, qemu_img=NO_BITMAP_COMMAND, keep=("qemu-io",))
    results = tmp_path / "r.json"
    out = conformance(
        tools,
        f"--qemu={folder}",
        f"--results={results}",
        "-n",
        "0",
        "--scenario=no-bitmaps",
        "--impl=reference",
        f"--impl=exec:{RECIPE}",
    )
    assert out.rc == 0, out.stdout[-2000:]
    records = json.loads(results.read_text())["results"]
    mine = [r for r in records if r["implementation"] == "reference"]
    assert {r["outcome"] for r in mine} == {"skipped"}
    assert mine[0]["message"].startswith("reference: needs qemu-img bitmap, which qemu-img")
    # The other implementation runs: only what needs the command is skipped.
    assert {r["outcome"] for r in records if r["implementation"] == f"exec:{RECIPE}"} == {"passed"}
