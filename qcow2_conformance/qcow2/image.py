"""The Qcow2Image facade and the module level entry points."""

import functools
import struct

from . import bitmaps as bm
from . import clusters, dirty, extensions, layout
from . import header as hdr
from .errors import Qcow2Error
from .fileio import File

COMPAT = {2: "0.10", 3: "1.1"}
FIRST_READ = 64 * 1024
CLUSTER_BITS = struct.Struct(">I")


def probe_format(path):
    """Return "qcow2" if the file starts with the qcow2 magic, else "raw"."""
    with open(path, "rb") as f:
        magic = f.read(len(hdr.MAGIC))
    return "qcow2" if magic == hdr.MAGIC else "raw"


def open_image(path):
    """Open and validate a qcow2 image; use it as a context manager."""
    return Qcow2Image(path)


def _peek_cluster_size(buf):
    """The cluster size if buf looks like a qcow2 header, else 0; the real
    validation happens in header.parse()."""
    if len(buf) < 24 or buf[:4] != hdr.MAGIC:
        return 0
    (bits,) = CLUSTER_BITS.unpack_from(buf, 20)
    if not hdr.MIN_CLUSTER_BITS <= bits <= hdr.MAX_CLUSTER_BITS:
        return 0
    return 1 << bits


def _guarded(func):
    """Turn any parsing bug into a Qcow2Error.

    Every check is meant to raise Qcow2Error itself; this is the last line
    of defence so callers never see struct.error or IndexError from a
    hostile file. The "internal error" wording lets tests catch such bugs.
    """

    @functools.wraps(func)
    def wrapper(self, *args, **kwargs):
        try:
            return func(self, *args, **kwargs)
        except (Qcow2Error, OSError):
            raise
        except (struct.error, IndexError, ValueError, UnicodeError, OverflowError) as e:
            raise Qcow2Error(f"{self._file.path}: internal error while parsing: {e!r}") from e

    return wrapper


class Qcow2Image:
    """A read-only view of one qcow2 file (not its backing chain)."""

    def __init__(self, path):
        self._file = File(path)
        self._runs = None  # the mapping, once read
        try:
            self._load()
        except BaseException:
            self._file.close()
            raise

    @_guarded
    def _load(self):
        f = self._file
        # The header, extensions and backing file name all live in the first
        # cluster. Most images use 64 KiB clusters, so one read usually
        # covers it; bigger clusters need a second one.
        first = f.pread("first cluster", 0, min(f.size, FIRST_READ))
        cluster_size = _peek_cluster_size(first)
        if cluster_size > len(first) and f.size > len(first):
            first = f.pread("first cluster", 0, min(f.size, cluster_size))
        self.header = hdr.parse(first, f.size)
        first = first[: self.header.cluster_size]
        self._ext = extensions.parse(self.header, first, f.size)
        self.backing_file = layout.backing_file(self.header, first)
        self.bitmaps = self._load_bitmaps()

    def _load_bitmaps(self):
        ext = self._ext.bitmaps
        if ext is None:
            return []
        directory = self._file.pread("bitmap directory", ext.directory_offset, ext.directory_size)
        return bm.parse_directory(
            directory, ext.directory_offset, ext.nb_bitmaps, self.header, self._file.size
        )

    # Header extensions.

    @property
    def compat(self):
        return COMPAT[self.header.version]

    @property
    def backing_format(self):
        return self._ext.backing_format

    @property
    def feature_names(self):
        return dict(self._ext.feature_names)

    @property
    def data_file(self):
        return self._ext.data_file

    @property
    def extensions(self):
        """(type, offset of the extension header, data length) tuples."""
        return list(self._ext.items)

    @property
    def bitmaps_stale(self):
        """A bitmaps extension exists but the autoclear bit is clear, so its
        bitmaps are ignored (as qemu does)."""
        return self._ext.bitmaps_stale

    # Bitmaps.

    def bitmap(self, name):
        for b in self.bitmaps:
            if b.name == name:
                return b
        raise KeyError(name)

    @_guarded
    def dirty_extents(self, bitmap):
        """Sorted, merged (offset, length) guest ranges whose bits are set.

        The bits of an in-use bitmap are returned as stored; they may be
        stale, check bitmap.in_use.
        """
        return dirty.dirty_extents(self._file, self.header, self._resolve(bitmap))

    @_guarded
    def dirty_count(self, bitmap):
        """Number of set bits (granules) inside the virtual disk."""
        return dirty.dirty_count(self._file, self.header, self._resolve(bitmap))

    def _resolve(self, bitmap):
        if isinstance(bitmap, str):
            return self.bitmap(bitmap)
        return bitmap

    # Guest data.

    @_guarded
    def allocated_extents(self):
        return clusters.allocated_extents(self._mapping())

    @_guarded
    def data_digest(self):
        return clusters.data_digest(self._file, self.header, self._mapping())

    def _mapping(self):
        """The guest clusters' mapping (clusters.runs), read once for both the
        extents and the digest: walking the L2 tables was most of what either cost."""
        if self._runs is None:
            self._runs = clusters.runs(self._file, self.header)
        return self._runs

    # Lifetime.

    def close(self):
        self._file.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __repr__(self):
        return (
            f"<Qcow2Image {self._file.path!r} compat={self.compat} "
            f"size={self.header.size} bitmaps={len(self.bitmaps)}>"
        )
