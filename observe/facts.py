"""The facts rules judge. Plain frozen data, built by observe.inspect."""

from dataclasses import dataclass


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
        return next((b for b in self.bitmaps if b.name == name), None)

    @property
    def names(self):
        return [b.name for b in self.bitmaps]


@dataclass(frozen=True)
class Observation:
    """Everything known about one run of an implementation on one scenario."""
    run: object  # implementations.base.RunFacts
    before: tuple  # ImageFacts of the pristine chain, bottom to top
    after: tuple  # ImageFacts of the same images after the run
    overlay: ImageFacts | None  # None: missing or unreadable (see overlay_error)
    overlay_error: str | None
    overlay_check: dict | None  # qemu-img check --output=json of OVERLAY

    @property
    def active(self):
        return self.before[-1]
