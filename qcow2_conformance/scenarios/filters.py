"""What drawn scenarios are kept from: what qemu refuses, and what costs too much.

refusal(scenario) says why qemu refuses a drawn chain, or why it would cost
a two-core machine minutes to judge; commit_refusal(scenario), what of a
commit scenario a careful implementation refuses (scenarios/commit_shapes.py),
which the commit procedure adds (procedures/commit.py); crowding() spaces out
chains of many bitmaps. The reason is counted, never reported as a failure
of the tool.
"""

from qcow2_conformance.scenarios import commit_shapes
from qcow2_conformance.scenarios.loader import MAX_NAME_BYTES

# What qemu refuses (qemu 7.2, block/qcow2.h and block/qcow2-bitmap.c).
QCOW2_MAX_L1_BYTES = 32 << 20  # QCOW_MAX_L1_SIZE: "image size is too large"
BITMAP_MAX_BYTES = 512 << 20  # BME_MAX_PHYS_SIZE: "Too much space ... Use larger granularity"
# What a run on two cores can afford per scenario.
COST_MAX_WRITTEN = 4 << 20
COST_MAX_L1_BYTES = 1 << 20
COST_MAX_BITMAP_BYTES = 256 << 20  # per image, all its bitmaps together
COST_MAX_EXTENT = 1 << 20
HEAVY_BITMAPS, HEAVY_SPACING = 40, 50  # at most one chain of over 40 bitmaps in 50


def refusal(scenario):
    """Why qemu refuses scenario's chain, or it costs too much to judge; None if neither."""
    written = 0
    for i, image in enumerate(scenario.images):
        size = scenario.virtual_size(i)
        if i and image.format == "raw":
            return "raw image above another: a raw image has no backing file"
        if image.bitmaps and image.format == "raw":
            return "bitmaps in a raw image: raw images cannot store them"
        if image.bitmaps and image.format == "qcow2-v2":
            return "bitmaps in a qcow2 v2 image: qemu stores them from v3 (compat 1.1) on"
        if image.format != "raw":
            cluster = image.cluster_size or 65536
            l1_bytes = 8 * -(-size // (cluster * cluster // 8))
            if l1_bytes > QCOW2_MAX_L1_BYTES:
                return "virtual size too large for the cluster size: qemu's L1 table limit"
            if l1_bytes > COST_MAX_L1_BYTES:
                return "cost: an L1 table over 1 MiB (a small cluster on a large image)"
        bitmap_bytes = 0
        for bitmap in image.bitmaps:
            if "\0" in bitmap.name:
                return "bitmap name holds a NUL: qemu takes names as C strings"
            if len(bitmap.name.encode("utf-8")) > MAX_NAME_BYTES:
                return "bitmap name over 1023 bytes: qcow2's limit"
            one = -(-size // _granularity(bitmap, image) // 8)
            if one > BITMAP_MAX_BYTES:
                return "bitmap over 512 MiB: granularity too fine for the virtual size"
            bitmap_bytes += one
            written += sum(length for _, length in bitmap.dirty)
        if bitmap_bytes > COST_MAX_BITMAP_BYTES:
            return "cost: an image's bitmaps over 256 MiB together"
        written += sum(length for _, length in image.data)
    if written > COST_MAX_WRITTEN:
        return "cost: over 4 MiB written while building the chain"
    return None


def commit_refusal(scenario):
    """Why a commit scenario is not kept beyond refusal(): its shape, or None."""
    return commit_shapes.refusal(scenario)


def crowding(scenario, kept):
    """Why scenario costs too much next to those kept before it, or None.

    hypothesis follows an example with variations of it: one chain of
    hundreds of bitmaps comes with several more. One in HEAVY_SPACING is kept.
    """
    if _bitmap_count(scenario) <= HEAVY_BITMAPS:
        return None
    if any(_bitmap_count(s) > HEAVY_BITMAPS for s in kept[-HEAVY_SPACING:]):
        return f"cost: another chain of over {HEAVY_BITMAPS} bitmaps among the last {HEAVY_SPACING}"
    return None


def _bitmap_count(scenario):
    return sum(len(image.bitmaps) for image in scenario.images)


def _granularity(bitmap, image):
    """The granularity qemu gives the bitmap: the cluster size within [4 KiB, 64 KiB] if unset."""
    if bitmap.granularity is not None:
        return bitmap.granularity
    return min(65536, max(4096, image.cluster_size or 65536))
