"""qemu releases side by side: provisioning, runs on two releases, and their compare."""

import json
import os
import sys

import pytest

from qcow2_conformance.reports import compare
from qcow2_conformance.tools import command, releases, toolset

from support import ROOT, conformance

ONE_LINE = "deb [arch=amd64] http://mirror.example/debian bookworm main\n"
DEB822 = """Types: deb
# a comment inside the stanza
URIs: http://deb.example/debian
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: http://deb.example/debian-security
Suites: bookworm-security
"""


@pytest.mark.parametrize(
    "text, expected",
    [
        (ONE_LINE, ("http://mirror.example/debian", "[arch=amd64] ")),
        (
            DEB822,
            (
                "http://deb.example/debian",
                "[signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] ",
            ),
        ),
    ],
)
def test_the_mirror_is_the_machines_own(text, expected):
    assert releases.mirror(text, "bookworm") == expected


def test_no_source_for_this_release_is_a_clear_error():
    with pytest.raises(releases.ReleaseError, match="no apt source for Debian 'bookworm'"):
        releases.mirror("deb http://x/debian bullseye main\n", "bookworm")


def test_an_unknown_release_names_the_known_ones(tools, tmp_path):
    with pytest.raises(releases.ReleaseError, match=r"'4\.2' is unknown; known: 5\.2, 7\.2, 10\.0"):
        releases.provision(tools.host, "4.2", cache=str(tmp_path))


def test_a_release_that_cannot_be_had_says_so(tools, tmp_path, monkeypatch):
    monkeypatch.setitem(
        releases.RELEASES, "9.9", releases.Release("no-such-suite", ("qemu-utils",))
    )
    with pytest.raises(
        releases.ReleaseError, match="qemu 9.9: cannot fetch qemu-utils from .* no-such-suite"
    ):
        releases.provision(tools.host, "9.9", cache=str(tmp_path))
    assert not os.path.exists(tmp_path / "qemu-9.9" / ".complete")


@pytest.fixture(scope="module", params=["5.2", "10.0"])
def provisioned(request, tools):
    try:
        return request.param, releases.provision(tools.host, request.param)
    except releases.ReleaseError as e:
        pytest.skip(f"qemu {request.param} cannot be fetched here: {e}")


def test_provisioning_is_idempotent_and_checks_binaries(provisioned, tools):
    release, folder = provisioned
    stamp = os.stat(os.path.join(folder, "qemu-img")).st_mtime_ns
    assert releases.provision(tools.host, release) == folder
    assert os.stat(os.path.join(folder, "qemu-img")).st_mtime_ns == stamp
    found = toolset.versions(toolset.find(tools.host, os.path.join(folder, "qemu-img")))
    assert set(found) == set(releases.BINARIES)
    assert all(release in version for version in found.values()), found


def test_reference_on_two_releases_and_their_compare(tools, tmp_path):
    runs = {}
    for release in ("5.2", "10.0"):
        runs[release] = tmp_path / f"qemu-{release}.json"
        out = conformance(tools, f"--qemu={release}", f"--results={runs[release]}", "-n", "2")
        if "cannot fetch" in out.stdout + out.stderr:
            pytest.skip(f"qemu {release} cannot be fetched here")
        assert out.rc == 0, out.stdout[-2000:]
        run = json.loads(runs[release].read_text())["run"]
        assert run["qemu"] == release
        assert set(run["qemu_versions"]) == set(releases.BINARIES)
        assert all(f"{release}" in v for v in run["qemu_versions"].values())
    out = command.run(
        tools.host,
        [
            sys.executable,
            "-m",
            "qcow2_conformance.reports.compare",
            str(runs["5.2"]),
            str(runs["10.0"]),
        ],
        cwd=ROOT,
        check=False,
    )
    assert out.rc == 0, out.stdout
    assert "regressions: 0" in out.stdout
    sections = compare.changes(*(json.loads(p.read_text()) for p in runs.values()))
    assert sections["regressions"] == []
    assert (tmp_path / "qemu-10.0.compare.md").exists()
