"""Images for the qcow2 reader tests, made by the qemu tools under test.

Every call goes through the harness's wrappers in tools/ with the Toolset of
the `tools` fixture, which each helper takes first. Tests call the wrappers
directly where they fit as they are (qemu_img.info, qemu_img.map,
qemu_img.bitmap, qemu_img.convert, qemu_io.open_and_die); these helpers add
only what the tests share: "key=value" create options, qemu-io commands as
arguments, pathlib paths, the path returned for chaining.
"""

import pytest

from qcow2_conformance.tools import command, qemu_img, qemu_io, storage_daemon

# The LUKS key derivation benchmark sometimes fails on busy machines with
# "Unable to get accurate CPU usage"; that is not what the tests are about.
ENCRYPTED_CREATE_ATTEMPTS = 5


def create(tools, path, size, *options, backing=None, backing_fmt="qcow2"):
    """qemu-img create -f qcow2 [-o OPTIONS] [-b BACKING -F FMT] PATH SIZE.

    options are "key=value" strings joined into one -o argument. Returns path.
    """
    qemu_img.create_with_options(
        tools,
        str(path),
        options,
        size=size,
        backing=None if backing is None else str(backing),
        backing_fmt=backing_fmt,
    )
    return path


def create_encrypted(tools, path, size, fmt="luks", secret="12345678"):
    """An encrypted qcow2 image (encrypt.format fmt: 'aes' or 'luks'). Returns path."""
    options = [f"encrypt.format={fmt}", "encrypt.key-secret=sec0"]
    if fmt == "luks":
        options.append("encrypt.iter-time=10")
    for attempt in range(ENCRYPTED_CREATE_ATTEMPTS):
        try:
            qemu_img.create_with_options(
                tools, str(path), options, size=size, objects=[f"secret,id=sec0,data={secret}"]
            )
            return path
        except command.CommandError:
            if attempt == ENCRYPTED_CREATE_ATTEMPTS - 1:
                raise


def io(tools, path, *commands):
    """qemu-io -c CMD... PATH in one process, opening the image writable."""
    return qemu_io.run(tools, str(path), commands)


def crash(tools, path, *commands):
    """Run qemu-io commands on path, then die by SIGKILL: nothing is done on
    close, so bitmaps stay in use (qemu_io.open_and_die without commands)."""
    qemu_io.run_and_die(tools, str(path), commands)
    return path


def add_bitmaps(tools, path, names, granularity=65536):
    """Add persistent, enabled bitmaps in one qemu-storage-daemon transaction.

    The image lists them in the order of names.
    """
    if tools.qemu_storage_daemon is None:
        pytest.skip(f"no qemu-storage-daemon beside {tools.qemu_img}")
    storage_daemon.add_bitmaps(
        tools, str(path), [(n, granularity, False) for n in names], script=f"{path}.qmp"
    )
    return path
