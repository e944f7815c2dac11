"""Bitmap tables and the dirty bits they point to."""

import sys
from array import array
from itertools import compress

from .errors import at
from .fileio import be64_array

TABLE_OFFSET_MASK = 0x00FFFFFFFFFFFE00
TABLE_RESERVED_MASK = 0xFF000000000001FE
TABLE_ALL_ONES = 1


def _table(f, bitmap, cluster_size):
    """Yield (index, entry) for the non-zero, validated table entries."""
    raw = f.pread(f"bitmap table of {bitmap.name!r}", bitmap.table_offset, bitmap.table_size * 8)
    table = be64_array(raw)
    # qemu never shares a data cluster; refusing that bounds what we read
    # by the file size, whatever the table says.
    used = {}
    for i in compress(range(len(table)), table):
        entry = table[i]
        where = bitmap.table_offset + i * 8
        what = f"bitmap {bitmap.name!r} table entry {i}"
        if entry & TABLE_RESERVED_MASK:
            raise at(what, where, f"entry {entry:#x} has reserved bits set")
        offset = entry & TABLE_OFFSET_MASK
        if offset:
            if entry & TABLE_ALL_ONES:
                raise at(
                    what,
                    where,
                    f"entry {entry:#x} sets the all-ones bit with a data cluster offset",
                )
            if offset % cluster_size:
                raise at(what, where, f"data offset {offset:#x} is not cluster aligned")
            f.check(what, offset, cluster_size, where)
            if offset in used:
                raise at(
                    what, where, f"data cluster {offset:#x} is also used by entry {used[offset]}"
                )
            used[offset] = i
        yield i, entry


def _clusters(f, h, bitmap):
    """Yield (first granule, limit, data) per non-zero table entry, where
    data is None for an all-ones cluster and limit is the number of
    granules of this cluster that lie inside the virtual disk."""
    cs = h.cluster_size
    per_cluster = cs * 8
    nbits = -(-h.size >> bitmap.granularity_bits)
    for i, entry in _table(f, bitmap, cs):
        first = i * per_cluster
        limit = min(per_cluster, nbits - first)
        if limit <= 0:
            # Only an in-use bitmap can be longer than the disk.
            break
        offset = entry & TABLE_OFFSET_MASK
        if offset:
            data = f.pread(f"bitmap {bitmap.name!r} data", offset, cs)
        else:
            data = None
        yield first, limit, data


def dirty_count(f, h, bitmap):
    """Number of set bits inside the virtual disk."""
    count = 0
    for _, limit, data in _clusters(f, h, bitmap):
        if data is None:
            count += limit
            continue
        if limit < len(data) * 8:
            # Drop the tail bits past the end of the disk.
            data = data[: -(-limit // 8)]
            extra = len(data) * 8 - limit
            if extra:
                count -= (data[-1] >> (8 - extra)).bit_count()
        # Zero bytes add nothing; stripping them keeps sparse clusters cheap.
        count += int.from_bytes(data.strip(b"\0"), "little").bit_count()
    return count


def _edges(data, limit):
    """Yield, ascending, the bit positions where a run of set bits starts or
    ends among the first limit bits of data (bit k of byte j is bit 8j + k):
    a run [s, e) yields s, then e.

    The bits are one int, so finding the edges (bit i differs from bit
    i - 1) is a few passes in C over the cluster; only the 64-bit words that
    hold an edge are looked at in Python. A bitmap cluster is mostly zeros
    (or holds long runs), and it may be megabytes long while only its first
    bits lie inside the disk.
    """
    bits = int.from_bytes(data[: -(-limit // 8)], "little") & ((1 << limit) - 1)
    edges = bits ^ (bits << 1)  # at most limit + 1 bits: a run may end at limit
    words = array("Q", edges.to_bytes(8 * (limit // 64 + 1), "little"))
    if sys.byteorder == "big":
        words.byteswap()
    for w in compress(range(len(words)), words):
        word = words[w]
        while word:
            lowest = word & -word
            yield w * 64 + lowest.bit_length() - 1
            word ^= lowest


def dirty_extents(f, h, bitmap):
    """Merged guest byte ranges (offset, length) whose bits are set."""
    runs = []  # [start, end) in granules, merged as we go

    def add(start, end):
        if runs and runs[-1][1] == start:
            runs[-1][1] = end
        else:
            runs.append([start, end])

    for first, limit, data in _clusters(f, h, bitmap):
        if data is None:
            add(first, first + limit)
            continue
        edges = _edges(data, limit)
        # Edges come in pairs: the start of a run, then its end.
        for start, end in zip(edges, edges):
            add(first + start, first + end)

    g = bitmap.granularity_bits
    size = h.size
    return [(s << g, min(e << g, size) - (s << g)) for s, e in runs]
