"""Arithmetic on guest byte ranges: (offset, length) pairs."""


def merge(extents):
    """Sorted, merged extents: overlapping or touching ranges become one."""
    merged = []
    for off, length in sorted(extents):
        if merged and off <= merged[-1][0] + merged[-1][1]:
            start = merged[-1][0]
            merged[-1] = (start, max(merged[-1][1], off + length - start))
        else:
            merged.append((off, length))
    return merged


def granules(extents, granularity, size):
    """The ranges of the granules a write to extents dirties, clipped to size."""
    rounded = []
    for off, length in extents:
        start = off // granularity * granularity
        end = min(-(-(off + length) // granularity) * granularity, size)
        rounded.append((start, end - start))
    return merge(rounded)


def uncovered(wanted, covering):
    """The parts of wanted that no range of covering contains."""
    missing = []
    covering = merge(covering)
    for off, length in merge(wanted):
        pos, end = off, off + length
        for c_off, c_len in covering:
            if c_off + c_len <= pos or c_off >= end:
                continue
            if c_off > pos:
                missing.append((pos, c_off - pos))
            pos = max(pos, c_off + c_len)
            if pos >= end:
                break
        if pos < end:
            missing.append((pos, end - pos))
    return missing


def describe(ranges, limit=3):
    """A short text for messages: '0+65536, 1048576+4096 and 2 more', or 'none'."""
    ranges = list(ranges)
    shown = ", ".join(f"{r[0]}+{r[1]}" for r in ranges[:limit])
    more = len(ranges) - limit
    return (shown or "none") + (f" and {more} more" if more > 0 else "")


def union_of(images, name):
    """The merged dirty ranges of every bitmap called name in images (ImageFacts)."""
    return merge(e for image in images if image.bitmap(name) for e in image.bitmap(name).dirty)
