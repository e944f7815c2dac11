"""What every implementation under test is, and what it reports about one run.

An implementation has a name; unavailable(tools) -> None or why it cannot
run here at all (libvirt down, a qemu tool missing); and one method per
procedure it runs, which that procedure calls (procedures/: each module's
Protocol says its method):

    snapshot(tools, active, overlay, *, cwd, timeout) -> RunFacts
    commit(tools, top, base, above, *, cwd, timeout) -> RunFacts  (above: None
        for an active commit)

It is never told a procedure's name: having the method is running the
procedure. One that lacks a procedure's method may say why in `scope_note`,
which the skip line quotes. What the run left on disk is observe/'s business.
"""

from dataclasses import dataclass


class ImplementationError(Exception):
    """--impl names something the harness cannot run."""


@dataclass(frozen=True)
class RunFacts:
    implementation: str
    exit_status: int
    timed_out: bool
    timeout: float
    duration: float
    output: str  # the last lines the implementation printed, for messages
    # (path, size) of the files an exec: program left in the folder holding
    # its HOME and TMPDIR (home/..., tmp/...), which is removed after the run.
    scratch_files: tuple = ()
    # "PID COMMAND LINE" of each process the run left running after it
    # returned; the harness killed them (tools/processes.py).
    leftovers: tuple = ()


def tail(text, lines=5, width=300):
    kept = [line.rstrip() for line in text.strip().splitlines()[-lines:]]
    return " | ".join(line[:width] for line in kept if line)
