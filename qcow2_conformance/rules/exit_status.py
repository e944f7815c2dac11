"""What a run's exit says: the part of every procedure's completes rule about the run itself."""

import signal


def run_problems(run):
    """Why the run did not end well (timed out, a non-zero exit status), or []."""
    if run.timed_out:
        return [f"timed out after {run.timeout:g} s"]
    if run.exit_status != 0:
        return [
            f"exit status {run.exit_status}{_signal(run.exit_status)}, expected 0"
            + (f"; it said: {run.output}" if run.output else "")
        ]
    return []


def _signal(status):
    """' (killed by SIGSEGV)' for a status a shell gives a killed program, else ''."""
    number = -status if status < 0 else status - 128 if 128 < status < 160 else None
    if number is None:
        return ""
    try:
        name = signal.Signals(number).name
    except ValueError:
        return ""
    if number == signal.SIGXFSZ:
        # Only the harness's cap on file size sends it: the program was filling the disk.
        return (
            f" (killed by {name}: a file it wrote reached the harness's size cap, --impl-max-file)"
        )
    return f" (killed by {name})"
