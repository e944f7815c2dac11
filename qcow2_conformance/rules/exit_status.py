"""What a run's exit says: the part of every procedure's completes rule about the run itself,
and whether the run was a clean refusal."""

import signal

# How a refusal's message begins; the reports group refusals by what follows.
REFUSED_PREFIX = "refused, changing nothing: "


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


def refusal(obs):
    """Why the run is a clean refusal, in one line, or None.

    A clean refusal exits non-zero of its own accord (1 to 125: not a signal,
    not a program that could not be started, not cut off at the timeout) and
    changes nothing: no file of its folder created, removed, resized or
    written (size and modification time, from listings before and after), no
    image replaced, nothing left in its HOME or TMPDIR, no process left
    running. Anything else that exits non-zero is a failure of the completes
    rule.
    """
    run, changes = obs.run, obs.folder_changes
    if run.timed_out or not 0 < run.exit_status < 126 or changes is None:
        return None
    if changes.modified or changes.removed or changes.scratch or run.leftovers or obs.damage:
        return None
    said = f"; it said: {run.output}" if run.output else ""
    return f"{REFUSED_PREFIX}exit status {run.exit_status}{said}"


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
