"""exec:PATH — any program, run as PATH ACTIVE OVERLAY.

QEMU_IMG names the qemu-img under test, and its folder comes first on PATH,
so a program that calls plain 'qemu-img' uses the release under test.
"""

import os
import time

from implementations.base import RunFacts, tail
from tools import command, files

# Puts the qemu folder in front of the host's own PATH, then runs the program.
_PREFIX_PATH = 'PATH="$1:$PATH"; export PATH; shift; exec "$@"'


class ExternalProgram:
    def __init__(self, path):
        self.path = os.path.abspath(path)
        self.name = f"exec:{path}"

    def unavailable(self, tools):
        return None

    def run(self, tools, active, overlay, *, cwd, timeout):
        argv = ["sh", "-c", _PREFIX_PATH, "sh", tools.bindir, self.path, active, overlay]
        start = time.monotonic()
        out = command.run(tools.host, argv, check=False, cwd=cwd, timeout=timeout,
                          env={"QEMU_IMG": tools.qemu_img})
        return RunFacts(
            implementation=self.name,
            exit_status=out.rc,
            timed_out=out.timed_out,
            timeout=timeout,
            duration=time.monotonic() - start,
            output=tail(out.stderr + "\n" + out.stdout),
            overlay_exists=files.exists(tools.host, overlay))
