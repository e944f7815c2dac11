"""What a run did to the files of the chain's images, said in one line each.

A tool that deletes, truncates or replaces an image it was given has
damaged the chain: that is a verdict about the tool (active-untouched,
commit-relink, commit-completes), not a failure of the harness. The file's
inode and size before the run (FolderChanges.held) and after it
(inspect.Read.file) tell the three apart from a write in place.
"""

import os
from typing import NamedTuple

UNREADABLE = "is not a readable image"  # how inspect.read_images says it


class Damage(NamedTuple):
    line: str  # what happened, naming the image: "ACTIVE (active.qcow2) was deleted"
    lost: bool  # its contents cannot be judged: gone, cut short, or not an image


def of(name, before, read):
    """The Damage done to image name ("ACTIVE (active.qcow2)"), or None.

    before: the file's (inode, size) before the run, None when not known;
    read: its inspect.Read after the run. A file replaced by a readable image
    is judged on what it holds as well; a truncated one is not, even when it
    still reads: what is left of it is not the image the chain had.
    """
    if not read.exists:
        return Damage(f"{name} was deleted", True)
    # inspect.read_images names the image by its role alone: keep what it says of it.
    unreadable = None
    if read.error:
        _, found, why = read.error.partition(UNREADABLE)
        unreadable = found + why if found else read.error
    what = None
    if before is not None and read.file is not None:
        (inode, size), (inode_after, size_after) = before, read.file
        if inode_after != inode:
            what = "was replaced (inode changed)"
        elif size_after < size:
            what = f"was truncated from {size} to {size_after} bytes"
    if what is None:
        return Damage(f"{name} {unreadable}", True) if unreadable else None
    if unreadable:
        what += f" and {unreadable}"
    return Damage(f"{name} {what}", unreadable is not None or "truncated" in what)


def of_chain(paths, names, reads, folder_changes):
    """{index: Damage} of the chain's images; names: how messages name each ("ACTIVE").

    folder_changes (observe.folder.FolderChanges, or None) holds each
    image's file before the run; reads are the inspect.Reads after it.
    """
    found = {}
    for index, (path, name, read) in enumerate(zip(paths, names, reads)):
        before = folder_changes.image_before(index) if folder_changes else None
        hurt = of(f"{name} ({os.path.basename(path)})", before, read)
        if hurt:
            found[index] = hurt
    return found
