"""libnbd's command-line tools (nbdinfo, nbdcopy): an NBD client as backup applications use one.

Debian 12 ships them in libnbd-bin. find() looks for both on the host and
says in one line how to get them when one is missing. Each use is an
argument list and a parser of its output, so a caller can run it inside
another command (storage_daemon.serve_chain runs its clients while it
serves), or run it alone with the function of the same name.
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


def dirty_map_argv(nbd, uri, bitmap):
    """nbdinfo --map of the qemu:dirty-bitmap:BITMAP metadata context, as JSON."""
    return [nbd.nbdinfo, f"--map=qemu:dirty-bitmap:{bitmap}", "--json", uri]


def parse_dirty_map(text):
    """The (offset, length) ranges nbdinfo --map --json marks dirty (type 1), in order.

    Touching dirty ranges are merged: nbdinfo splits them where the
    server's replies end.
    """
    merged = []
    for e in json.loads(text):
        if not e["type"] & 1:
            continue
        if merged and merged[-1][0] + merged[-1][1] == e["offset"]:
            merged[-1] = (merged[-1][0], merged[-1][1] + e["length"])
        else:
            merged.append((e["offset"], e["length"]))
    return merged


def copy_argv(nbd, uri, destination):
    """nbdcopy of the whole export at uri to the raw file destination (made or replaced)."""
    return [nbd.nbdcopy, uri, destination]


def dirty_map(nbd, uri, bitmap, *, timeout=None):
    """parse_dirty_map of nbdinfo run alone."""
    out = command.run(nbd.host, dirty_map_argv(nbd, uri, bitmap), timeout=timeout)
    return parse_dirty_map(out.stdout)


def copy(nbd, uri, destination, *, timeout=None):
    command.run(nbd.host, copy_argv(nbd, uri, destination), timeout=timeout)
