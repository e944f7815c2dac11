"""What a lifecycle needs to know of a chain's images: their backing links and bitmaps.

Read with the harness's own qcow2 reader (observe/inspect.py), so a tool
under test cannot hide a broken link or a lost bitmap behind qemu-img.
"""

import os
from dataclasses import dataclass

from qcow2_conformance.observe import inspect


@dataclass(frozen=True)
class BitmapState:
    granularity: int
    recording: bool  # the auto flag: writes set its bits
    consistent: bool  # not in use: it was stored properly and can be trusted


@dataclass(frozen=True)
class ImageState:
    path: str  # as given
    real: str  # symbolic links followed, as backing links are resolved
    backing: str | None  # the backing file, resolved against the image's folder
    bitmaps: dict  # name -> BitmapState, in on-disk order


def chain_state(tools, paths):
    """An ImageState for each of paths, in order, all in one read; raise
    inspect.InspectError if one cannot be read."""
    states = []
    for path, got in zip(paths, inspect.answers(tools, [("links", p, "") for p in paths])):
        if not got["exists"]:
            raise inspect.InspectError(f"{os.path.basename(path)} ({path}) does not exist")
        if got["error"] is not None:
            raise inspect.InspectError(f"{path} is not a readable image: {got['error']}")
        links = got["links"]
        bitmaps = {
            name: BitmapState(granularity, recording=auto, consistent=not in_use)
            for name, in_use, auto, granularity in links["bitmaps"]
        }
        states.append(ImageState(path, links["path"], links["backing_path"], bitmaps))
    return tuple(states)
