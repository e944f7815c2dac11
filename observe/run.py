"""Observe the images after an implementation ran, then probe OVERLAY with writes.

The probe writes through OVERLAY with qemu-io, as a guest would after the
snapshot, so backup-ready can see whether the new bitmaps track them. It
runs after everything else about OVERLAY was read.
"""

import os

import qcow2
from observe import inspect
from observe.facts import Observation, ProbeFacts
from tools import command, qemu_img, qemu_io

PROBE_PATTERN = 0x99


def probe_writes(virtual_size):
    """Writes at the start, across a granule boundary in the middle, and at the end.

    Each is cut to the image, which may be as small as 512 bytes.
    """
    middle = virtual_size // 2 // (1 << 20) * (1 << 20)
    wanted = ((0, 4096), (middle - 512, 65536 + 1024), (virtual_size - 4096, 4096))
    writes = []
    for off, length in wanted:
        start, end = max(0, off), min(virtual_size, off + length)
        if end > start and (start, end - start) not in writes:
            writes.append((start, end - start))
    return tuple(writes)


def observe(tools, run, baseline, chain_paths, overlay_path, probe=True, folder_changes=None):
    after = inspect.chain_facts(chain_paths)
    infos = inspect.qemu_infos(tools, after)
    overlay, error, check = None, None, None
    wanted, probe = probe, None
    exists = os.path.exists(overlay_path)
    if exists:
        try:
            overlay = inspect.image_facts(overlay_path, "OVERLAY")
        except (qcow2.Qcow2Error, OSError) as e:
            error = f"OVERLAY is not a readable image: {e}"
    if overlay is not None:
        infos["OVERLAY"] = inspect.qemu_account(tools, overlay_path, overlay.format)
        if overlay.format == "qcow2":
            check = qemu_img.check(tools, overlay_path)
            if wanted and run.exit_status == 0:
                probe = _probe(tools, overlay, chain_paths)
    return Observation(
        run, baseline, after, overlay, error, check, infos, probe, folder_changes, exists
    )


def _probe(tools, overlay, chain_paths):
    writes = probe_writes(overlay.virtual_size)
    try:
        qemu_io.write(tools, overlay.path, writes, pattern=PROBE_PATTERN)
        written = inspect.image_facts(overlay.path, "OVERLAY")
        info = inspect.qemu_account(tools, overlay.path)
    except (command.CommandError, qcow2.Qcow2Error) as e:
        return ProbeFacts(writes, (), None, str(e))
    chain = (written,) + tuple(reversed(inspect.chain_facts(chain_paths)))
    return ProbeFacts(writes, chain, info, None)
