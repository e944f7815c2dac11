"""Bitmap directory, bitmap tables and dirty bits with hand-written bytes.

Unless a test says otherwise: 512 byte clusters, a 1 MiB disk, the bitmap
directory in cluster 3, bitmap tables from cluster 4, data from cluster 8.
"""

import random

import pytest

from qcow2_conformance.qcow2 import Bitmap, Qcow2Error, open_image

import craft

CS = 512
MiB = 2**20
TABLE = 4 * CS  # the first bitmap table
DIRECTORY = 3 * CS


def open_bytes(tmp_path, data):
    return open_image(craft.write(tmp_path, data))


def one_bitmap(
    table, clusters=None, size=MiB, granularity_bits=16, flags=craft.AUTO, name="b", table_size=None
):
    """An image with one bitmap whose table (list of u64) is in cluster 4."""
    if table_size is None:
        table_size = len(table)
    entry = craft.dir_entry(name, TABLE, table_size, flags=flags, granularity_bits=granularity_bits)
    placed = {4: craft.u64s(*table)}
    placed.update(clusters or {})
    return craft.bitmap_image([entry], clusters=placed, size=size)


def bits(*numbers, length=CS):
    """A bitmap data cluster with the given bit numbers set."""
    buf = bytearray(length)
    for n in numbers:
        buf[n // 8] |= 1 << (n % 8)
    return bytes(buf)


def test_directory_fields(tmp_path):
    data = one_bitmap([0], granularity_bits=16, name="first")
    with open_bytes(tmp_path, data) as img:
        assert img.bitmaps == [
            Bitmap(
                name="first",
                name_bytes=b"first",
                flags=2,
                in_use=False,
                auto=True,
                granularity_bits=16,
                granularity=65536,
                type=1,
                table_offset=TABLE,
                table_size=1,
                directory_offset=DIRECTORY,
            )
        ]
        assert img.bitmap("first") is img.bitmaps[0]
        with pytest.raises(KeyError):
            img.bitmap("second")


NAMES = [
    b"a",
    b"with space",
    b"new\nline",
    "n\u00e4me-\u65e5\u672c".encode(),
    b"\xff\xfe not utf-8",
    b"x" * 1023,
    b"y" * 7,
    b"z" * 8,
]


def test_names_and_order(tmp_path):
    entries = [craft.dir_entry(name, TABLE, 1, granularity_bits=16) for name in NAMES]
    with open_bytes(tmp_path, craft.bitmap_image(entries)) as img:
        assert [b.name_bytes for b in img.bitmaps] == NAMES
        assert [b.name.encode("utf-8", "surrogateescape") for b in img.bitmaps] == NAMES
        assert img.bitmaps[3].name == "n\u00e4me-\u65e5\u672c"
        offsets = [b.directory_offset for b in img.bitmaps]
        assert offsets[0] == DIRECTORY
        assert offsets == sorted(offsets)


@pytest.mark.parametrize(
    "flags,in_use,auto", [(0, False, False), (1, True, False), (2, False, True), (3, True, True)]
)
def test_flags(tmp_path, flags, in_use, auto):
    with open_bytes(tmp_path, one_bitmap([0], flags=flags)) as img:
        b = img.bitmaps[0]
        assert (b.flags, b.in_use, b.auto) == (flags, in_use, auto)


@pytest.mark.parametrize("granularity_bits", [9, 16, 17, 31])
def test_granularity(tmp_path, granularity_bits):
    data = one_bitmap([0], granularity_bits=granularity_bits)
    with open_bytes(tmp_path, data) as img:
        assert img.bitmaps[0].granularity == 2**granularity_bits
        assert img.dirty_extents(img.bitmaps[0]) == []


def test_in_use_bitmap_may_have_any_table_size(tmp_path):
    data = one_bitmap([0, 0, 0], flags=craft.IN_USE)
    with open_bytes(tmp_path, data) as img:
        assert img.bitmaps[0].table_size == 3


# Dirty bits.


def test_bit_order_is_lsb_first(tmp_path):
    # Bit k of byte j is granule 8j + k.
    cluster = bits(0, 7, 8, 15)
    data = one_bitmap([8 * CS], {8: cluster}, granularity_bits=9)
    with open_bytes(tmp_path, data) as img:
        b = img.bitmaps[0]
        assert img.dirty_extents(b) == [(0, 512), (7 * 512, 2 * 512), (15 * 512, 512)]
        assert img.dirty_count(b) == 4


def test_byte_patterns(tmp_path):
    cluster = bytearray(CS)
    cluster[0:3] = b"\xff\xff\x0f"  # granules 0-19
    cluster[10] = 0b10100110  # 81, 82, 85, 87
    cluster[20:24] = b"\xf0\xff\xff\x01"  # 164-184
    data = one_bitmap([8 * CS], {8: bytes(cluster)}, granularity_bits=9)
    with open_bytes(tmp_path, data) as img:
        b = img.bitmaps[0]
        g = 512
        assert img.dirty_extents(b) == [
            (0, 20 * g),
            (81 * g, 2 * g),
            (85 * g, g),
            (87 * g, g),
            (164 * g, 21 * g),
        ]
        assert img.dirty_count(b) == 20 + 4 + 21


def test_runs_merge_across_clusters(tmp_path):
    # 4 MiB at 512 bytes per bit: 8192 bits, two bitmap clusters.
    first = bits(4094, 4095)
    second = bits(0, 1, 4095)
    data = one_bitmap([8 * CS, 9 * CS], {8: first, 9: second}, size=4 * MiB, granularity_bits=9)
    with open_bytes(tmp_path, data) as img:
        b = img.bitmaps[0]
        assert img.dirty_extents(b) == [(4094 * 512, 4 * 512), (8191 * 512, 512)]
        assert img.dirty_count(b) == 5


def test_all_ones_entry(tmp_path):
    data = one_bitmap([0, 1], size=4 * MiB, granularity_bits=9)
    with open_bytes(tmp_path, data) as img:
        b = img.bitmaps[0]
        assert img.dirty_extents(b) == [(2 * MiB, 2 * MiB)]
        assert img.dirty_count(b) == 4096


def test_all_ones_merges_with_data(tmp_path):
    data = one_bitmap([8 * CS, 1], {8: bits(4095)}, size=4 * MiB, granularity_bits=9)
    with open_bytes(tmp_path, data) as img:
        b = img.bitmaps[0]
        assert img.dirty_extents(b) == [(4095 * 512, 4097 * 512)]
        assert img.dirty_count(b) == 4097


def test_extents_clipped_to_virtual_size(tmp_path):
    # 1 MiB + 100 bytes at 64 KiB granularity: 17 granules, the last one
    # covering only 100 bytes.
    size = MiB + 100
    data = one_bitmap([1], size=size, granularity_bits=16)
    with open_bytes(tmp_path, data) as img:
        b = img.bitmaps[0]
        assert img.dirty_extents(b) == [(0, size)]
        assert img.dirty_count(b) == 17


def test_tail_bits_past_the_disk_are_ignored(tmp_path):
    # The spec says they must be zero; a damaged file may set them anyway.
    data = one_bitmap([8 * CS], {8: bits(15, 16, 17, 4095)}, size=MiB)
    with open_bytes(tmp_path, data) as img:
        b = img.bitmaps[0]
        assert img.dirty_extents(b) == [(15 * 65536, 65536)]
        assert img.dirty_count(b) == 1


def test_tail_bits_in_the_last_byte_are_ignored(tmp_path):
    # 1 MiB + 100 bytes: 17 granules, so bit 16 is the last valid one and
    # bits 17-23 of the same byte are past the disk.
    size = MiB + 100
    data = one_bitmap([8 * CS], {8: bits(16, 17, 20, 23)}, size=size)
    with open_bytes(tmp_path, data) as img:
        b = img.bitmaps[0]
        assert img.dirty_extents(b) == [(MiB, 100)]
        assert img.dirty_count(b) == 1


def test_in_use_table_longer_than_disk(tmp_path):
    data = one_bitmap([8 * CS, 1, 1], {8: bits(3)}, flags=craft.IN_USE)
    with open_bytes(tmp_path, data) as img:
        b = img.bitmaps[0]
        assert img.dirty_extents(b) == [(3 * 65536, 65536)]
        assert img.dirty_count(b) == 1


def test_in_use_table_shorter_than_disk(tmp_path):
    data = one_bitmap([1], size=4 * MiB, granularity_bits=9, flags=craft.IN_USE)
    with open_bytes(tmp_path, data) as img:
        b = img.bitmaps[0]
        assert img.dirty_extents(b) == [(0, 2 * MiB)]


def test_lookup_by_name(tmp_path):
    data = one_bitmap([8 * CS], {8: bits(2)}, name="by-name")
    with open_bytes(tmp_path, data) as img:
        assert img.dirty_extents("by-name") == [(2 * 65536, 65536)]
        assert img.dirty_count("by-name") == 1
        with pytest.raises(KeyError):
            img.dirty_count("missing")


def test_alternating_bits(tmp_path):
    cluster = b"\x55" * CS
    data = one_bitmap([8 * CS, 9 * CS], {8: cluster, 9: cluster}, size=4 * MiB, granularity_bits=9)
    with open_bytes(tmp_path, data) as img:
        b = img.bitmaps[0]
        extents = img.dirty_extents(b)
        assert len(extents) == 8192 // 2
        assert extents[:2] == [(0, 512), (1024, 512)]
        assert img.dirty_count(b) == 4096


def naive_extents(clusters, nbits, granularity, size):
    """Dirty extents read one bit at a time: what the reader's bit tricks must give."""
    found = []
    for n in range(nbits):
        cluster = clusters[n // (8 * CS)]
        k = n % (8 * CS)
        if cluster is ALL_ONES or cluster[k // 8] >> (k % 8) & 1:
            if found and found[-1][1] == n:
                found[-1][1] = n + 1
            else:
                found.append([n, n + 1])
    return [(s * granularity, min(e * granularity, size) - s * granularity) for s, e in found]


ALL_ONES = None  # a table entry of 1: every bit of the cluster set
WORD_EDGES = bits(0, 62, 63, 64, 127, 128, 4031, 4032, 4095)


def seeded(seed, density):
    """A cluster whose bits are each set with the given probability."""
    rng = random.Random(seed)
    return bytes(sum(1 << k for k in range(8) if rng.random() < density) for _ in range(CS))


@pytest.mark.parametrize(
    "first, second",
    [
        (bits(), bits()),
        (WORD_EDGES, WORD_EDGES),
        (bits(4095), bits(0, 4004, 4005, 4007, 4095)),  # across clusters; past the disk's end
        (b"\xff" * CS, b"\xff" * CS),
        (ALL_ONES, bits(0, 1)),
        (b"\x55" * CS, ALL_ONES),
        (seeded(1, 0.01), seeded(2, 0.01)),
        (seeded(3, 0.5), seeded(4, 0.5)),
        (seeded(5, 0.97), seeded(6, 0.97)),
    ],
    ids=[
        "empty",
        "word-edges",
        "tails",
        "full",
        "all-ones-entry",
        "alternating",
        "sparse",
        "random",
        "dense",
    ],
)
def test_dirty_extents_match_a_bit_by_bit_reading(tmp_path, first, second):
    # Two clusters of 4096 bits; the disk ends 100 bytes into bit 8100, so the
    # second cluster's last 91 bits and part of a granule lie past it.
    size = (2 * 4096 - 92) * 512 + 100
    table, placed = [], {}
    for number, cluster in zip((8, 9), (first, second)):
        table.append(1 if cluster is ALL_ONES else number * CS)
        if cluster is not ALL_ONES:
            placed[number] = cluster
    data = one_bitmap(table, placed, size=size, granularity_bits=9)
    with open_bytes(tmp_path, data) as img:
        found = img.dirty_extents(img.bitmaps[0])
    assert found == naive_extents([first, second], 2 * 4096 - 91, 512, size)


def sparse_image(path, size, cluster_bits, granularity_bits, table):
    """Write a sparse image with one bitmap; table maps index -> entry,
    data clusters are appended after the table."""
    cs = 1 << cluster_bits
    nbits = -(-size >> granularity_bits)
    table_size = -(-nbits // (cs * 8))
    l1_size = craft.l1_entries(size, cluster_bits)
    l1_clusters = -(-l1_size * 8 // cs)
    table_offset = (2 + l1_clusters + 1) * cs
    directory_offset = table_offset - cs
    data_offset = table_offset + -(-table_size * 8 // cs) * cs
    entry = craft.dir_entry("sparse", table_offset, table_size, granularity_bits=granularity_bits)
    hdr = craft.header(cluster_bits=cluster_bits, size=size, l1_size=l1_size, autoclear_features=1)
    first = hdr + craft.bitmaps_ext(1, len(entry), directory_offset)
    first += craft.END
    with open(path, "wb") as f:
        f.write(first)
        f.seek(directory_offset)
        f.write(entry)
        n = 0
        for index, value in sorted(table.items()):
            if isinstance(value, bytes):
                f.seek(data_offset + n * cs)
                f.write(value.ljust(cs, b"\0"))
                value = data_offset + n * cs
                n += 1
            f.seek(table_offset + index * 8)
            f.write(craft.u64s(value))
        f.truncate(max(data_offset + n * cs, table_offset + table_size * 8))
    return path


def test_sparse_2tib_granularity_512(tmp_path):
    # The biggest bitmap qemu allows: 2 TiB at 512 bytes per bit is 512 MiB
    # of bitmap data, 131072 table entries with 4 KiB clusters; all but
    # two entries are unallocated (read as zeros) and one is all ones.
    size = 2 * 2**40
    path = sparse_image(
        tmp_path / "sparse.qcow2",
        size,
        12,
        9,
        {
            0: bits(0, length=4096),
            70000: bits(1, 2, 3, length=4096),
            131071: 1,
        },
    )
    with open_image(path) as img:
        b = img.bitmaps[0]
        assert (b.table_size, b.granularity) == (131072, 512)
        extents = img.dirty_extents(b)
        count = img.dirty_count(b)
    per_cluster = 4096 * 8 * 512
    assert extents == [
        (0, 512),
        (70000 * per_cluster + 512, 3 * 512),
        (131071 * per_cluster, per_cluster),
    ]
    assert extents[-1][0] + extents[-1][1] == size
    assert count == 1 + 3 + 4096 * 8


def test_4tib_granularity_512_exceeds_qemu_limit(tmp_path):
    # qemu refuses to create this bitmap ("Too much space will be occupied
    # by the bitmap"); the reader refuses to trust such a table size.
    path = sparse_image(tmp_path / "huge.qcow2", 4 * 2**40, 12, 9, {})
    with pytest.raises(
        Qcow2Error,
        match=r"bitmap_table_size 262144 is "
        r"invalid .* 512 MiB",
    ):
        open_image(path)


def test_sparse_4tib_granularity_1024(tmp_path):
    # The finest granularity qemu allows at 4 TiB: 2**32 bits, 8192 table
    # entries with 64 KiB clusters; one data cluster, the last all ones.
    size = 4 * 2**40
    path = sparse_image(
        tmp_path / "sparse.qcow2",
        size,
        16,
        10,
        {
            5: bits(7, length=65536),
            8191: 1,
        },
    )
    with open_image(path) as img:
        b = img.bitmaps[0]
        assert (b.table_size, b.granularity) == (8192, 1024)
        extents = img.dirty_extents(b)
        count = img.dirty_count(b)
    per_cluster = 65536 * 8 * 1024
    assert extents == [(5 * per_cluster + 7 * 1024, 1024), (8191 * per_cluster, per_cluster)]
    assert extents[-1][0] + extents[-1][1] == size
    assert count == 1 + 65536 * 8


# Damaged directories.


def entry(**kw):
    kw.setdefault("name", "b")
    kw.setdefault("table_offset", TABLE)
    kw.setdefault("table_size", 1)
    return craft.dir_entry(**kw)


BAD_DIRECTORIES = [
    # (description, entries, nb_bitmaps, expected message)
    (
        "more entries than nb_bitmaps",
        [entry(), entry(name="c")],
        1,
        r"^bitmap directory entry 1 at offset 0x620: directory holds more "
        r"than nb_bitmaps 1 entries",
    ),
    (
        "fewer entries than nb_bitmaps",
        [entry()],
        2,
        r"^bitmap directory at offset 0x600: holds 1 entries, nb_bitmaps is 2",
    ),
    (
        "truncated entry",
        [entry()[:16]],
        1,
        r"^bitmap directory entry 0 at offset 0x600: needs 24 bytes, directory "
        r"has 16 left",
    ),
    (
        "extra data",
        [entry(extra=b"12345678")],
        1,
        r"^bitmap directory entry 0 at offset 0x600: extra_data_size 8 is not "
        r"supported",
    ),
    (
        "name_size 0",
        [entry(name_size=0)],
        1,
        r"^bitmap directory entry 0 at offset 0x600: name_size 0 is invalid",
    ),
    (
        "name_size 1024",
        [entry(name="x" * 1024)],
        1,
        r"^bitmap directory entry 0 at offset 0x600: name_size 1024 is "
        r"invalid \(must be 1\.\.1023\)",
    ),
    (
        "name past directory end",
        [entry(name_size=100)],
        1,
        r"^bitmap directory entry 0 at offset 0x600: entry of 128 bytes "
        r"extends past the end of the directory \(32 bytes left\)",
    ),
    (
        "duplicate name",
        [entry(), entry()],
        2,
        r"^bitmap directory entry 1 at offset 0x620: name 'b' is used by an "
        r"earlier bitmap",
    ),
    (
        "padding",
        [entry(padding=b"\0\0\0\0\0\0\x01")],
        1,
        r"^bitmap directory entry 0 at offset 0x600: padding after the name "
        r"is not zero",
    ),
    (
        "extra_data_compatible flag",
        [entry(flags=4)],
        1,
        r"^bitmap directory entry 0 \('b'\) at offset 0x600: flags 0x4 has "
        r"reserved bits 0x4 set",
    ),
    (
        "high flag",
        [entry(flags=2**31 | 2)],
        1,
        r"flags 0x80000002 has reserved bits 0x80000000 set",
    ),
    (
        "type 0",
        [entry(type=0)],
        1,
        r"^bitmap directory entry 0 \('b'\) at offset 0x600: type 0 is "
        r"invalid",
    ),
    ("type 2", [entry(type=2)], 1, r"type 2 is invalid"),
    (
        "granularity_bits 8",
        [entry(granularity_bits=8)],
        1,
        r"granularity_bits 8 is outside 9\.\.31",
    ),
    (
        "granularity_bits 32",
        [entry(granularity_bits=32)],
        1,
        r"granularity_bits 32 is outside 9\.\.31",
    ),
    (
        "table_size 0",
        [entry(table_size=0, flags=1)],
        1,
        r"^bitmap directory entry 0 \('b'\) at offset 0x600: "
        r"bitmap_table_size 0 is invalid \(must be 1\.\.1048576",
    ),
    (
        "table_size over qemu limit",
        [entry(table_size=2**20 + 1, flags=1)],
        1,
        r"bitmap_table_size 1048577 is invalid",
    ),
    (
        "table_size too big",
        [entry(table_size=2)],
        1,
        r"^bitmap directory entry 0 \('b'\) at offset 0x600: "
        r"bitmap_table_size 2 does not match virtual size 1048576 and "
        r"granularity 65536 \(expected 1\)",
    ),
    (
        "table at zero",
        [entry(table_offset=0)],
        1,
        r"bitmap_table_offset 0x0 is not a non-zero multiple of the cluster "
        r"size 512",
    ),
    (
        "table unaligned",
        [entry(table_offset=TABLE + 8)],
        1,
        r"bitmap_table_offset 0x808 is not a non-zero multiple",
    ),
    (
        "table past eof",
        [entry(table_offset=64 * CS)],
        1,
        r"^bitmap directory entry 0 \('b'\) at offset 0x600: bitmap table at "
        r"0x8000 \(8 bytes\) extends past the end of the file",
    ),
    (
        "second entry damaged",
        [entry(), entry(name="c", type=7)],
        2,
        r"^bitmap directory entry 1 \('c'\) at offset 0x620: type 7 is "
        r"invalid",
    ),
]


@pytest.mark.parametrize(
    "name,entries,nb,message", BAD_DIRECTORIES, ids=[b[0] for b in BAD_DIRECTORIES]
)
def test_bad_directory(tmp_path, name, entries, nb, message):
    data = craft.bitmap_image(entries, nb_bitmaps=nb, clusters={4: craft.u64s(0)})
    with pytest.raises(Qcow2Error, match=message):
        open_bytes(tmp_path, data)


def test_table_size_smaller_than_disk(tmp_path):
    # 4 MiB at 512 bytes per bit needs two bitmap clusters.
    data = craft.bitmap_image(
        [entry(table_size=1, granularity_bits=9)], size=4 * MiB, clusters={4: craft.u64s(0)}
    )
    with pytest.raises(
        Qcow2Error,
        match=r"bitmap_table_size 1 does not "
        r"match .* \(expected 2\)",
    ):
        open_bytes(tmp_path, data)


# Damaged tables: found when the bits are read, not at open.

BAD_TABLES = [
    (
        "reserved low bits",
        [2],
        r"^bitmap 'b' table entry 0 at offset 0x800: entry 0x2 has reserved "
        r"bits set",
    ),
    ("reserved high bits", [1 << 56], r"entry 0x100000000000000 has reserved"),
    (
        "all-ones with offset",
        [8 * CS | 1],
        r"^bitmap 'b' table entry 0 at offset 0x800: entry 0x1001 sets the "
        r"all-ones bit with a data cluster offset",
    ),
    (
        "data past eof",
        [64 * CS],
        r"^bitmap 'b' table entry 0 at offset 0x800: 512 bytes at 0x8000 "
        r"extend past the end of the file",
    ),
]


@pytest.mark.parametrize("name,table,message", BAD_TABLES, ids=[b[0] for b in BAD_TABLES])
def test_bad_table(tmp_path, name, table, message):
    with open_bytes(tmp_path, one_bitmap(table)) as img:
        b = img.bitmaps[0]
        with pytest.raises(Qcow2Error, match=message):
            img.dirty_extents(b)
        with pytest.raises(Qcow2Error, match=message):
            img.dirty_count(b)


def test_shared_data_cluster(tmp_path):
    # Sharing would let a tiny file describe gigabytes of bitmap data.
    data = one_bitmap([8 * CS, 8 * CS], {8: bits(1)}, size=4 * MiB, granularity_bits=9)
    with open_bytes(tmp_path, data) as img:
        with pytest.raises(
            Qcow2Error,
            match=r"^bitmap 'b' table entry 1 at "
            r"offset 0x808: data cluster "
            r"0x1000 is also used by entry "
            r"0",
        ):
            img.dirty_count(img.bitmaps[0])


def test_unaligned_data_cluster(tmp_path):
    # With 4 KiB clusters an offset can be 512 aligned but not cluster
    # aligned.
    cs = 4096
    entry = craft.dir_entry("b", 4 * cs, 1, granularity_bits=16)
    hdr = craft.header(cluster_bits=12, size=MiB, autoclear_features=1)
    data = craft.image(
        hdr,
        [craft.bitmaps_ext(1, len(entry), 3 * cs)],
        clusters={3: entry, 4: craft.u64s(5 * cs + 512), 5: bytes(cs)},
        cluster_bits=12,
    )
    with open_bytes(tmp_path, data) as img:
        with pytest.raises(
            Qcow2Error,
            match=r"^bitmap 'b' table entry 0 at "
            r"offset 0x4000: data offset "
            r"0x5200 is not cluster aligned",
        ):
            img.dirty_extents(img.bitmaps[0])
