"""The package as a user gets it: its wheels, and a fresh venv with the wheel installed.

Both are made once per test session, whichever xdist worker asks first
(fixtures/cache.once), in the session's shared folder. The wheels are built
from a copy of the checkout, so the checkout gains no build/ or *.egg-info,
and dated at a fixed time, so the same sources make the same wheel
(bin/build-image labels the image with the wheels' digest).
"""

import glob
import os
import shutil
import sys

from qcow2_conformance.fixtures.cache import once
from qcow2_conformance.tools import command

from support import ROOT

# 1980-01-01, the earliest date a zip file holds.
SOURCE_DATE_EPOCH = "315532800"
NOT_SOURCES = shutil.ignore_patterns(
    ".venv", ".git", ".tox", ".cache", "__pycache__", "build", "*.egg-info", "conformance-out"
)
# pip's own warnings about this machine's configuration go to stderr; only its status matters.
PIP = ["-m", "pip", "--quiet", "--disable-pip-version-check"]


def wheelhouse(host, session_folder):
    """A folder with this checkout's wheel and a wheel of each of its dependencies."""

    def build():
        source = session_folder / "wheel-source"
        folder = session_folder / "wheelhouse"
        shutil.copytree(ROOT, source, ignore=NOT_SOURCES)
        command.run(
            host,
            [sys.executable, *PIP, "wheel", "--wheel-dir", folder, source],
            env={"SOURCE_DATE_EPOCH": SOURCE_DATE_EPOCH},
        )
        shutil.rmtree(source)
        return str(folder)

    return once(str(session_folder / "wheelhouse.pickle"), build)


def the_wheel(house):
    (found,) = glob.glob(os.path.join(house, "qcow2_conformance-*.whl"))
    return found


def installed(host, session_folder):
    """A fresh venv with `pip install WHEEL` done, no extras: its folder."""

    def install():
        house = wheelhouse(host, session_folder)
        venv = session_folder / "installed"
        command.run(host, [sys.executable, "-m", "venv", venv])
        # Its dependencies from the wheelhouse, which pip filled from the index.
        command.run(
            host,
            [venv / "bin" / "python", *PIP, "install", "--no-index", "--find-links", house]
            + [the_wheel(house)],
        )
        return str(venv)

    return once(str(session_folder / "installed.pickle"), install)


# The checkout must not be importable: the installed package is what runs.
UNSET = ("PYTHONPATH", "VIRTUAL_ENV", "PYTHONPYCACHEPREFIX")
