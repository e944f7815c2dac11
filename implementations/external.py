"""exec:PATH — any program, run as PATH ACTIVE OVERLAY.

QEMU_IMG names the qemu-img under test, and its folder comes first on PATH,
so a program that calls plain 'qemu-img' uses the release under test.

The program runs in the folder of the chain's copy, with HOME and TMPDIR
inside it, so whatever it leaves behind is found there (overlay-only) and
not in the user's own folders. No file it writes may grow past
max_file_size: a runaway writer dies of SIGXFSZ before it fills the disk.
"""

import os
import time

from implementations.base import RunFacts, tail
from tools import command, files

# Puts the qemu folder in front of the host's own PATH, then runs the program.
_PREFIX_PATH = 'PATH="$1:$PATH"; export PATH; shift; exec "$@"'


# Far above any overlay's size: an overlay holds metadata only.
MAX_FILE_SIZE = 1 << 30


class ExternalProgram:
    def __init__(self, path, max_file_size=MAX_FILE_SIZE):
        self.path = os.path.abspath(path)
        self.name = f"exec:{path}"
        self.max_file_size = max_file_size

    def unavailable(self, tools):
        return None

    def run(self, tools, active, overlay, *, cwd, timeout):
        home, tmp = os.path.join(cwd, "home"), os.path.join(cwd, "tmp")
        files.mkdir(tools.host, home)
        files.mkdir(tools.host, tmp)
        argv = ["sh", "-c", _PREFIX_PATH, "sh", tools.bindir, self.path, active, overlay]
        start = time.monotonic()
        out = command.run(
            tools.host,
            argv,
            check=False,
            cwd=cwd,
            timeout=timeout,
            env={"QEMU_IMG": tools.qemu_img, "HOME": home, "TMPDIR": tmp},
            max_file_size=self.max_file_size,
        )
        return RunFacts(
            implementation=self.name,
            exit_status=out.rc,
            timed_out=out.timed_out,
            timeout=timeout,
            duration=time.monotonic() - start,
            output=tail(out.stderr + "\n" + out.stdout),
            overlay_exists=files.exists(tools.host, overlay),
        )
