"""L1/L2 mapping, allocated extents and the data digest, hand-written.

Unless a test says otherwise: 512 byte clusters (64 L2 entries, 32 KiB per
L2 table), a 1 MiB disk, L1 in cluster 2, L2 tables from cluster 4, data
from cluster 8.
"""

import pytest

from qcow2_conformance.qcow2 import Extent, Qcow2Error, open_image

import craft

CS = 512
MiB = 2**20
L1 = 2 * CS
COPIED = 1 << 63
COMPRESSED = 1 << 62
ZERO = 1


def open_bytes(tmp_path, data, name="img.qcow2"):
    return open_image(craft.write(tmp_path, data, name))


def mapped(l2s, clusters=None, size=MiB, version=3, cluster_bits=9, **fields):
    """An image whose L1 entry i points to an L2 table in cluster 4 + i.

    l2s maps an L1 index to {L2 index: entry}.
    """
    cs = 1 << cluster_bits
    l1_size = fields.pop("l1_size", craft.l1_entries(size, cluster_bits))
    l1 = [0] * l1_size
    placed = {}
    for i, entries in l2s.items():
        l1[i] = (4 + i) * cs | COPIED
        l2 = [0] * (cs // 8)
        for j, value in entries.items():
            l2[j] = value
        placed[4 + i] = craft.u64s(*l2)
    placed[2] = craft.u64s(*l1)
    placed.update(clusters or {})
    hdr = craft.header(
        version=version, size=size, cluster_bits=cluster_bits, l1_size=l1_size, **fields
    )
    return craft.image(hdr, clusters=placed, cluster_bits=cluster_bits)


def compressed(offset, sectors, cluster_bits=9):
    shift = 62 - (cluster_bits - 8)
    return COMPRESSED | (sectors - 1) << shift | offset


def test_no_l1_entries(tmp_path):
    with open_bytes(tmp_path, mapped({})) as img:
        assert img.allocated_extents() == []


def test_data_zero_and_compressed(tmp_path):
    data = mapped(
        {
            0: {
                0: 8 * CS | COPIED,
                1: 9 * CS | COPIED,  # host contiguous
                3: 20 * CS | COPIED,  # a gap in the guest
                4: 10 * CS | COPIED,  # guest adjacent, host not
                5: ZERO,
                6: 11 * CS | ZERO,  # preallocated zero cluster
                7: 12 * CS | COPIED,  # data after zero: new extent
                9: compressed(13 * CS + 100, 1),
                10: compressed(13 * CS + 300, 2),
            },
            1: {0: 14 * CS | COPIED},  # guest 32 KiB
        },
        clusters={20: bytes(CS), 14: bytes(CS)},
    )
    with open_bytes(tmp_path, data) as img:
        assert img.allocated_extents() == [
            Extent(0, 1024, "data"),
            Extent(1536, 1024, "data"),
            Extent(2560, 1024, "zero"),
            Extent(3584, 512, "data"),
            Extent(4608, 1024, "compressed"),
            Extent(32768, 512, "data"),
        ]


def test_l1_entry_with_only_the_copied_flag(tmp_path):
    data = mapped({})
    data = craft.patch(data, L1, craft.u64s(COPIED))
    with open_bytes(tmp_path, data) as img:
        assert img.allocated_extents() == []


def test_last_cluster_clipped_to_virtual_size(tmp_path):
    size = MiB - 100
    l2 = {63: 8 * CS | COPIED}
    data = mapped({31: l2}, size=size)
    with open_bytes(tmp_path, data) as img:
        assert img.allocated_extents() == [Extent(MiB - CS, 412, "data")]


def test_entries_past_virtual_size_are_ignored(tmp_path):
    size = MiB - CS
    data = mapped({31: {62: ZERO, 63: 0xFFFF}}, size=size)
    with open_bytes(tmp_path, data) as img:
        assert img.allocated_extents() == [Extent(MiB - 2 * CS, CS, "zero")]


def test_l1_entries_past_virtual_size_are_ignored(tmp_path):
    # Spare L1 entries (VM state) are not guest data.
    hdr_l1_size = 40
    data = mapped({0: {0: ZERO}}, l1_size=hdr_l1_size)
    data = craft.patch(data, L1 + 35 * 8, craft.u64s(0xFFFFFFFFFFFFFFFF))
    with open_bytes(tmp_path, data) as img:
        assert img.allocated_extents() == [Extent(0, CS, "zero")]


def test_zero_size_image(tmp_path):
    data = craft.image(craft.header(size=0, l1_size=0))
    with open_bytes(tmp_path, data) as img:
        assert img.allocated_extents() == []


# The data digest.


def digest(tmp_path, data, name="img.qcow2"):
    with open_bytes(tmp_path, data, name) as img:
        return img.data_digest()


def test_digest_ignores_host_layout(tmp_path):
    payload = bytes(range(256)) * 2
    a = mapped({0: {0: 8 * CS | COPIED}}, clusters={8: payload})
    b = mapped({0: {0: 12 * CS | COPIED}}, clusters={12: payload})
    assert digest(tmp_path, a, "a") == digest(tmp_path, b, "b")


def test_digest_sees_data(tmp_path):
    a = mapped({0: {0: 8 * CS | COPIED}}, clusters={8: b"\1" * CS})
    b = mapped({0: {0: 8 * CS | COPIED}}, clusters={8: b"\2" * CS})
    assert digest(tmp_path, a, "a") != digest(tmp_path, b, "b")


def test_digest_sees_compressed_bytes(tmp_path):
    entry = compressed(8 * CS, 1)
    a = mapped({0: {0: entry}}, clusters={8: b"\1" * CS})
    b = mapped({0: {0: entry}}, clusters={8: b"\2" * CS})
    assert digest(tmp_path, a, "a") != digest(tmp_path, b, "b")


def test_digest_sees_mapping(tmp_path):
    zero = mapped({0: {0: ZERO}})
    empty = mapped({})
    data = mapped({0: {0: 8 * CS | COPIED}}, clusters={8: bytes(CS)})
    moved = mapped({0: {1: 8 * CS | COPIED}}, clusters={8: bytes(CS)})
    digests = {
        digest(tmp_path, d, n)
        for d, n in [(zero, "zero"), (empty, "empty"), (data, "data"), (moved, "moved")]
    }
    assert len(digests) == 4


def test_digest_of_compressed_cluster_at_end_of_file(tmp_path):
    # The last sector of a compressed cluster may lie past the end of the
    # file; qemu reads zeros there, and so do we.
    data = mapped({0: {0: compressed(8 * CS + 500, 2)}}, clusters={8: bytes(CS)})
    data += b"\1" * 88
    assert len(data) == 8 * CS + 600
    with open_bytes(tmp_path, data) as img:
        assert img.allocated_extents() == [Extent(0, CS, "compressed")]
        assert len(img.data_digest()) == 64


def test_digest_is_stable(tmp_path):
    data = mapped({0: {0: 8 * CS | COPIED, 1: ZERO}}, clusters={8: b"x" * CS})
    with open_bytes(tmp_path, data) as img:
        assert img.data_digest() == img.data_digest()


# Damaged tables.

BAD_MAPPINGS = [
    (
        "L1 reserved bit 0",
        dict(l1_patch=4 * CS | 1),
        r"^L1 entry 0 at offset 0x400: entry 0x801 has reserved bits set",
    ),
    (
        "L1 reserved bit 56",
        dict(l1_patch=4 * CS | 1 << 56),
        r"^L1 entry 0 at offset 0x400: entry 0x100000000000800 has reserved",
    ),
    (
        "L2 past eof",
        dict(l1_patch=100 * CS),
        r"^L2 table of L1 entry 0 at offset 0xc800: 512 bytes extend past the "
        r"end of the file",
    ),
    (
        "L2 reserved bit 1",
        dict(l2={3: 8 * CS | 2}),
        r"^L2 entry 3 of L1 entry 0 at offset 0x818: entry 0x1002 has reserved",
    ),
    (
        "L2 reserved bit 61",
        dict(l2={3: 8 * CS | 1 << 61}),
        r"^L2 entry 3 of L1 entry 0 at offset 0x818: entry 0x2000000000001000",
    ),
    (
        "data past eof",
        dict(l2={0: 100 * CS | COPIED}),
        r"^L2 entry 0 of L1 entry 0 at offset 0x800: 512 bytes at 0xc800 "
        r"extend past the end of the file",
    ),
    (
        "copied without offset",
        dict(l2={0: COPIED}),
        r"^L2 entry 0 of L1 entry 0 at offset 0x800: entry 0x8000000000000000 "
        r"has the copied flag set but no offset",
    ),
    (
        "compressed and copied",
        dict(l2={0: compressed(8 * CS, 1) | COPIED}),
        r"^L2 entry 0 of L1 entry 0 at offset 0x800: compressed entry .* has "
        r"the copied flag set",
    ),
    (
        "compressed past eof",
        dict(l2={0: compressed(100 * CS, 1)}),
        r"^L2 entry 0 of L1 entry 0 at offset 0x800: compressed data offset "
        r"0xc800 is outside the file",
    ),
    (
        "compressed offset over 56 bits",
        dict(l2={0: compressed(1 << 57, 1)}),
        r"compressed offset 0x200000000000000 exceeds 56 bits",
    ),
    (
        "zero flag in v2",
        dict(version=2, l2={0: ZERO}),
        r"^L2 entry 0 of L1 entry 0 at offset 0x800: zero flag set in a "
        r"version 2 image",
    ),
]


@pytest.mark.parametrize("name,case,message", BAD_MAPPINGS, ids=[b[0] for b in BAD_MAPPINGS])
def test_bad_mapping(tmp_path, name, case, message):
    data = mapped({0: case.get("l2", {})}, version=case.get("version", 3), clusters={8: bytes(CS)})
    if "l1_patch" in case:
        data = craft.patch(data, L1, craft.u64s(case["l1_patch"]))
    with open_bytes(tmp_path, data) as img:
        with pytest.raises(Qcow2Error, match=message):
            img.allocated_extents()
        with pytest.raises(Qcow2Error, match=message):
            img.data_digest()


def test_shared_l2_table(tmp_path):
    data = mapped({0: {0: ZERO}})
    data = craft.patch(data, L1 + 8, craft.u64s(4 * CS | COPIED))
    with open_bytes(tmp_path, data) as img:
        with pytest.raises(
            Qcow2Error,
            match=r"^L1 entry 1 at offset 0x408: "
            r"L2 table 0x800 is also used by "
            r"L1 entry 0",
        ):
            img.allocated_extents()


def test_data_cluster_mapped_many_times(tmp_path):
    # Legal enough to list, but hashing must not read more than the file.
    data = mapped({0: {j: 8 * CS for j in range(64)}}, clusters={8: bytes(CS)})
    with open_bytes(tmp_path, data) as img:
        assert img.allocated_extents() == [Extent(0, 64 * CS, "data")]
        with pytest.raises(
            Qcow2Error,
            match=r"^L1 table at offset 0x400: "
            r"maps more data bytes than the "
            r"file holds",
        ):
            img.data_digest()


def test_compressed_cluster_mapped_many_times(tmp_path):
    entries = {j: compressed(8 * CS, 2) for j in range(64)}
    data = mapped({i: entries for i in range(4)}, clusters={8: bytes(CS)})
    with open_bytes(tmp_path, data) as img:
        assert img.allocated_extents() == [Extent(0, 4 * 64 * CS, "compressed")]
        with pytest.raises(Qcow2Error, match=r"maps more compressed bytes"):
            img.data_digest()


@pytest.mark.parametrize(
    "entry,message",
    [
        (
            4 * 4096 | 512,
            r"^L1 entry 0 at offset 0x2000: L2 table offset 0x4200 "
            r"is not cluster aligned",
        ),
    ],
)
def test_unaligned_l2_table(tmp_path, entry, message):
    data = mapped({0: {}}, cluster_bits=12)
    data = craft.patch(data, 2 * 4096, craft.u64s(entry))
    with open_bytes(tmp_path, data) as img:
        with pytest.raises(Qcow2Error, match=message):
            img.allocated_extents()


@pytest.mark.parametrize("entry", [8 * 4096 + 512 | COPIED, 8 * 4096 + 512 | ZERO])
def test_unaligned_data_cluster(tmp_path, entry):
    data = mapped({0: {2: entry}}, cluster_bits=12, clusters={8: bytes(4096), 9: bytes(4096)})
    with open_bytes(tmp_path, data) as img:
        with pytest.raises(
            Qcow2Error,
            match=r"^L2 entry 2 of L1 entry 0 at "
            r"offset 0x4010: cluster offset "
            r"0x8200 is not cluster aligned",
        ):
            img.allocated_extents()


def test_extended_l2_is_refused(tmp_path):
    data = mapped({}, incompatible_features=16, cluster_bits=14, clusters={})
    with open_bytes(tmp_path, data) as img:
        # Extended L2 halves the entries per table.
        assert img.header.extended_l2
        assert img.header.l2_entries == 1024
        with pytest.raises(
            Qcow2Error,
            match=r"extended L2 entries .* not "
            r"supported",
        ):
            img.allocated_extents()
        with pytest.raises(Qcow2Error, match=r"extended L2 entries"):
            img.data_digest()
