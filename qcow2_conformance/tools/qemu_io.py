"""qemu-io, through the host of a Toolset."""

import time

from qcow2_conformance.tools import command

# SIGKILL: the process dies without closing the image, as a crashed VM would.
_DIE = "sigraise 9"


def _argv(tools, path, fmt, commands, cache=None):
    argv = [tools.qemu_io, "-f", fmt]
    if cache is not None:
        argv += ["-t", cache]
    for c in commands:
        argv += ["-c", c]
    argv.append(path)
    return argv


def write(tools, path, extents, *, pattern=0xCD, fmt="qcow2", cache=None, timeout=None):
    """Write pattern bytes at each (offset, length) of extents, in one process.

    cache: qemu's cache mode (-t); "unsafe" skips qemu's flushes (fdatasync),
    not its writes: other processes read the same bytes, only a crash of the
    machine could lose them.
    """
    if not extents:
        return
    commands = _writes(extents, pattern)
    command.run(tools.host, _argv(tools, path, fmt, commands, cache), timeout=timeout)


def _writes(extents, pattern):
    return [f"write -q -P {pattern:#x} {off} {length}" for off, length in extents]


def write_images(tools, folder, writes, *, cache=None, timeout=None):
    """Like write, for several images of folder in one process, one after the other.

    writes: (file name in folder, format, extents, pattern) each. qemu-io
    opens each image in turn (its open and close commands), with its backing
    chain as a write of its own would. qemu-io splits its commands at blanks,
    so the names are relative to folder, qemu-io's working directory.
    """
    commands = []
    for name, fmt, extents, pattern in writes:
        if not extents:
            continue
        if name != name.strip() or len(name.split()) != 1 or "/" in name:
            raise ValueError(f"qemu-io cannot open {name!r} by name: a plain file name it must be")
        cached = f"-t {cache} " if cache is not None else ""
        commands.append(f"open {cached}-o driver={fmt} {name}")
        commands += _writes(extents, pattern)
        commands.append("close")
    if commands:
        argv = [tools.qemu_io]
        for c in commands:
            argv += ["-c", c]
        command.run(tools.host, argv, cwd=folder, timeout=timeout)


def run(tools, path, commands, *, fmt="qcow2", check=True, timeout=None):
    """Run qemu-io commands on path, opened writable, in one process.

    Returns the command.Result; raises CommandError if check and it failed.
    """
    return command.run(tools.host, _argv(tools, path, fmt, commands), check=check, timeout=timeout)


def open_and_die(tools, path, *, fmt="qcow2", timeout=None):
    """Open path writable, then die without closing it.

    Every bitmap on disk keeps its in-use flag: this is how the harness makes
    inconsistent bitmaps, the way a crashed writer does.
    """
    run_and_die(tools, path, [], fmt=fmt, timeout=timeout)


def run_and_die(tools, path, commands, *, fmt="qcow2", timeout=None):
    """Like open_and_die, but run qemu-io commands first, in the same process.

    qemu-io skips all it does on close, so the image is left as a crash
    leaves it: bitmaps in use and, with lazy refcounts, the dirty bit set.
    """
    argv = _argv(tools, path, fmt, [*commands, _DIE])
    out = command.run(tools.host, argv, check=False, timeout=timeout)
    if out.rc != 128 + 9 and out.rc != -9:
        raise command.CommandError(argv, out)


def hold(tools, path, log, *, fmt="qcow2", seconds=3600, timeout=20):
    """Start a qemu-io that holds path open for writing; return its pid.

    It stands for a VM that still uses the image. Returns once qemu's lock on
    the image is taken (qemu-img info without -U then refuses).
    """
    argv = [tools.qemu_io, "-f", fmt, "-c", f"sleep {seconds * 1000}", path]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        pid = command.run(
            tools.host,
            ["sh", "-c", 'log=$1; shift; "$@" > "$log" 2>&1 & echo $!', "sh", log, *argv],
        ).stdout.strip()
        try:
            locked = _wait_for_lock(tools, path, fmt, pid, deadline)
        except BaseException:
            # An interrupt (Ctrl-C) while waiting: the holder must not outlive it.
            release(tools, pid)
            raise
        if locked:
            return pid
        # The probe's own open can meet the holder's and make it give up:
        # qemu's locks refuse a writer while any reader forbids writes.
        release(tools, pid)
    said = command.run(tools.host, ["cat", log], check=False).stdout
    raise command.CommandError(
        argv, command.Result(1, said, f"qemu-io did not take the image's lock within {timeout} s")
    )


def _wait_for_lock(tools, path, fmt, pid, deadline):
    """True once the holder has the lock; False if it died first."""
    while time.monotonic() < deadline:
        time.sleep(0.05)
        if not _alive(tools, pid):
            return False
        probe = command.run(tools.host, [tools.qemu_img, "info", "-f", fmt, path], check=False)
        if probe.rc != 0:
            time.sleep(0.05)  # lets a holder that lost to the probe exit
            return _alive(tools, pid)
    return False


def _alive(tools, pid):
    """False once pid is gone or a zombie: either way its files, and locks, are closed.

    A zombie counts as gone because its parent may never reap it.
    """
    stat = command.run(tools.host, ["cat", f"/proc/{pid}/stat"], check=False)
    return stat.rc == 0 and stat.stdout.rsplit(")", 1)[-1].split()[:1] != ["Z"]


def release(tools, pid, *, timeout=10):
    """Stop a qemu-io started by hold, and wait until its lock is gone.

    A killed process keeps its locks until its files close, so the next
    qemu-img could still meet them without the wait.
    """
    command.run(tools.host, ["kill", "-9", str(pid)], check=False)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and _alive(tools, pid):
        time.sleep(0.02)
