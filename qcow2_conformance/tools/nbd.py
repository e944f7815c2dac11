"""libnbd's command-line tools (nbdinfo, nbdcopy): an NBD client as backup applications use one.

Debian 12 ships them in libnbd-bin. find() looks for both on the host and
says in one line how to get them when one is missing.
"""

import json
from dataclasses import dataclass

from qcow2_conformance.tools import command, toolset

PACKAGE = "libnbd-bin"
BINARIES = ("nbdinfo", "nbdcopy")


@dataclass(frozen=True)
class NbdTools:
    host: object
    nbdinfo: str
    nbdcopy: str


def find(host):
    """NbdTools for host's PATH; raise toolset.ToolError naming the package if one is missing."""
    found = {}
    for name in BINARIES:
        out = command.run(host, ["sh", "-c", 'command -v "$1"', "sh", name], check=False)
        path = out.stdout.strip()
        if out.rc != 0 or not path.startswith("/"):
            raise toolset.ToolError(
                f"{name} not found on PATH: it comes with the Debian package {PACKAGE}"
                f" (apt-get install {PACKAGE})"
            )
        found[name] = path
    return NbdTools(host, **found)


def dirty_map(nbd, uri, bitmap, *, timeout=None):
    """The (offset, length) ranges of the export that bitmap marks dirty, in order.

    nbdinfo --map reads the qemu:dirty-bitmap:NAME metadata context: type 1
    is dirty, 0 clean. Touching dirty ranges are merged.
    """
    argv = [nbd.nbdinfo, f"--map=qemu:dirty-bitmap:{bitmap}", "--json", uri]
    extents = json.loads(command.run(nbd.host, argv, timeout=timeout).stdout)
    merged = []
    for e in extents:
        if not e["type"] & 1:
            continue
        if merged and merged[-1][0] + merged[-1][1] == e["offset"]:
            merged[-1] = (merged[-1][0], merged[-1][1] + e["length"])
        else:
            merged.append((e["offset"], e["length"]))
    return merged


def copy(nbd, uri, destination, *, timeout=None):
    """Copy the whole export at uri to the raw file destination (made or replaced)."""
    command.run(nbd.host, [nbd.nbdcopy, uri, destination], timeout=timeout)
