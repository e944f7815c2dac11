"""Turn an --impl value into an implementation object.

Every implementation has a name, unavailable(tools) -> None or the reason it
cannot run here, and run(tools, active, overlay, *, cwd, timeout) -> RunFacts.
"""

import os
import time

from implementations import reference
from implementations.base import ImplementationError, RunFacts, tail
from implementations.external import MAX_FILE_SIZE, ExternalProgram
from implementations.libvirt_live import LibvirtLive
from implementations.libvirt_offline import LibvirtOffline
from tools import command, files
from tools.toolset import BITMAP_COMMAND, STORAGE_DAEMON


class Reference:
    """The reference implementation, run in the harness's own process."""

    def __init__(self, name="reference", use_daemon=True):
        self.name = name
        self.use_daemon = use_daemon

    def unavailable(self, tools):
        # Without the daemon the reference adds bitmaps with qemu-img bitmap.
        if self.use_daemon and STORAGE_DAEMON in tools.capabilities:
            return None
        reason = tools.lacks(BITMAP_COMMAND)
        return f"{self.name}: {reason}" if reason else None

    def run(self, tools, active, overlay, *, cwd, timeout):
        if not self.use_daemon:
            tools = tools.without_storage_daemon()
        start = time.monotonic()
        status, message, timed_out = 0, "", False
        try:
            carried = reference.snapshot(tools, active, overlay, timeout=timeout)
            message = f"{len(carried)} bitmaps carried"
        except (reference.SnapshotError, command.CommandError) as e:
            status, message = 1, str(e)
            timed_out = isinstance(e, command.CommandError) and e.result.timed_out
        return RunFacts(
            self.name,
            status,
            timed_out,
            timeout,
            time.monotonic() - start,
            tail(message),
            files.exists(tools.host, overlay),
        )


BUILTIN = {
    "reference": lambda uri, token: Reference(),
    "reference-qemu-img": lambda uri, token: Reference("reference-qemu-img", use_daemon=False),
    "libvirt-live": lambda uri, token: LibvirtLive("libvirt-live", uri, token),
    "libvirt-offline": lambda uri, token: LibvirtOffline("libvirt-offline", uri, token),
}


def resolve(spec, *, libvirt_uri="qemu:///system", run_token="adhoc", max_file_size=MAX_FILE_SIZE):
    """Return the implementation named by spec: a built-in name or exec:PATH.

    max_file_size caps every file an exec: program writes.
    """
    if spec.startswith("exec:"):
        path = spec[len("exec:") :]
        if not path:
            raise ImplementationError(
                "--impl exec: needs a program path, e.g. exec:/usr/local/bin/snap"
            )
        if not os.path.isfile(path):
            raise ImplementationError(
                f"--impl {spec}: {path} does not exist; give the program's path"
            )
        if not os.access(path, os.X_OK):
            raise ImplementationError(f"--impl {spec}: {path} is not executable; chmod +x it")
        return ExternalProgram(path, max_file_size)
    if spec in BUILTIN:
        return BUILTIN[spec](libvirt_uri, run_token)
    raise ImplementationError(
        f"--impl {spec}: unknown implementation; use one of {', '.join(BUILTIN)} or exec:PATH"
    )
