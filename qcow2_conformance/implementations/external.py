"""exec:PATH — any program, run with the procedure's paths as its arguments:
PATH ACTIVE OVERLAY for a snapshot, PATH COMMIT_TOP COMMIT_BASE [ABOVE] for a
commit (docs/exec-contract.md).

The program must behave as it would in the user's shell: it gets the
harness's environment minus what tox, its venv and pytest added
(implementations/shell_env.py), with stdin from /dev/null, plus what the
harness sets on purpose. QEMU_IMG names the qemu-img under test, and its
folder comes first on PATH, so a program that calls plain 'qemu-img' uses
the release under test.

It runs in the folder of the chain's copy. HOME and TMPDIR are home/ and
tmp/ of a folder of its own under /tmp: short enough for a UNIX socket
(108 bytes at most), which a tool driving qemu-storage-daemon over QMP
makes in a temporary folder, and not the user's own, so that what the
program leaves there is found (overlay-only). The folder is listed and
removed after the run, whatever happened; its name carries the run's token,
so the end of the session sweeps any that a killed worker left. No file the program writes may
grow past max_file_size: a runaway writer dies of SIGXFSZ before it fills
the disk. Every process the program started is killed when it returns,
whatever happened, and each one still running then is named in the
RunFacts (no-leftovers); its environment's mark finds even those that left
its session (tools/processes.py). When the harness pinned its xdist worker to one CPU
(tools/cpus.py), the program gets back every CPU the worker had.
"""

import os
import time

from qcow2_conformance.implementations import shell_env
from qcow2_conformance.implementations.base import RunFacts, tail
from qcow2_conformance.tools import command, cpus, files, hosts, processes

# Takes the folders given before "--" out of PATH, puts the qemu folder in
# front, then runs the program. The host's shell edits PATH, so the host's
# own PATH is kept whatever host runs the program.
_SET_PATH = r"""
qemu=$1; shift
p=:$PATH:
while [ "$1" != -- ]; do
    while case $p in *":$1:"*) true ;; *) false ;; esac; do
        p=${p%%":$1:"*}:${p#*":$1:"}
    done
    shift
done
shift
p=${p#:}; p=${p%:}
PATH=$qemu${p:+:$p}; export PATH
exec "$@"
"""

# Far above any overlay's size: an overlay holds metadata only.
MAX_FILE_SIZE = 1 << 30

# Prefix of the folder under /tmp that holds the program's HOME and TMPDIR.
SCRATCH_PREFIX = "harness-exec"


def scratch_prefix(run_token):
    return f"{SCRATCH_PREFIX}-{run_token}"


def sweep(host, run_token):
    """Remove the HOME/TMPDIR folders of this run that are left: an xdist
    worker killed outright never reaches its finally."""
    left = files.mkdtemps(host, scratch_prefix(run_token))
    files.remove(host, *left)
    return left


class ExternalProgram:
    def __init__(self, path, max_file_size=MAX_FILE_SIZE, run_token="adhoc", name=None):
        self.path = os.path.abspath(path)
        self.name = name or f"exec:{path}"
        self.max_file_size = max_file_size
        self.run_token = run_token

    def unavailable(self, tools):
        return None

    def snapshot(self, tools, active, overlay, *, cwd, timeout):
        return self.run(tools, (active, overlay), cwd=cwd, timeout=timeout)

    def commit(self, tools, top, base, above, *, cwd, timeout):
        paths = (top, base) if above is None else (top, base, above)
        return self.run(tools, paths, cwd=cwd, timeout=timeout)

    def run(self, tools, paths, *, cwd, timeout):
        """Run PATH with paths as its arguments."""
        scratch = files.mkdtemp(tools.host, scratch_prefix(self.run_token))
        try:
            return self._run(tools, paths, cwd, timeout, scratch)
        finally:
            files.remove(tools.host, scratch)

    def _run(self, tools, paths, cwd, timeout, scratch):
        home, tmp = os.path.join(scratch, "home"), os.path.join(scratch, "tmp")
        files.mkdir(tools.host, home)
        files.mkdir(tools.host, tmp)
        # A remote target's ssh session is already the plain shell a user gets there.
        local = hosts.is_local(tools.host)
        shell = shell_env.shell_env() if local else shell_env.REMOTE
        argv = [
            "sh",
            "-c",
            _SET_PATH,
            "sh",
            tools.bindir,
            *shell.not_on_path,
            "--",
            self.path,
            *paths,
        ]
        env = {**shell.restore, "QEMU_IMG": tools.qemu_img, "HOME": home, "TMPDIR": tmp}
        mark = command.new_mark()
        start = time.monotonic()
        out = command.run(
            tools.host,
            argv,
            check=False,
            cwd=cwd,
            timeout=timeout,
            env=env,
            unset=shell.unset,
            stdin="/dev/null",
            max_file_size=self.max_file_size,
            # The CPUs the worker had before it was pinned to one (tools/cpus.py).
            cpus=cpus.unpinned() if local else None,
            mark=mark,
        )
        duration = time.monotonic() - start
        left = processes.left_behind(tools.host, mark)
        listed = files.listing(tools.host, scratch)
        return RunFacts(
            implementation=self.name,
            exit_status=out.rc,
            timed_out=out.timed_out,
            timeout=timeout,
            duration=duration,
            output=tail(out.stderr + "\n" + out.stdout),
            scratch_files=tuple(sorted((path, size) for path, (size, _) in listed.items())),
            leftovers=tuple(f"{pid} {line}" for pid, line in sorted(left.items())),
        )
