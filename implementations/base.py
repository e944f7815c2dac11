"""What every implementation under test reports about one run."""

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
    overlay_exists: bool
    # (path, size) of the files an exec: program left in the folder holding
    # its HOME and TMPDIR (home/..., tmp/...), which is removed after the run.
    scratch_files: tuple = ()


def tail(text, lines=5, width=300):
    kept = [line.rstrip() for line in text.strip().splitlines()[-lines:]]
    return " | ".join(line[:width] for line in kept if line)
