"""What a lifecycle needs to know of a chain's images: their backing links and bitmaps.

Read with the harness's own qcow2 reader (observe/inspect.py), so a tool
under test cannot hide a broken link or a lost bitmap behind qemu-img.
"""

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
    """An ImageState for each of paths, in order; raise inspect.InspectError if one
    cannot be read."""
    reads = inspect.read_images(tools, [(p, f"image {i}") for i, p in enumerate(paths)])
    states = []
    for path, read in zip(paths, reads):
        if read.error:
            raise inspect.InspectError(read.error)
        facts = read.facts
        bitmaps = {
            b.name: BitmapState(b.granularity, recording=b.auto, consistent=not b.in_use)
            for b in facts.bitmaps
        }
        states.append(ImageState(path, facts.path, facts.backing_path, bitmaps))
    return tuple(states)
