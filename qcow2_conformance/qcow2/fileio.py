"""Bounded positional reads from the image file."""

import os
import sys
from array import array

from .errors import at

# Reads are split so a single os.pread never asks the kernel for more than
# this; Linux caps a single read at ~2 GiB anyway.
MAX_READ = 64 * 1024**2


class File:
    """Read-only file descriptor that knows its size.

    Every read is checked against the file size first, so a damaged offset
    becomes a Qcow2Error instead of a short read or a huge allocation.
    """

    def __init__(self, path):
        self.path = os.fspath(path)
        self.fd = os.open(self.path, os.O_RDONLY | os.O_CLOEXEC)
        try:
            # lseek works for block devices too, where st_size is 0.
            self.size = os.lseek(self.fd, 0, os.SEEK_END)
        except BaseException:
            os.close(self.fd)
            raise

    def check(self, what, offset, length, where=None):
        """Raise unless [offset, offset + length) is inside the file.

        The error names "what at offset where"; where defaults to offset,
        but a table entry pointing outside the file should name the entry.
        """
        if offset < 0 or length < 0 or offset + length > self.size:
            if where is None:
                raise at(
                    what,
                    offset,
                    f"{length} bytes extend past the end of the file ({self.size} bytes)",
                )
            raise at(
                what,
                where,
                f"{length} bytes at {offset:#x} extend past the end of "
                f"the file ({self.size} bytes)",
            )

    def pread(self, what, offset, length):
        self.check(what, offset, length)
        return self._pread(what, offset, length)

    def pread_padded(self, what, offset, length):
        """Read up to length bytes, padding with zeros past the end of the
        file, as qemu does for the last sector of a compressed cluster."""
        if offset < 0 or offset >= self.size:
            raise at(what, offset, f"offset is outside the file ({self.size} bytes)")
        avail = min(length, self.size - offset)
        return self._pread(what, offset, avail) + bytes(length - avail)

    def _pread(self, what, offset, length):
        if length <= MAX_READ:
            buf = os.pread(self.fd, length, offset)
            if len(buf) == length:
                return buf
            chunks = [buf]
            done = len(buf)
        else:
            chunks = []
            done = 0
        while done < length:
            chunk = os.pread(self.fd, min(length - done, MAX_READ), offset + done)
            if not chunk:
                # The file shrank under us; treat it like truncation.
                raise at(what, offset + done, "unexpected end of file")
            chunks.append(chunk)
            done += len(chunk)
        return b"".join(chunks)

    def close(self):
        if self.fd != -1:
            os.close(self.fd)
            self.fd = -1


def be64_array(raw):
    """Decode a table of big-endian u64 entries in one C-level pass."""
    table = array("Q")
    assert table.itemsize == 8
    table.frombytes(raw)
    if sys.byteorder == "little":
        table.byteswap()
    return table
