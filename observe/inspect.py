"""Read the facts of images with the harness's own qcow2 reader.

qemu-img is the tool under test in a regression run, so what the rules judge
comes from the files themselves. Files are read locally: the harness reads
images on the machine it runs on.
"""

import hashlib
import os

import qcow2
from observe.facts import ImageFacts, BitmapFacts, Observation
from tools import qemu_img


def image_facts(path, role):
    """Return ImageFacts of the image at path; raise qcow2.Qcow2Error if damaged."""
    if qcow2.probe_format(path) == "raw":
        return _raw_facts(path, role)
    with qcow2.open_image(path) as img:
        backing = img.backing_file
        bitmaps = tuple(
            BitmapFacts(b.name, b.in_use, b.auto, b.granularity, tuple(img.dirty_extents(b)))
            for b in img.bitmaps)
        allocated = tuple((e.offset, e.length, e.kind) for e in img.allocated_extents())
        return ImageFacts(
            role=role, path=path, format="qcow2", compat=img.compat,
            virtual_size=img.header.size, cluster_size=img.header.cluster_size,
            backing_file=backing, backing_path=_resolve(path, backing),
            backing_format=img.backing_format, bitmaps=bitmaps, allocated=allocated,
            data_digest=img.data_digest())


def chain_facts(paths):
    """ImageFacts of a chain's files, bottom to top; the top one is ACTIVE."""
    roles = [f"layer{i}" for i in range(len(paths) - 1)] + ["ACTIVE"]
    return tuple(image_facts(p, r) for p, r in zip(paths, roles))


def observe(tools, run, before, chain_paths, overlay_path):
    """Observe the chain and OVERLAY after an implementation ran."""
    after = chain_facts(chain_paths)
    overlay, error, check = None, None, None
    if run.overlay_exists:
        try:
            overlay = image_facts(overlay_path, "OVERLAY")
        except (qcow2.Qcow2Error, OSError) as e:
            error = f"OVERLAY is not a readable image: {e}"
        if overlay is not None and overlay.format == "qcow2":
            check = qemu_img.check(tools, overlay_path)
    return Observation(run, before, after, overlay, error, check)


def _resolve(path, backing):
    if backing is None:
        return None
    if backing.startswith(("json:", "nbd:")) or "://" in backing:
        return backing
    return os.path.realpath(os.path.join(os.path.dirname(path), backing))


def _raw_facts(path, role):
    size = os.path.getsize(path)
    digest = hashlib.sha256()
    allocated = []
    with open(path, "rb") as f:
        for off, length in _data_extents(f.fileno(), size):
            f.seek(off)
            digest.update(off.to_bytes(8, "big") + f.read(length))
            allocated.append((off, length, "data"))
    return ImageFacts(role, path, "raw", None, size, None, None, None, None, (),
                      tuple(allocated), digest.hexdigest())


def _data_extents(fd, size):
    """The non-hole ranges of a sparse file (SEEK_DATA/SEEK_HOLE)."""
    off = 0
    while off < size:
        try:
            start = os.lseek(fd, off, os.SEEK_DATA)
        except OSError:
            return
        end = os.lseek(fd, start, os.SEEK_HOLE)
        yield start, end - start
        off = end
