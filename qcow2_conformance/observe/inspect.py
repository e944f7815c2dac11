"""Read the facts of images with the harness's own qcow2 reader, where the images are.

qemu-img is under test in a regression run, so the rules judge what the
files hold; qemu-img's account is collected beside it for the cross-check.
The reading itself is observe/reader.py: in this process when the target is
this machine, else on the target, by the harness's agent there
(tools/hosts.py), so that only facts come back.
"""

import os
from typing import NamedTuple

from qcow2_conformance.observe import reader
from qcow2_conformance.observe.facts import BitmapFacts, ImageFacts, QemuAccount
from qcow2_conformance.scenarios.model import roles
from qcow2_conformance.tools import command, hosts, qemu_img


class InspectError(Exception):
    """An image could not be read: missing, damaged, or not an image."""


def answers(tools, requests):
    """The reader's answers to [operation, path, role] requests, read on the target."""
    if hosts.is_local(tools.host):
        return reader.answer(requests)
    return tools.host.read(requests)


class Read(NamedTuple):
    facts: ImageFacts | None
    error: str | None  # why there are no facts
    exists: bool
    file: tuple | None = None  # (inode, size) of the file at the path, None if there is none


def read_images(tools, items):
    """A Read for each (path, role), all in one read."""
    found = []
    for (path, role), got in zip(items, answers(tools, [("facts", p, r) for p, r in items])):
        name = f"{role} ({os.path.basename(path)})"
        file = tuple(got["file"]) if got.get("file") else None
        if not got["exists"]:
            found.append(Read(None, f"{name} does not exist", False))
        elif got["error"] is not None:
            found.append(Read(None, f"{name} is not a readable image: {got['error']}", True, file))
        else:
            found.append(Read(_image_facts(got["facts"]), None, True, file))
    return found


def file_ids(tools, paths):
    """(inode, size) of the file at each path, None where there is none: all in one read."""
    return tuple(
        tuple(got["file"]) if got.get("file") else None
        for got in answers(tools, [("file", path, "") for path in paths])
    )


def image_facts(tools, path, role):
    """ImageFacts of the image at path; raise InspectError if it cannot be read."""
    return chain_facts(tools, [path], [role])[0]


def chain_facts(tools, paths, names=None):
    """ImageFacts of a chain's files, bottom to top; the top one is ACTIVE."""
    facts = []
    for read in read_images(tools, list(zip(paths, names or roles(len(paths))))):
        if read.error:
            raise InspectError(read.error)
        facts.append(read.facts)
    return tuple(facts)


def file_digest(tools, path):
    """sha256 of the whole file at path, or None if there is none."""
    (got,) = answers(tools, [("sha256", path, "")])
    if got["error"] is not None:
        raise InspectError(f"{path}: {got['error']}")
    return got.get("sha256")


def _image_facts(d):
    return ImageFacts(
        role=d["role"],
        path=d["path"],
        format=d["format"],
        compat=d["compat"],
        virtual_size=d["virtual_size"],
        cluster_size=d["cluster_size"],
        backing_file=d["backing_file"],
        backing_path=d["backing_path"],
        backing_format=d["backing_format"],
        bitmaps=tuple(
            BitmapFacts(name, in_use, auto, granularity, tuple(map(tuple, dirty)))
            for name, in_use, auto, granularity, dirty in d["bitmaps"]
        ),
        allocated=tuple(map(tuple, d["allocated"])),
        data_digest=d["data_digest"],
    )


def qemu_infos(tools, images):
    """qemu-img's account of each image (bottom to top), by role; -U, as another
    process may hold them.

    One qemu-img call for the whole chain when every link is what the reader
    saw (each image's backing file is the one below it, with its format):
    qemu then opens the same files with the same formats as one call per
    image would. Otherwise, or if that call fails, one call per image.
    """
    if len(images) > 1 and _linked(images):
        top = images[-1]
        try:
            infos = qemu_img.info(
                tools, top.path, fmt=top.format, force_share=True, backing_chain=True
            )
        except command.CommandError:
            infos = []
        if len(infos) == len(images):
            return {i.role: _account(info) for i, info in zip(images, reversed(infos))}
    return {i.role: qemu_account(tools, i.path, i.format) for i in images}


def _linked(images):
    return images[0].backing_file is None and all(
        upper.backing_path == lower.path and upper.backing_format == lower.format
        for lower, upper in zip(images, images[1:])
    )


def qemu_check(tools, path):
    """qemu-img check's report of the image at path; {"not-run": why} when qemu could not
    open it, as when a tool left the chain below it broken: that is a fact about the tool's
    run, for its rules to judge, not a failure of the harness."""
    try:
        return qemu_img.check(tools, path)
    except command.CommandError as e:
        return {"not-run": str(e)}


def qemu_account(tools, path, fmt=None):
    """What qemu-img info says of the image at path, as a QemuAccount."""
    return _account(qemu_img.info(tools, path, fmt=fmt, force_share=True))


def _account(info):
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


def qemu_account_of(info):
    """The QemuAccount in one qemu-img info dict (one item of --backing-chain's list)."""
    return _account(info)
