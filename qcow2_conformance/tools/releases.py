"""qemu releases side by side: fetch a Debian build's binaries into a cache folder.

    python3 -m tools.releases [RELEASE ...]     (default: every known release)

Each release is unpacked with dpkg -x from .deb files that apt-get downloads
with a private package list, so the system's own qemu is never touched. The
mirror is the machine's own (from its apt sources); only the suite changes.
Provisioning is idempotent, works offline once a release is cached, and
checks every binary by running --version.
"""

import os
import re
import sys
from contextlib import nullcontext
from dataclasses import dataclass

from qcow2_conformance.tools import apt, command, files, hosts, locks, toolset

BINARIES = ("qemu-img", "qemu-io", "qemu-nbd", "qemu-storage-daemon")
# The user's cache, as XDG says, not the package's folder: an installed
# package's folder is not the user's to write in.
CACHE = os.environ.get("HARNESS_QEMU_CACHE") or os.path.join(
    os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "qcow2-conformance", "qemu"
)


@dataclass(frozen=True)
class Release:
    suite: str
    packages: tuple


RELEASES = {
    # 5.2 links liburing.so.1, which bookworm no longer has.
    "5.2": Release("bullseye", ("qemu-utils", "qemu-system-common", "liburing1")),
    "7.2": Release("bookworm", ("qemu-utils", "qemu-system-common")),
    "10.0": Release("bookworm-backports", ("qemu-utils", "qemu-system-common")),
}

WRAPPER = """#!/bin/sh
# {name} of qemu {release}, unpacked under {root}
LD_LIBRARY_PATH="{libs}${{LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}}" exec "{binary}" "$@"
"""


class ReleaseError(Exception):
    """A release that cannot be had; the message says why and what to do."""


def bindir(release, cache=CACHE):
    return os.path.join(cache, f"qemu-{release}", "bin")


def provision(host, release, cache=CACHE):
    """Return the folder of release's binaries, fetching them if not cached."""
    if release not in RELEASES:
        raise ReleaseError(
            f"qemu release {release!r} is unknown; known: {', '.join(RELEASES)},"
            " or give --qemu a folder of qemu binaries"
        )
    folder = os.path.join(cache, f"qemu-{release}")
    files.mkdir(host, cache)
    # A file lock keeps two local runs from fetching into one folder at once.
    # A remote target's cache has none: the xdist controller fetches before
    # its workers start, and a lock here could not hold other machines back.
    with locks.held(folder + ".lock") if hosts.is_local(host) else nullcontext():
        if not files.exists(host, os.path.join(folder, ".complete")):
            files.remove(host, folder)
            _fetch(host, release, folder)
            _check(host, release, folder)
            files.write_text(host, os.path.join(folder, ".complete"), "")
    return bindir(release, cache)


def _fetch(host, release, folder):
    spec = RELEASES[release]
    state, debs, root = (os.path.join(folder, d) for d in ("apt", "debs", "root"))
    for d in (state, debs, root, os.path.join(folder, "bin")):
        files.mkdir(host, d)
    uri, options = mirror(apt.sources(host), apt.codename(host))
    files.write_text(
        host, os.path.join(state, "sources.list"), f"deb {options}{uri} {spec.suite} main\n"
    )
    try:
        apt.update(host, state)
        apt.download(host, state, [f"{p}/{spec.suite}" for p in spec.packages], debs)
    except command.CommandError as e:
        raise ReleaseError(
            f"qemu {release}: cannot fetch {', '.join(spec.packages)} from {uri} {spec.suite}: {e}"
        ) from None
    for deb in sorted(files.listing(host, debs)):
        apt.extract(host, os.path.join(debs, deb), root)
    for name in BINARIES:
        binary = os.path.join(root, "usr", "bin", name)
        if files.exists(host, binary):
            wrapper = os.path.join(folder, "bin", name)
            files.write_text(
                host,
                wrapper,
                WRAPPER.format(
                    name=name,
                    release=release,
                    root=root,
                    binary=binary,
                    libs=os.path.join(root, apt.ARCH_LIB),
                ),
            )
            command.run(host, ["chmod", "+x", wrapper])


def _check(host, release, folder):
    """Every binary the release has must answer --version."""
    for name in BINARIES:
        wrapper = os.path.join(folder, "bin", name)
        if not files.exists(host, wrapper):
            continue
        out = command.run(host, [wrapper, "--version"], check=False, timeout=30)
        if out.rc != 0:
            raise ReleaseError(
                f"qemu {release}: {name} does not run here: {command.summary(out.stderr) or out.rc}"
            )
    if not files.exists(host, os.path.join(folder, "bin", "qemu-img")):
        raise ReleaseError(f"qemu {release}: the packages hold no qemu-img")


def mirror(sources_text, codename):
    """(URI, '[options] ' or '') of the machine's Debian entry for its own release.

    Reads one-line ('deb URI SUITE ...') and deb822 ('URIs:', 'Suites:')
    entries, so a local mirror or proxy configured here is used as well.
    """
    for line in sources_text.splitlines():
        match = re.match(r"^deb\s+(\[[^\]]*\]\s+)?(\S+)\s+(\S+)\s", line.strip() + " ")
        if match and match.group(3) == codename:
            return match.group(2), match.group(1) or ""
    for stanza in re.split(r"\n\s*\n", sources_text):
        fields = {}
        for line in stanza.splitlines():
            if ":" in line and not line.lstrip().startswith("#"):
                key, value = line.split(":", 1)
                fields[key.strip().lower()] = value.strip()
        if (
            "deb" in fields.get("types", "").split()
            and codename in fields.get("suites", "").split()
        ):
            signed = fields.get("signed-by")
            return fields["uris"].split()[0], f"[signed-by={signed}] " if signed else ""
    raise ReleaseError(
        f"no apt source for Debian {codename!r} in /etc/apt; the mirror for other"
        " qemu releases is taken from there"
    )


def main(names):
    host = toolset.get_host()
    status = 0
    for release in names or list(RELEASES):
        try:
            folder = provision(host, release)
            tools = toolset.find(host, os.path.join(folder, "qemu-img"))
            print(f"qemu {release}: {folder}")
            for name, version in toolset.versions(tools).items():
                print(f"  {name}: {version}")
        except (ReleaseError, toolset.ToolError) as e:
            print(f"error: {e}", file=sys.stderr)
            status = 1
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
