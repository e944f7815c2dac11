"""qemu-io, through the host of a Toolset."""

from tools import command

# SIGKILL: the process dies without closing the image, as a crashed VM would.
_DIE = "sigraise 9"


def _argv(tools, path, fmt, commands):
    argv = [tools.qemu_io, "-f", fmt]
    for c in commands:
        argv += ["-c", c]
    argv.append(path)
    return argv


def write(tools, path, extents, *, pattern=0xCD, fmt="qcow2", timeout=None):
    """Write pattern bytes at each (offset, length) of extents, in one process."""
    if not extents:
        return
    commands = [f"write -q -P {pattern:#x} {off} {length}" for off, length in extents]
    command.run(tools.host, _argv(tools, path, fmt, commands), timeout=timeout)


def open_and_die(tools, path, *, fmt="qcow2", timeout=None):
    """Open path writable, then die without closing it.

    Every bitmap on disk keeps its in-use flag: this is how the harness makes
    inconsistent bitmaps, the way a crashed writer does.
    """
    out = command.run(tools.host, _argv(tools, path, fmt, [_DIE]), check=False, timeout=timeout)
    if out.rc != 128 + 9 and out.rc != -9:
        raise command.CommandError(_argv(tools, path, fmt, [_DIE]), out)
