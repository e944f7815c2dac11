"""What a scenario describes: a chain of images, bottom to top, and their bitmaps."""

import hashlib
from dataclasses import dataclass

from qcow2_conformance.scenarios.checkpoints import valid_chain

RECORDING = "recording"
DISABLED = "disabled"
INCONSISTENT_RECORDING = "inconsistent-recording"
INCONSISTENT_DISABLED = "inconsistent-disabled"
STATES = (RECORDING, DISABLED, INCONSISTENT_RECORDING, INCONSISTENT_DISABLED)

FORMATS = ("qcow2", "qcow2-v2", "raw")
# The procedures a scenario can be for (procedures/: one object each runs them).
SNAPSHOT = "snapshot"
COMMIT = "commit"
PROCEDURES = (SNAPSHOT, COMMIT)
# The marks a commit scenario puts on two images of its chain (an image's `role`).
COMMIT_TOP, COMMIT_BASE = "commit-top", "commit-base"
COMMIT_ROLES = (COMMIT_TOP, COMMIT_BASE)
# clean-failure's conditions: call 1, 2 or 3 of qemu-img bitmap (or the daemon) fails or dies.
FAULT_CALLS = (1, 2, 3)
FAULT_MODES = ("fails", "dies")


def roles(count):
    """Roles of a chain's images, bottom to top: layer0, layer1, ..., ACTIVE."""
    return [f"layer{i}" for i in range(count - 1)] + ["ACTIVE"]


@dataclass(frozen=True)
class Bitmap:
    name: str
    state: str
    granularity: int | None  # None: qemu's default for the cluster size
    dirty: tuple  # (offset, length) guest ranges written while it recorded

    @property
    def inconsistent(self):
        return self.state.startswith("inconsistent")

    @property
    def recording(self):
        return self.state in (RECORDING, INCONSISTENT_RECORDING)


@dataclass(frozen=True)
class Image:
    format: str
    size: int | None  # None: the size of the image below
    cluster_size: int | None
    data: tuple  # (offset, length) ranges written before any bitmap existed
    bitmaps: tuple
    commit_role: str | None = None  # COMMIT_TOP, COMMIT_BASE, or None

    def bitmap_named(self, name):
        return next((b for b in self.bitmaps if b.name == name), None)

    @property
    def qemu_format(self):
        return "raw" if self.format == "raw" else "qcow2"

    @property
    def compat(self):
        return {"qcow2": "1.1", "qcow2-v2": "0.10"}.get(self.format)


@dataclass(frozen=True)
class Scenario:
    name: str
    family: str  # the catalog file it comes from
    description: str
    images: tuple  # bottom to top; the last one is ACTIVE
    source: str  # file path, for messages
    hardening: tuple = ()  # the hardening checks run on this scenario
    procedure: str = SNAPSHOT  # the procedure it is for

    @property
    def active(self):
        return self.images[-1]

    def marked(self, role):
        """The index, bottom up, of the image marked role (COMMIT_TOP, COMMIT_BASE), or None."""
        return next((i for i, image in enumerate(self.images) if image.commit_role == role), None)

    @property
    def commit_top(self):
        return self.marked(COMMIT_TOP)

    @property
    def commit_base(self):
        return self.marked(COMMIT_BASE)

    @property
    def above(self):
        """The index of ABOVE, the image right above COMMIT_TOP; None for an active commit."""
        top = self.commit_top
        return top + 1 if top is not None and top + 1 < len(self.images) else None

    def roles(self):
        return roles(len(self.images))

    def chain_digest(self):
        """A key for the chain this scenario builds: equal images, equal key.

        The name, family, description and source do not change the chain, so
        scenarios that differ only in those share one built chain.
        """
        text = repr(self.images).encode("utf-8", "surrogatepass")
        return hashlib.sha256(text).hexdigest()[:24]

    def dirty_checkpoints(self):
        """Names with dirty bits in a consistent bitmap somewhere in the chain, in order.

        qemu refuses to merge from an inconsistent bitmap, so those are left out.
        """
        return list(
            dict.fromkeys(
                b.name
                for image in self.images
                for b in image.bitmaps
                if b.dirty and not b.inconsistent
            )
        )

    def carried_at_commit_top(self):
        """The names whose chain, from COMMIT_TOP down, holds by the chain rules, as declared.

        The commit carries exactly these; rules.commit reads them from the images instead.
        """
        below = list(reversed(self.images[: self.commit_top + 1]))
        names = dict.fromkeys(b.name for image in below for b in image.bitmaps)
        return [name for name in names if valid_chain([_held(i, name) for i in below])]

    def virtual_size(self, index):
        """The virtual size of image index, following 'same as below'."""
        for image in reversed(self.images[: index + 1]):
            if image.size is not None:
                return image.size
        raise ValueError(f"scenario {self.name!r}: no image states a size")

    def summary(self):
        """A compact view of the chain, bottom to top: 'qcow2 cp1(r) off(d) <- qcow2 cp1(r)'.

        States: r recording, d disabled, ir and id inconsistent recording and
        disabled. A commit scenario marks COMMIT_TOP and COMMIT_BASE with TOP: and
        BASE:. Long names are cut, and past three bitmaps a layer says +N.
        """
        marks = {
            RECORDING: "r",
            DISABLED: "d",
            INCONSISTENT_RECORDING: "ir",
            INCONSISTENT_DISABLED: "id",
        }
        layers = []
        for image in self.images:
            shown = [f"{_short(b.name)}({marks[b.state]})" for b in image.bitmaps[:3]]
            if len(image.bitmaps) > 3:
                shown.append(f"+{len(image.bitmaps) - 3}")
            mark = {COMMIT_TOP: "TOP:", COMMIT_BASE: "BASE:"}.get(image.commit_role, "")
            layers.append(" ".join([mark + image.format] + shown))
        return " <- ".join(layers)


def _held(image, name):
    """What image holds of name, as checkpoints.valid_chain asks it."""
    b = image.bitmap_named(name)
    return None if b is None else (b.recording, not b.inconsistent)


def _short(name, width=10):
    printable = name.encode("unicode_escape").decode("ascii")
    return printable if len(printable) <= width else printable[: width - 1] + "…"
