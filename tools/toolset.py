"""The qemu binaries under test, found once on one host.

qemu-io and qemu-storage-daemon are taken from the folder of the chosen
qemu-img, so a run never mixes two qemu releases.
"""

import dataclasses
import os
from dataclasses import dataclass

import testinfra

from tools import command


class ToolError(Exception):
    """A tool the harness needs is missing or unusable."""


def get_host(spec="local://"):
    return testinfra.get_host(spec)


@dataclass(frozen=True)
class Toolset:
    host: object
    qemu_img: str
    qemu_io: str
    qemu_storage_daemon: str | None  # None: this qemu build has none
    qemu_nbd: str | None = None

    def without_storage_daemon(self):
        return dataclasses.replace(self, qemu_storage_daemon=None)

    @property
    def bindir(self):
        return os.path.dirname(self.qemu_img)


def find(host, qemu_img=None):
    """Return the Toolset for qemu_img (default: the one on the host's PATH)."""
    path = _resolve(host, qemu_img or "qemu-img")
    if path is None:
        raise ToolError(
            f"qemu-img not found{' at ' + qemu_img if qemu_img else ' on PATH'}:"
            " install qemu-utils or pass --qemu-img PATH")
    bindir = os.path.dirname(path)
    qemu_io = _executable(host, os.path.join(bindir, "qemu-io"))
    if qemu_io is None:
        raise ToolError(f"qemu-io not found beside {path}: install qemu-utils")
    qsd = _executable(host, os.path.join(bindir, "qemu-storage-daemon"))
    nbd = _executable(host, os.path.join(bindir, "qemu-nbd"))
    return Toolset(host, path, qemu_io, qsd, nbd)


def _resolve(host, name):
    if "/" in name:
        return _executable(host, os.path.abspath(name))
    out = command.run(host, ["sh", "-c", 'command -v "$1"', "sh", name], check=False)
    found = out.stdout.strip()
    return found if out.rc == 0 and found.startswith("/") else None


def _executable(host, path):
    out = command.run(host, ["test", "-f", path, "-a", "-x", path], check=False)
    return path if out.rc == 0 else None
