"""Where the header says the tables are, checked against the file and the
limits qemu enforces."""

from .errors import at

MAX_L1_BYTES = 32 * 1024**2
MAX_REFTABLE_BYTES = 8 * 1024**2
MAX_SNAPSHOTS = 65536
MIN_SNAPSHOT_ENTRY = 40
MAX_BACKING_FILE_SIZE = 1023


def check(h, file_size):
    """Validate the tables and the backing file name a header points to."""
    _check_tables(h, file_size)
    _check_backing_file(h, file_size)


def _check_tables(h, file_size):
    cs = h.cluster_size

    if h.l1_size > MAX_L1_BYTES // 8:
        raise at("l1_size", 36, f"l1_size {h.l1_size} exceeds {MAX_L1_BYTES // 8} entries")
    if h.l1_size < h.l1_entries_needed:
        raise at(
            "l1_size",
            36,
            f"l1_size {h.l1_size} is too small for virtual size "
            f"{h.size} (needs {h.l1_entries_needed})",
        )
    _check_table("l1_table_offset", 40, h.l1_table_offset, h.l1_size * 8, cs, file_size)

    if h.refcount_table_clusters == 0:
        raise at("refcount_table_clusters", 56, "image has no refcount table")
    if h.refcount_table_clusters > MAX_REFTABLE_BYTES // cs:
        raise at(
            "refcount_table_clusters",
            56,
            f"refcount_table_clusters {h.refcount_table_clusters} "
            f"exceeds {MAX_REFTABLE_BYTES} bytes",
        )
    _check_table(
        "refcount_table_offset",
        48,
        h.refcount_table_offset,
        h.refcount_table_clusters * cs,
        cs,
        file_size,
    )

    if h.nb_snapshots > MAX_SNAPSHOTS:
        raise at("nb_snapshots", 60, f"nb_snapshots {h.nb_snapshots} exceeds {MAX_SNAPSHOTS}")
    _check_table(
        "snapshots_offset",
        64,
        h.snapshots_offset,
        h.nb_snapshots * MIN_SNAPSHOT_ENTRY,
        cs,
        file_size,
    )


def _check_table(field, where, offset, length, cluster_size, file_size):
    # qemu insists on alignment even for empty tables.
    if offset % cluster_size:
        raise at(
            field, where, f"{field} {offset:#x} is not aligned to the cluster size {cluster_size}"
        )
    if length == 0:
        return
    if offset == 0:
        raise at(field, where, f"{field} 0x0 overlaps the header")
    if offset + length > file_size:
        raise at(
            field,
            where,
            f"table at {offset:#x} ({length} bytes) extends past the "
            f"end of the file ({file_size} bytes)",
        )


def _check_backing_file(h, file_size):
    if h.backing_file_offset == 0:
        return
    if h.backing_file_offset > h.cluster_size:
        raise at(
            "backing_file_offset",
            8,
            f"backing_file_offset {h.backing_file_offset:#x} is outside the first cluster",
        )
    limit = min(MAX_BACKING_FILE_SIZE, h.cluster_size - h.backing_file_offset)
    if h.backing_file_size > limit:
        raise at(
            "backing_file_size", 16, f"backing_file_size {h.backing_file_size} exceeds {limit}"
        )
    if h.backing_file_offset + h.backing_file_size > file_size:
        raise at(
            "backing_file_offset",
            8,
            f"backing file name at {h.backing_file_offset:#x} extends "
            f"past the end of the file ({file_size} bytes)",
        )


def backing_file(h, buf):
    """Return the backing file name stored in buf (the first cluster)."""
    if h.backing_file_offset == 0:
        return None
    start = h.backing_file_offset
    name = bytes(buf[start : start + h.backing_file_size])
    if len(name) != h.backing_file_size:
        raise at("backing_file_offset", 8, f"backing file name at {start:#x} is truncated")
    return name.decode("utf-8", "surrogateescape")
