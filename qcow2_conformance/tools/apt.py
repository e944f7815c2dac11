"""apt-get and dpkg, with a private package list: nothing of the system's apt state changes."""

import os

from qcow2_conformance.tools import command

ARCH_LIB = "usr/lib/x86_64-linux-gnu"


def _options(state):
    return [
        "-o",
        f"Dir::Etc::SourceList={os.path.join(state, 'sources.list')}",
        "-o",
        "Dir::Etc::SourceParts=/dev/null",
        "-o",
        f"Dir::State::Lists={os.path.join(state, 'lists')}",
        "-o",
        "Debug::NoLocking=1",
    ]


def update(host, state, timeout=300):
    """Fetch the package lists of state/sources.list into state/lists."""
    command.run(host, ["mkdir", "-p", os.path.join(state, "lists", "partial")])
    command.run(host, ["apt-get", "update", "-qq", *_options(state)], timeout=timeout)


def download(host, state, packages, folder, timeout=600):
    """Download the .deb files of packages ('name/suite') into folder."""
    command.run(
        host,
        ["apt-get", "download", "-qq", *_options(state), *packages],
        cwd=folder,
        timeout=timeout,
    )


def extract(host, deb, root):
    """Unpack deb's files under root, without installing anything."""
    command.run(host, ["dpkg", "-x", deb, root])


def sources(host):
    """The text of the machine's own apt sources (one-line and deb822 files)."""
    out = command.run(
        host,
        [
            "sh",
            "-c",
            "cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list"
            " /etc/apt/sources.list.d/*.sources 2>/dev/null; true",
        ],
    )
    return out.stdout


def codename(host):
    out = command.run(host, ["sh", "-c", '. /etc/os-release && echo "$VERSION_CODENAME"'])
    return out.stdout.strip()
