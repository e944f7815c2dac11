"""Read the facts of images with the harness's own qcow2 reader.

qemu-img is under test in a regression run, so the rules judge what the
files hold; qemu-img's account is collected beside it for the cross-check.
Files are read on the machine that runs the harness.
"""

import hashlib
import os

import qcow2
from observe.extents import merge
from observe.facts import BitmapFacts, ImageFacts
from tools import qemu_img


class InspectError(Exception):
    """An image of the chain could not be read."""


def image_facts(path, role):
    """Return ImageFacts of the image at path; raise qcow2.Qcow2Error if damaged."""
    path = os.path.realpath(path)
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


def roles(count):
    """Roles of a chain's images, bottom to top: layer0, layer1, ..., ACTIVE."""
    return [f"layer{i}" for i in range(count - 1)] + ["ACTIVE"]


def chain_facts(paths):
    """ImageFacts of a chain's files, bottom to top; the top one is ACTIVE."""
    facts = []
    for path, role in zip(paths, roles(len(paths))):
        try:
            facts.append(image_facts(path, role))
        except qcow2.Qcow2Error as e:
            raise InspectError(f"{role} ({path}): {e}") from None
    return tuple(facts)


def qemu_infos(tools, images):
    """qemu-img info of each image, by role; -U, as another process may hold it."""
    return {i.role: qemu_img.info(tools, i.path, fmt=i.format, force_share=True) for i in images}


def union_of(images, name):
    """The merged dirty ranges of every bitmap called name in images."""
    return merge(e for image in images if image.bitmap(name) for e in image.bitmap(name).dirty)


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
