"""Turn an --impl value into an implementation object.

What an implementation is: implementations/base.py. A built-in name stands for
one class, which runs the procedures it has methods for; exec:PATH runs a
program for any procedure.
"""

import os
import time

from qcow2_conformance.implementations import commit_reference, reference
from qcow2_conformance.implementations.base import ImplementationError, RunFacts, tail
from qcow2_conformance.implementations.external import MAX_FILE_SIZE, ExternalProgram
from qcow2_conformance.implementations.libvirt_live import LibvirtLive
from qcow2_conformance.implementations.libvirt_offline import LibvirtOffline
from qcow2_conformance.tools import command, files, hosts
from qcow2_conformance.tools.toolset import BITMAP_COMMAND, STORAGE_DAEMON


class Reference:
    """The reference implementations, run in the harness's own process.

    One name for both procedures: snapshot() runs implementations/reference.py,
    commit() implementations/commit_reference.py.
    """

    def __init__(self, name="reference", use_daemon=True):
        self.name = name
        self.use_daemon = use_daemon

    def unavailable(self, tools):
        # Without the daemon the reference adds bitmaps with qemu-img bitmap.
        if self.use_daemon and STORAGE_DAEMON in tools.capabilities:
            return None
        reason = tools.lacks(BITMAP_COMMAND)
        return f"{self.name}: {reason}" if reason else None

    def snapshot(self, tools, active, overlay, *, cwd, timeout):
        return self._run(tools, timeout, reference.snapshot, active, overlay)

    def commit(self, tools, top, base, above, *, cwd, timeout):
        return self._run(tools, timeout, commit_reference.commit, top, base, above)

    def _run(self, tools, timeout, function, *paths):
        """RunFacts of function(tools, *paths), a reference procedure, as of a program."""
        if not self.use_daemon:
            tools = tools.without_storage_daemon()
        start = time.monotonic()
        status, message, timed_out = 0, "", False
        try:
            carried = function(tools, *paths, timeout=timeout)
            message = f"{len(carried)} bitmaps carried"
        except (reference.SnapshotError, commit_reference.CommitError, command.CommandError) as e:
            status, message = 1, str(e)
            timed_out = isinstance(e, command.CommandError) and e.result.timed_out
        return RunFacts(
            self.name, status, timed_out, timeout, time.monotonic() - start, tail(message)
        )


BUILTIN = {
    "reference": lambda uri, token: Reference(),
    "reference-qemu-img": lambda uri, token: Reference("reference-qemu-img", use_daemon=False),
    "libvirt-live": lambda uri, token: LibvirtLive("libvirt-live", uri, token),
    "libvirt-offline": lambda uri, token: LibvirtOffline("libvirt-offline", uri, token),
}


def resolve(
    spec,
    *,
    libvirt_uri="qemu:///system",
    run_token="adhoc",
    max_file_size=MAX_FILE_SIZE,
    base_dir=None,
    host=None,
):
    """Return the implementation named by spec: a built-in name or exec:PATH.

    max_file_size caps every file an exec: program writes; a relative PATH
    is taken from base_dir (default: the current folder). PATH is looked for
    on host (default: this machine), where the program will run.
    """
    if spec.startswith("exec:"):
        path = os.path.join(base_dir or os.getcwd(), spec[len("exec:") :]) if spec[5:] else ""
        if not path:
            raise ImplementationError(
                "--impl exec: needs a program path, e.g. exec:/usr/local/bin/snap"
            )
        where = "" if host is None or hosts.is_local(host) else f" on {hosts.describe(host)}"
        if files.is_dir(host, path) if where else os.path.isdir(path):
            raise ImplementationError(
                f"--impl {spec}: {path} is a folder{where}, not a program; give the program's path"
            )
        if not (files.is_file(host, path) if where else os.path.isfile(path)):
            raise ImplementationError(
                f"--impl {spec}: {path} does not exist{where}; give the program's path"
            )
        if not (files.is_executable(host, path) if where else os.access(path, os.X_OK)):
            raise ImplementationError(f"--impl {spec}: {path} is not executable; chmod +x it")
        return ExternalProgram(path, max_file_size, run_token, name=spec)
    if spec in BUILTIN:
        return BUILTIN[spec](libvirt_uri, run_token)
    raise ImplementationError(
        f"--impl {spec}: unknown implementation; use one of {', '.join(BUILTIN)} or exec:PATH"
    )
