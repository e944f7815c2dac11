"""The processes a command left running, found by a mark in their environment.

tools/command.py gives every command it runs an environment variable of its
own (command.MARK, HARNESS_COMMAND=a fresh token). Every process the
command starts inherits it, even one that left the command's process group
or session (setsid, a daemon's double fork) and was re-parented to PID 1: a
process group, which timeout(1) kills, does not hold those. /proc/PID/environ
keeps the environment a process started with, so a scan finds them all, on
this machine or on an ssh target. What escapes: a child started with an
emptied environment (env -i), or a process another one starts on the
program's behalf (systemd-run, a daemon it asks).
"""

import time

from qcow2_conformance.tools import command

# Prints "PID COMMAND LINE" for each process whose environment holds $1.
# grep reads every environ in one process; its own environment lacks the
# mark (only its argument holds it).
_SCAN = r"""
grep -laF -e "$1" /proc/[0-9]*/environ 2>/dev/null | while read -r path; do
    pid=${path#/proc/}; pid=${pid%/environ}
    line=$(tr '\0' ' ' < "/proc/$pid/cmdline" 2>/dev/null) || continue
    [ -n "$line" ] && printf '%s %s\n' "$pid" "$line"
done
exit 0
"""

# How long processes already sent SIGKILL (timeout(1)'s, to the command's
# group) may take to be gone before they count as left behind.
SETTLE = 2.0


def marked(host, mark):
    """{pid: command line} of every live process whose environment carries mark."""
    argv = ["sh", "-c", _SCAN, "sh", f"{command.MARK}={mark}"]
    out = command.run(host, argv, check=False, mark=None)
    found = {}
    for line in out.stdout.splitlines():
        pid, _, rest = line.partition(" ")
        if pid.isdigit():
            found[int(pid)] = rest.strip()
    return found


def kill_marked(host, mark, tries=5):
    """SIGKILL every process carrying mark until none is left; {pid: command line} killed.

    A process that forks while it is being killed leaves a child with the
    mark: the next try takes it.
    """
    killed = {}
    for _ in range(tries):
        found = marked(host, mark)
        if not found:
            break
        killed.update(found)
        command.run(host, ["kill", "-KILL", *map(str, found)], check=False, mark=None)
    return killed


def left_behind(host, mark, settle=SETTLE):
    """What a command left running once it returned: {pid: command line}, all killed.

    Processes that are only still exiting (killed with the command's group)
    are given settle seconds to go.
    """
    found = marked(host, mark)
    deadline = time.monotonic() + settle
    while found and time.monotonic() < deadline:
        time.sleep(0.1)
        found = {pid: line for pid, line in marked(host, mark).items() if pid in found}
    if not found:
        return {}
    killed = kill_marked(host, mark)
    return {**found, **killed}
