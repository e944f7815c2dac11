"""The facts rules judge. Plain frozen data, built by observe.inspect."""

from dataclasses import dataclass, field
from functools import cached_property


@dataclass(frozen=True)
class BitmapFacts:
    name: str
    in_use: bool  # inconsistent: not saved properly, cannot be trusted
    auto: bool  # recording
    granularity: int
    dirty: tuple  # merged (offset, length) guest ranges with bits set

    @property
    def carried(self):
        """Recording and consistent: the procedure carries it to the overlay."""
        return self.auto and not self.in_use

    @property
    def disabled(self):
        return not self.auto and not self.in_use

    def describe(self):
        flags = [f for f, on in (("in-use", self.in_use), ("auto", self.auto)) if on]
        return f"{self.name!r} [{' '.join(flags) or 'no flags'}] granularity {self.granularity}"


@dataclass(frozen=True)
class ImageFacts:
    role: str  # ACTIVE, OVERLAY, or layerN for images below ACTIVE
    path: str
    format: str  # raw or qcow2
    compat: str | None  # "1.1" (v3), "0.10" (v2), None for raw
    virtual_size: int
    cluster_size: int | None
    backing_file: str | None  # as stored in the image
    backing_path: str | None  # resolved against the image's folder
    backing_format: str | None
    bitmaps: tuple  # BitmapFacts, in on-disk order
    allocated: tuple  # (offset, length, kind) this image maps itself
    data_digest: str  # of what this image itself holds

    def bitmap(self, name):
        """The first of its bitmaps named name, or None."""
        return self._by_name.get(name)

    @cached_property
    def _by_name(self):
        # Made once: the chain rules ask every image of a chain for every
        # checkpoint, and a scan of its bitmaps per question grew with their square.
        found = {}
        for b in self.bitmaps:
            found.setdefault(b.name, b)
        return found

    @property
    def names(self):
        return [b.name for b in self.bitmaps]


@dataclass(frozen=True)
class QemuAccount:
    """What qemu-img info says of an image; the cross-check holds it against the reader."""

    format: str | None
    virtual_size: int | None
    backing_file: str | None
    backing_format: str | None
    bitmaps: tuple  # (name, in_use, auto, granularity), in qemu-img's order


@dataclass(frozen=True)
class Baseline:
    """Facts of a scenario's pristine chain: the same for every implementation."""

    images: tuple  # ImageFacts, bottom to top
    qemu_info: dict  # role -> QemuAccount
    merged: dict  # checkpoint name -> (reader's union, qemu's merge or None) of its dirty bits
    declared_writes: dict  # checkpoint name -> the ranges written while it recorded
    merge_missing: str | None = None  # why qemu could not merge (a skip reason)


@dataclass(frozen=True)
class ProbeFacts:
    """What the backup probe wrote through OVERLAY, and the chain afterwards."""

    writes: tuple  # (offset, length)
    chain: tuple  # ImageFacts after the writes: OVERLAY first, then ACTIVE and below
    qemu_info: object  # QemuAccount of OVERLAY after the writes, or None
    error: str | None


@dataclass(frozen=True)
class Observation:
    """Everything known about one run of an implementation on one scenario."""

    run: object  # implementations.base.RunFacts
    baseline: Baseline
    # ImageFacts of the chain's images after the run, bottom to top; None for one the
    # run lost (see damage)
    after: tuple
    overlay: ImageFacts | None  # None: missing or unreadable (see overlay_error)
    overlay_error: str | None
    overlay_check: dict | None  # qemu-img check --output=json of OVERLAY
    qemu_info: dict  # role -> QemuAccount, after the run
    probe: ProbeFacts | None  # None: no probe ran (the run failed)
    folder_changes: object = None  # observe.folder.FolderChanges; None: not listed
    overlay_exists: bool = False  # a file is at OVERLAY's path after the run
    damage: dict = field(default_factory=dict)  # index -> observe.damage.Damage

    @property
    def before(self):
        return self.baseline.images

    @property
    def lost(self):
        """What happened to the chain's images the run lost, in one line; None if none."""
        return "; ".join(d.line for d in self.damage.values() if d.lost) or None

    @property
    def active(self):
        return self.before[-1]

    @property
    def declared_writes(self):
        return self.baseline.declared_writes

    def chain_after(self):
        """The chain from OVERLAY down, right after the run."""
        return (self.overlay,) + tuple(reversed(self.after))

    def view(self, role, side):
        """(ImageFacts, QemuAccount) of image role on side before/after/written."""
        if side == "before":
            images, infos = self.before, self.baseline.qemu_info
        elif side == "after":
            images, infos = self.after + (self.overlay,), self.qemu_info
        else:
            probe = self.probe
            images = probe.chain[:1] if probe and not probe.error else ()
            infos = {"OVERLAY": probe.qemu_info} if images else {}
        facts = next((i for i in images if i and i.role == role), None)
        return facts, infos.get(role)


@dataclass(frozen=True)
class CommitObservation:
    """Everything known about one run of an implementation of the commit procedure.

    Indices are into the chain before the commit, bottom up: top is COMMIT_TOP,
    base COMMIT_BASE, above ABOVE (None for an active commit).
    """

    run: object  # implementations.base.RunFacts
    baseline: Baseline
    top: int
    base: int
    above: int | None
    after: tuple  # per image of the chain before: its ImageFacts after the run, or None
    unreadable: dict  # index -> why the image could not be read after the run
    same_content: tuple | None  # (same, what qemu-img compare said); None: not compared
    checks: dict  # index -> qemu-img check --output=json, of COMMIT_BASE and ABOVE
    probe: ProbeFacts | None  # writes through the new top; chain is top first
    folder_changes: object = None
    # index -> observe.damage.Damage, of the images that stay in the chain (COMMIT_BASE,
    # those below it, ABOVE and those above); a lost one's ImageFacts in after is None
    damage: dict = field(default_factory=dict)

    @property
    def before(self):
        return self.baseline.images

    @property
    def lost(self):
        """What happened to the images the run lost that stay in the chain, in one line."""
        return "; ".join(d.line for d in self.damage.values() if d.lost) or None

    @property
    def base_before(self):
        return self.before[self.base]

    @property
    def base_after(self):
        return self.after[self.base]

    @property
    def new_top(self):
        """The index of the chain's top after the commit: ACTIVE, or COMMIT_BASE."""
        return len(self.before) - 1 if self.above is not None else self.base

    def label(self, index):
        """How messages name image index: 'COMMIT_BASE (layer1)'."""
        marks = {self.top: "COMMIT_TOP", self.base: "COMMIT_BASE", self.above: "ABOVE"}
        role = self.before[index].role
        return f"{marks[index]} ({role})" if index in marks else role

    def chain_before(self, index=None):
        """The chain before the commit from image index (default: the top) down, top first."""
        index = len(self.before) - 1 if index is None else index
        return tuple(reversed(self.before[: index + 1]))
