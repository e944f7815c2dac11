"""Observe the images after an implementation ran, then probe OVERLAY with writes.

The probe writes through OVERLAY, as a guest would after the snapshot, so
backup-ready can see whether the new bitmaps track them: through the
qemu-storage-daemon the process keeps (tools/kept_daemon.py) where there is
one, else with qemu-io; either way qemu opens OVERLAY with its backing chain
and writes. It runs after everything else about OVERLAY was read.
"""

from qcow2_conformance.observe import damage, inspect
from qcow2_conformance.observe.facts import Observation, ProbeFacts
from qcow2_conformance.scenarios.model import roles
from qcow2_conformance.tools import command, kept_daemon, qemu_io

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


def write_probe(tools, path, writes, fmt="qcow2"):
    """The probe's writes through the image at path (tools/kept_daemon.write or qemu-io)."""
    if kept_daemon.usable(tools):
        kept_daemon.write(tools, path, writes, pattern=PROBE_PATTERN, fmt=fmt)
    else:
        qemu_io.write(tools, path, writes, pattern=PROBE_PATTERN, fmt=fmt)


def observe(tools, run, baseline, chain_paths, overlay_path, probe=True, folder_changes=None):
    # One read of every file: on a remote target, one round trip.
    names = roles(len(chain_paths))
    *chain, read = inspect.read_images(tools, [*zip(chain_paths, names), (overlay_path, "OVERLAY")])
    found = damage.of_chain(chain_paths, names, chain, folder_changes)
    after = tuple(None if i in found and found[i].lost else r.facts for i, r in enumerate(chain))
    overlay, error, exists = read.facts, read.error, read.exists
    # OVERLAY too: on top of ACTIVE, as it should be, all in one qemu-img call.
    infos = inspect.qemu_infos(
        tools, tuple(i for i in after if i) + ((overlay,) if overlay else ())
    )
    check, wanted, probe = None, probe, None
    if not exists:
        error = None
    # qemu opens the whole chain to check or write OVERLAY: not when an image of it is lost.
    if overlay is not None and not any(d.lost for d in found.values()):
        if overlay.format == "qcow2":
            check = inspect.qemu_check(tools, overlay_path)
            if wanted and run.exit_status == 0:
                probe = _probe(tools, overlay, chain_paths)
    return Observation(
        run, baseline, after, overlay, error, check, infos, probe, folder_changes, exists, found
    )


def _probe(tools, overlay, chain_paths):
    writes = probe_writes(overlay.virtual_size)
    try:
        write_probe(tools, overlay.path, writes)
        written, *below = inspect.chain_facts(
            tools,
            [overlay.path, *reversed(chain_paths)],
            ["OVERLAY", *reversed(roles(len(chain_paths)))],
        )
        info = inspect.qemu_account(tools, overlay.path)
    except (command.CommandError, inspect.InspectError) as e:
        return ProbeFacts(writes, (), None, str(e))
    return ProbeFacts(writes, (written, *below), info, None)
