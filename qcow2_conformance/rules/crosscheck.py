"""The cross-check: qemu-img's account of an image against the harness's reader.

A failure is a finding about the qemu release under test, not about the
implementation; reports keep it apart.
"""

from qcow2_conformance.observe.extents import describe


def qemu_img_agrees(image, account):
    """qemu-img-agrees: qemu-img info reports what the reader reads from the file."""
    problems = []
    where = image.role
    pairs = [
        ("format", account.format, image.format),
        ("virtual size", account.virtual_size, image.virtual_size),
        ("backing file", account.backing_file, image.backing_file),
        (
            "backing format",
            account.backing_format,
            image.backing_format if image.backing_file else None,
        ),
    ]
    for what, qemu, reader in pairs:
        if qemu != reader:
            problems.append(f"{where}: {what} {qemu!r} says qemu-img, {reader!r} says the file")
    qemu_bitmaps = list(account.bitmaps)
    file_bitmaps = [(b.name, b.in_use, b.auto, b.granularity) for b in image.bitmaps]
    if qemu_bitmaps != file_bitmaps:
        problems.append(f"{where}: bitmaps differ: {_first_difference(qemu_bitmaps, file_bitmaps)}")
    return problems


def dirty_bits_agree(name, reader_extents, qemu_extents):
    """The union the reader computed for checkpoint name equals qemu's merge of it."""
    if list(reader_extents) == list(qemu_extents):
        return []
    return [
        f"dirty bits of {name!r}: qemu's merge (read over NBD by qemu-img map) reports"
        f" {describe(qemu_extents)}, the reader {describe(reader_extents)}"
    ]


def _first_difference(qemu, reader):
    for i, (q, r) in enumerate(zip(qemu, reader)):
        if q != r:
            return (
                f"entry {i + 1} is {q} in qemu-img, {r} in the file"
                " (name, in-use, auto, granularity)"
            )
    return f"qemu-img lists {len(qemu)} bitmaps, the file {len(reader)}"
