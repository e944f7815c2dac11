"""The zip application shipped to a remote target: the agent and the image reader.

tools/agent.py, observe/reader.py and the qcow2 package, standard library
only, so the target needs nothing but python3 (3.11 or newer). It is
written to a fresh folder under the target's /tmp, which the agent removes
when it exits.
"""

import base64
import io
import os
import zipfile


class ShipError(Exception):
    """The agent cannot run on the target."""


_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

MAIN = b"""import os, shutil, sys
import agent, reader
try:
    agent.serve(reader.answer)
finally:
    shutil.rmtree(os.path.dirname(os.path.abspath(sys.argv[0])), ignore_errors=True)
"""


def archive():
    """The zip's bytes: the same sources give the same bytes."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as z:

        def add(name, data):
            info = zipfile.ZipInfo(name, date_time=(2020, 1, 1, 0, 0, 0))
            z.writestr(info, data, zipfile.ZIP_DEFLATED)

        def read(*parts):
            with open(os.path.join(_ROOT, *parts), "rb") as f:
                return f.read()

        add("__main__.py", MAIN)
        add("agent.py", read("tools", "agent.py"))
        add("reader.py", read("observe", "reader.py"))
        # reader.py imports the qcow2 package by its full name.
        add("qcow2_conformance/__init__.py", b"")
        for name in sorted(os.listdir(os.path.join(_ROOT, "qcow2"))):
            if name.endswith(".py"):
                add(f"qcow2_conformance/qcow2/{name}", read("qcow2", name))
    return buffer.getvalue()


def ship(setup):
    """Write the zip to a new folder on setup's host (a testinfra host); return its path.

    One command: the bytes go as base64 in its argument list (well under the
    kernel's 128 KiB per argument).
    """
    data = base64.b64encode(archive()).decode("ascii")
    out = setup.run(
        "sh -c %s sh %s",
        'd=$(mktemp -d /tmp/harness-agent.XXXXXX) && printf %s "$1" | base64 -d > "$d/harness.pyz"'
        ' && python3 -c "import sys; assert sys.version_info >= (3, 11)" && echo "$d/harness.pyz"',
        data,
    )
    if out.rc != 0:
        said = out.stderr.strip().splitlines()
        raise ShipError(
            f"cannot start the harness's agent on the target ({said[-1] if said else out.rc}):"
            " it needs python3 3.11 or newer there"
        )
    return out.stdout.strip()
