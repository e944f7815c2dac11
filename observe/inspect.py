"""Read the facts of images with the harness's own qcow2 reader.

qemu-img is under test in a regression run, so the rules judge what the
files hold; qemu-img's account is collected beside it for the cross-check.
Files are read on the machine that runs the harness.
"""

import hashlib
import os

import qcow2
from observe.facts import BitmapFacts, ImageFacts, QemuAccount
from scenarios.model import roles
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
            for b in img.bitmaps
        )
        allocated = tuple((e.offset, e.length, e.kind) for e in img.allocated_extents())
        return ImageFacts(
            role=role,
            path=path,
            format="qcow2",
            compat=img.compat,
            virtual_size=img.header.size,
            cluster_size=img.header.cluster_size,
            backing_file=backing,
            backing_path=_resolve(path, backing),
            backing_format=img.backing_format,
            bitmaps=bitmaps,
            allocated=allocated,
            data_digest=img.data_digest(),
        )


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
    """qemu-img's account of each image, by role; -U, as another process may hold it."""
    return {i.role: qemu_account(tools, i.path, i.format) for i in images}


def qemu_account(tools, path, fmt=None):
    """What qemu-img info says of the image at path, as a QemuAccount."""
    info = qemu_img.info(tools, path, fmt=fmt, force_share=True)
    return QemuAccount(
        format=info.get("format"),
        virtual_size=info.get("virtual-size"),
        backing_file=info.get("backing-filename"),
        backing_format=info.get("backing-filename-format"),
        bitmaps=tuple(
            (b["name"], "in-use" in b["flags"], "auto" in b["flags"], b["granularity"])
            for b in qemu_img.bitmaps(info)
        ),
    )


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
            _digest_nonzero(digest, off, f.read(length))
            allocated.append((off, length, "data"))
    return ImageFacts(
        role,
        path,
        "raw",
        None,
        size,
        None,
        None,
        None,
        None,
        (),
        tuple(allocated),
        digest.hexdigest(),
    )


def _digest_nonzero(digest, off, data, block=512):
    """Add data's non-zero blocks, with their offsets, to digest.

    Zero blocks are left out: zeros the guest reads from a hole or from
    written zeros are the same data (qemu writes the first block of a new raw
    file; a sparse copy makes it a hole again).
    """
    for start in range(0, len(data), 65536):
        chunk = data[start : start + 65536]
        if chunk.count(0) != len(chunk):
            for at in range(0, len(chunk), block):
                piece = chunk[at : at + block]
                if piece.count(0) != len(piece):
                    digest.update((off + start + at).to_bytes(8, "big") + piece)


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
