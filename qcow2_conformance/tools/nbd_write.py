"""Write bytes to an NBD export: the chain build's writer when qemu-storage-daemon serves.

qemu does the writing: this only hands it the bytes, as qemu-io's write
commands do, and qemu's node allocates clusters, copies from the backing
file and sets the dirty bits of the bitmaps that record. The client speaks
the part of the NBD protocol (https://github.com/NetworkBlockDevice/nbd,
doc/proto.md) that a write takes: the fixed newstyle handshake with
NBD_OPT_EXPORT_NAME, then NBD_CMD_WRITE requests with simple replies, then
NBD_CMD_DISC. libnbd's Python binding would do the same, but Debian ships
it outside the virtual environment.
"""

import socket
import struct

_NBDMAGIC = b"NBDMAGIC"
_IHAVEOPT = 0x49484156454F5054
_FLAG_FIXED_NEWSTYLE = 1 << 0
_FLAG_NO_ZEROES = 1 << 1
_OPT_EXPORT_NAME = 1
_REQUEST_MAGIC = 0x25609513
_SIMPLE_REPLY_MAGIC = 0x67446698
_CMD_WRITE, _CMD_DISC = 1, 2
# qemu's server takes requests of up to 32 MiB.
MAX_REQUEST = 32 << 20


class NbdError(Exception):
    """The NBD server refused the connection or a write."""


def write(socket_path, export, writes, *, timeout=60):
    """Write each (offset, length, byte value) of writes to export, in order.

    Returns once the server has answered every write: the data is in qemu's
    node, as a qemu-io write command's is when it returns.
    """
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as conn:
        conn.settimeout(timeout)
        conn.connect(socket_path)
        _handshake(conn, export)
        cookie = 0
        for offset, length, value in writes:
            for start in range(offset, offset + length, MAX_REQUEST):
                size = min(MAX_REQUEST, offset + length - start)
                cookie += 1
                header = struct.pack(">IHHQQI", _REQUEST_MAGIC, 0, _CMD_WRITE, cookie, start, size)
                conn.sendall(header + bytes([value]) * size)
                magic, error, answered = struct.unpack(">IIQ", _read(conn, 16))
                if magic != _SIMPLE_REPLY_MAGIC or answered != cookie:
                    raise NbdError(f"NBD export {export!r}: unexpected reply to a write")
                if error:
                    raise NbdError(
                        f"NBD export {export!r}: write of {size} bytes at {start} failed"
                        f" (NBD error {error})"
                    )
        conn.sendall(struct.pack(">IHHQQI", _REQUEST_MAGIC, 0, _CMD_DISC, 0, 0, 0))


def _handshake(conn, export):
    greeting = _read(conn, 18)
    if greeting[:8] != _NBDMAGIC or struct.unpack(">Q", greeting[8:16])[0] != _IHAVEOPT:
        raise NbdError("not an NBD server speaking the newstyle protocol")
    (flags,) = struct.unpack(">H", greeting[16:])
    if not flags & _FLAG_FIXED_NEWSTYLE:
        raise NbdError("the NBD server lacks the fixed newstyle handshake")
    no_zeroes = flags & _FLAG_NO_ZEROES
    name = export.encode()
    conn.sendall(
        struct.pack(">I", _FLAG_FIXED_NEWSTYLE | no_zeroes)
        + struct.pack(">QII", _IHAVEOPT, _OPT_EXPORT_NAME, len(name))
        + name
    )
    # The export's size (8 bytes) and transmission flags (2), then 124 zero
    # bytes unless both sides left them out. A server that has no such
    # export closes the connection instead.
    _read(conn, 10 if no_zeroes else 134, f"NBD server has no export {export!r}")


def _read(conn, size, closed="the NBD server closed the connection"):
    data = b""
    while len(data) < size:
        chunk = conn.recv(size - len(data))
        if not chunk:
            raise NbdError(closed)
        data += chunk
    return data
