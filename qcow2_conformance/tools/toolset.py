"""The qemu binaries under test, found once on one host.

qemu-io and qemu-storage-daemon are taken from the folder of the chosen
qemu-img, so a run never mixes two qemu releases.
"""

import dataclasses
import os
import re
from dataclasses import dataclass

from qcow2_conformance.tools import command, hosts


class ToolError(Exception):
    """A tool the harness needs is missing or unusable."""


def get_host(spec="local://"):
    return hosts.connect(spec)


@dataclass(frozen=True)
class Toolset:
    host: object
    qemu_img: str
    qemu_io: str
    qemu_storage_daemon: str | None  # None: this qemu build has none
    qemu_nbd: str | None = None
    capabilities: frozenset = frozenset()
    release: str = ""  # first line of qemu-img --version, e.g. "qemu-img version 7.2.22 (...)"

    def without_storage_daemon(self):
        return dataclasses.replace(
            self, qemu_storage_daemon=None, capabilities=self.capabilities - {STORAGE_DAEMON}
        )

    def lacks(self, *needed):
        """A skip reason naming the first capability this qemu lacks, or None."""
        for capability in needed:
            if capability not in self.capabilities:
                return f"needs {capability}, which {self.release or 'this qemu'} lacks"
        return None

    @property
    def bindir(self):
        return os.path.dirname(self.qemu_img)


def find(host, qemu_img=None):
    """Return the Toolset for qemu_img (default: the one on the host's PATH).

    The qemu on PATH is the system's, so all three binaries must be there; a
    qemu-img named by path may be a build without qemu-storage-daemon, judged
    with what it has.
    """
    path = _resolve(host, qemu_img or "qemu-img")
    if path is None:
        where = f"at {qemu_img}" if qemu_img else "on PATH"
        raise ToolError(
            f"qemu-img not found {where}: {install('qemu-img')}, or pass --qemu-img PATH"
        )
    bindir = os.path.dirname(path)
    qemu_io = _executable(host, os.path.join(bindir, "qemu-io"))
    if qemu_io is None:
        raise ToolError(f"qemu-io not found beside {path}: {install('qemu-io')}")
    qsd = _executable(host, os.path.join(bindir, "qemu-storage-daemon"))
    if qsd is None and qemu_img is None:
        raise ToolError(
            f"qemu-storage-daemon not found beside {path}: {install('qemu-storage-daemon')}"
        )
    nbd = _executable(host, os.path.join(bindir, "qemu-nbd"))
    release = command.run(host, [path, "--version"], check=False).stdout.strip()
    release = (release.splitlines() or ["qemu-img of unknown version"])[0]
    version = _version(release)
    if version is None or version < MIN_VERSION:
        raise ToolError(
            f"{path} is {release!r}: too old or not qemu-img; the harness needs"
            f" qemu {'.'.join(map(str, MIN_VERSION))} or newer (--qemu 5.2 fetches one)"
        )
    return Toolset(host, path, qemu_io, qsd, nbd, _capabilities(host, path, qsd, nbd), release)


# The Debian 12 package that installs each binary: its qemu-utils lacks qemu-storage-daemon.
PACKAGES = {
    "qemu-img": "qemu-utils",
    "qemu-io": "qemu-utils",
    "qemu-storage-daemon": "qemu-system-common",
}


def install(binary):
    """How to get binary, as a missing-tool message says it."""
    package = PACKAGES[binary]
    return f"it comes with the Debian package {package} (apt-get install {package})"


# JSON bitmap listings in qemu-img info and qemu-storage-daemon came with 5.0.
MIN_VERSION = (5, 0)


def version(tools):
    """(major, minor) of tools' qemu release."""
    return _version(tools.release) or MIN_VERSION


def _version(release):
    match = re.search(r"version (\d+)\.(\d+)", release)
    return (int(match.group(1)), int(match.group(2))) if match else None


# What parts of the harness need, detected rather than assumed.
STORAGE_DAEMON = "qemu-storage-daemon"
NBD = "qemu-nbd"
BITMAP_COMMAND = "qemu-img bitmap"


def _capabilities(host, qemu_img, qsd, nbd):
    found = {name for name, path in ((STORAGE_DAEMON, qsd), (NBD, nbd)) if path}
    usage = command.run(host, [qemu_img, "--help"], check=False).stdout
    if any(line.strip().startswith("bitmap ") for line in usage.splitlines()):
        found.add(BITMAP_COMMAND)
    return frozenset(found)


def _resolve(host, name):
    if "/" in name:
        return _executable(host, os.path.abspath(name))
    out = command.run(host, ["sh", "-c", 'command -v "$1"', "sh", name], check=False)
    found = out.stdout.strip()
    return found if out.rc == 0 and found.startswith("/") else None


def _executable(host, path):
    out = command.run(host, ["test", "-f", path, "-a", "-x", path], check=False)
    return path if out.rc == 0 else None


def versions(tools):
    """{binary name: first line of its --version} for each binary the release has."""
    # find() read qemu-img's already.
    found = {os.path.basename(tools.qemu_img): tools.release}
    for path in (tools.qemu_io, tools.qemu_nbd, tools.qemu_storage_daemon):
        if path:
            out = command.run(tools.host, [path, "--version"], check=False, timeout=30)
            found[os.path.basename(path)] = (out.stdout.strip().splitlines() or ["?"])[0]
    return found
