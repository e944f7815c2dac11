"""The harness's container image for the tests: built once per session with bin/build-image.

bin/build-image keeps an image whose Containerfile and wheels did not
change (its digest label), and its Debian base image, so only the first
session on a machine pays for them.
"""

import os
import shutil
import time

from qcow2_conformance.fixtures.cache import once
from qcow2_conformance.tools import command

from support import ROOT

TAG = "localhost/qcow2-conformance:selftest"
BASE = "localhost/qcow2-conformance-base:bookworm"
# crun fails on this machine's cgroup v1 ("cgroups in hybrid mode not
# supported"); podman's default nofile limit is above the host's hard limit.
RUNTIME = ["--runtime", "runc"] if shutil.which("runc") else []
LIMITS = ["--ulimit", "nofile=10000:10000", "--ulimit", "nproc=4096:4096"]


def podman(*args):
    return ["podman", *RUNTIME, *args]


def missing(host):
    """Why the image cannot be built and run here, or None."""
    if shutil.which("podman") is None:
        return "podman not found: apt-get install podman runc"
    if command.run(host, podman("info"), check=False, timeout=60).rc != 0:
        return "podman cannot run here (podman info fails)"
    has_base = command.run(host, podman("image", "exists", BASE), check=False).rc == 0
    if not has_base and shutil.which("mmdebstrap") is None:
        return f"no image {BASE} and no mmdebstrap to make it: apt-get install mmdebstrap"
    return None


def image(host, session_folder, house):
    """TAG, built from the wheels in house (or kept): (TAG, seconds the build took, its output)."""

    def build():
        start = time.monotonic()
        out = command.run(
            host,
            [os.path.join(ROOT, "bin", "build-image"), "--wheels", house, "--tag", TAG],
            timeout=1800,
        )
        return TAG, time.monotonic() - start, out.stderr

    return once(str(session_folder / "image.pickle"), build)
