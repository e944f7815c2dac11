"""What the harness knows of a lifecycle's disk, without reading it.

- The truth: the guest's disk, byte for byte (the harness made every write),
  and the truth at each checkpoint's creation, which an incremental backup
  since it is restored on.
- The expected bitmaps: what every image would hold had every snapshot and
  commit followed the procedure (docs/rules.md): a snapshot carries the
  top's recording, consistent bitmaps; a commit carries the names whose
  chain is valid at COMMIT_TOP into COMMIT_BASE; another tool's snapshot
  carries nothing. Whether a checkpoint is valid at the top is asked of
  checkpoints.valid_chain, the one definition of a valid chain.

Every bitmap the lifecycle makes is recording and consistent, so the model
holds names only, with their granularity (None: qemu's default).
"""

from qcow2_conformance.scenarios.checkpoints import valid_chain
from qcow2_conformance.scenarios.lifecycle import (
    Backup,
    Checkpoint,
    Commit,
    ForeignSnapshot,
    ReuseName,
    Snapshot,
    Write,
)


class LifecycleModel:
    def __init__(self, size):
        self.size = size
        self.disk = bytearray(size)
        self.images = [{}]  # per image, base first: {name: granularity}
        self.created = {}  # {name: bytes of the disk when it was (last) made}

    def held(self, name, images=None):
        """valid_chain's argument for name: per image, top first."""
        images = self.images if images is None else images
        return [(True, True) if name in image else None for image in reversed(images)]

    def valid(self, name):
        return valid_chain(self.held(name))

    def names(self):
        """Every checkpoint name made so far, in the order made."""
        return list(self.created)

    def invalid_names(self):
        """Names made before whose chain is not valid and that the top lacks: reusable."""
        return [n for n in self.created if not self.valid(n) and n not in self.images[-1]]

    def truth_at(self, name):
        return self.created[name]

    def applies(self, event):
        """Why event cannot happen on this disk now, or None."""
        if isinstance(event, Write):
            if not (
                0 <= event.offset and 0 < event.length and event.offset + event.length <= self.size
            ):
                return f"a write past the disk's {self.size} bytes"
        if isinstance(event, Checkpoint) and event.name in self.created:
            return f"checkpoint {event.name!r} exists"
        if isinstance(event, ReuseName) and event.name not in self.invalid_names():
            return f"{event.name!r} is not a name whose chain is no longer valid"
        if isinstance(event, Commit) and not 0 <= event.base < event.top < len(self.images):
            return f"no images {event.base + 1}..{event.top} above {event.base} in the chain"
        if isinstance(event, Backup) and event.name is not None and event.name not in self.created:
            return f"no checkpoint {event.name!r}"
        return None

    def apply(self, event, done=True):
        """The model after event; done False: the implementation's snapshot or commit failed,
        and left the chain as it was."""
        if isinstance(event, Write):
            self.disk[event.offset : event.offset + event.length] = bytes([event.pattern]) * (
                event.length
            )
        elif isinstance(event, (Checkpoint, ReuseName)):
            self.images[-1][event.name] = getattr(event, "granularity", None)
            self.created[event.name] = bytes(self.disk)
        elif isinstance(event, Snapshot) and done:
            # Every bitmap of the model is recording and consistent: all are carried.
            self.images.append(dict(self.images[-1]))
        elif isinstance(event, ForeignSnapshot):
            self.images.append({})
        elif isinstance(event, Commit) and done:
            self.images = committed(self.images, event.top, event.base)


def carried(images, top):
    """The names whose chain is valid with images[top] as TOP (images base first)."""
    below = images[: top + 1]
    names = {n for image in below for n in image}
    model = LifecycleModel(0)
    return sorted(n for n in names if valid_chain(model.held(n, below)))


def committed(images, top, base):
    """The chain after a commit of images[base+1 .. top] into images[base] by the algorithm.

    Each carried name gets a bitmap in COMMIT_BASE (the top's granularity when
    COMMIT_BASE lacked it); the merges change dirty bits, not which images hold
    a name, so the model has nothing more to do.
    """
    new_base = dict(images[base])
    for name in carried(images, top):
        new_base.setdefault(name, images[top][name])
    return images[:base] + [new_base] + images[top + 1 :]
