"""Guest cluster mapping through the active L1 and L2 tables."""

import hashlib
import struct
from dataclasses import dataclass
from itertools import compress

from . import header as hdr
from .errors import Qcow2Error, at
from .fileio import be64_array

L1_OFFSET_MASK = 0x00FFFFFFFFFFFE00
L1_RESERVED_MASK = 0x7F000000000001FF

L2_COPIED = 1 << 63
L2_COMPRESSED = 1 << 62
L2_ZERO = 1 << 0
L2_OFFSET_MASK = 0x00FFFFFFFFFFFE00
L2_RESERVED_MASK = 0x3F000000000001FE

_NOT_PLAIN_DATA = L2_COMPRESSED | L2_RESERVED_MASK | L2_ZERO

DATA = "data"
ZERO = "zero"
COMPRESSED = "compressed"

DIGEST_CHUNK = 4 * 1024**2


@dataclass(frozen=True)
class Extent:
    offset: int
    length: int
    kind: str


def check_supported(h):
    if h.extended_l2:
        raise Qcow2Error("extended L2 entries (incompatible feature bit 4) are not supported")
    if h.incompatible_features & hdr.INCOMPAT_DATA_FILE:
        raise Qcow2Error("external data files (incompatible feature bit 2) are not supported")


def runs(f, h):
    """Return the mapped guest ranges as [guest, length, kind, host, hlen].

    Neighbouring data clusters that are also contiguous on the host, and
    neighbouring zero clusters, are coalesced into one run. Compressed
    clusters are always separate runs.
    """
    check_supported(h)
    result = []
    needed = h.l1_entries_needed
    if needed == 0:
        return result
    l1 = be64_array(f.pread("L1 table", h.l1_table_offset, needed * 8))
    # An L2 table used twice would let a small file describe a huge,
    # slow mapping; qemu never does that.
    used = {}
    for i in compress(range(needed), l1):
        where = h.l1_table_offset + i * 8
        _l2_table(f, h, i, l1[i], where, result, used)
    return result


def _l2_table(f, h, index, entry, where, result, used):
    cs = h.cluster_size
    what = f"L1 entry {index}"
    if entry & L1_RESERVED_MASK:
        raise at(what, where, f"entry {entry:#x} has reserved bits set")
    l2_offset = entry & L1_OFFSET_MASK
    if l2_offset == 0:
        return
    if l2_offset % cs:
        raise at(what, where, f"L2 table offset {l2_offset:#x} is not cluster aligned")
    if l2_offset in used:
        raise at(what, where, f"L2 table {l2_offset:#x} is also used by L1 entry {used[l2_offset]}")
    used[l2_offset] = index
    first = index * h.l2_entries * cs
    # The whole table must be in the file, but only the entries of clusters
    # inside the disk are read: a small disk with 2 MiB clusters has one
    # entry in use of 262144.
    f.check(f"L2 table of {what}", l2_offset, cs)
    inside = min(h.l2_entries, -(-(h.size - first) // cs))
    l2 = be64_array(f.pread(f"L2 table of {what}", l2_offset, inside * 8))
    for j in compress(range(len(l2)), l2):
        guest = first + j * cs
        length = min(cs, h.size - guest)
        entry = l2[j]
        host = entry & L2_OFFSET_MASK
        if not entry & _NOT_PLAIN_DATA and host and not host % cs and host + length <= f.size:
            # The common case, inline: one plain, valid data cluster.
            kind, hlen = DATA, length
        else:
            kind, host, hlen = _l2_entry(f, h, entry, l2_offset + j * 8, (j, index), length)
        if result:
            last = result[-1]
            if (
                last[2] == kind
                and kind != COMPRESSED
                and last[0] + last[1] == guest
                and (kind == ZERO or last[3] + last[4] == host)
            ):
                last[1] += length
                last[4] += hlen
                continue
        result.append([guest, length, kind, host, hlen])


def _l2_entry(f, h, entry, where, indexes, length):
    """Classify one L2 entry: (kind, host offset, host length)."""
    cs = h.cluster_size
    what = "L2 entry {} of L1 entry {}".format(*indexes)
    if entry & L2_COMPRESSED:
        if entry & L2_COPIED:
            raise at(what, where, f"compressed entry {entry:#x} has the copied flag set")
        shift = 62 - (h.cluster_bits - 8)
        host = entry & ((1 << shift) - 1)
        if host >> 56:
            raise at(what, where, f"compressed offset {host:#x} exceeds 56 bits")
        sectors = (entry >> shift & ((1 << (h.cluster_bits - 8)) - 1)) + 1
        hlen = sectors * 512 - (host & 511)
        if host >= f.size:
            raise at(
                what,
                where,
                f"compressed data offset {host:#x} is outside the file ({f.size} bytes)",
            )
        return COMPRESSED, host, hlen

    if entry & L2_RESERVED_MASK:
        raise at(what, where, f"entry {entry:#x} has reserved bits set")
    host = entry & L2_OFFSET_MASK
    if host % cs:
        raise at(what, where, f"cluster offset {host:#x} is not cluster aligned")
    if entry & L2_ZERO:
        if h.version < 3:
            raise at(what, where, "zero flag set in a version 2 image")
        return ZERO, 0, 0
    if host == 0:
        # Only valid with an external data file, which we refuse.
        raise at(what, where, f"entry {entry:#x} has the copied flag set but no offset")
    f.check(what, host, length, where)
    return DATA, host, length


def allocated_extents(mapped):
    """Extents of mapped (what runs() returned) with neighbours of one kind merged."""
    extents = []
    for guest, length, kind, _, _ in mapped:
        if extents:
            last = extents[-1]
            if last.kind == kind and last.offset + last.length == guest:
                extents[-1] = Extent(last.offset, last.length + length, kind)
                continue
        extents.append(Extent(guest, length, kind))
    return extents


def data_digest(f, h, mapped):
    """sha256 over the extents of mapped (what runs() returned) and the host bytes behind them."""
    digest = hashlib.sha256()
    groups = []
    for run in mapped:
        guest, length, kind = run[:3]
        if groups:
            extent, members = groups[-1]
            if extent[2] == kind and extent[0] + extent[1] == guest:
                extent[1] += length
                members.append(run)
                continue
        groups.append(([guest, length, kind], [run]))

    # Distinct data clusters cannot hold more bytes than the file, and a
    # compressed cluster reads less than 512 bytes past its data. Anything
    # more means clusters are mapped repeatedly, and hashing them could
    # take forever.
    data_budget = f.size
    compressed_budget = f.size
    for (offset, length, kind), members in groups:
        digest.update(f"{offset} {length} {kind}\n".encode())
        for _, _, _, host, hlen in members:
            if kind == DATA:
                data_budget -= hlen
                if data_budget < 0:
                    raise _mapped_twice(h, "data")
                _hash_range(f, digest, host, hlen)
            elif kind == COMPRESSED:
                compressed_budget -= hlen - 512
                if compressed_budget < 0:
                    raise _mapped_twice(h, "compressed")
                data = f.pread_padded("compressed cluster", host, hlen)
                digest.update(struct.pack(">Q", hlen))
                digest.update(data)
    return digest.hexdigest()


def _mapped_twice(h, kind):
    return at(
        "L1 table",
        h.l1_table_offset,
        f"maps more {kind} bytes than the file holds; clusters are mapped more than once",
    )


def _hash_range(f, digest, offset, length):
    end = offset + length
    while offset < end:
        n = min(DIGEST_CHUNK, end - offset)
        digest.update(f.pread("data cluster", offset, n))
        offset += n
