"""What one command costs over ssh, and what a lost ssh connection leaves running.

    .venv/bin/python bench/ssh_commands.py
    /tmp/pvenv/bin/python bench/ssh_commands.py    # a venv with paramiko: its backend too

Starts its own sshd on 127.0.0.1 (tests/sshd.py; needs root and openssh-server)
and times N host.run("true") (default 200, argument 1) through testinfra's
backends: local, ssh with a ControlMaster (one connection for every command;
testinfra needs `controlpath` for that, and `%%C` in it, since it formats its
command line with %), ssh without one (a connection per command), paramiko
when it can be imported. Also the local and ControlMaster commands wrapped in
HANGUP_GUARD (taking turns with the bare ones), and a ControlMaster to a
server whose commands read root's ~/.bashrc. Prints ms per command, mean and
median; the first command, which opens the connection, is timed apart. And
the harness's own ssh host (tools/hosts.py), whose commands go through its
agent on the target over one connection: what --target-host ssh:// uses.

Then it loses connections on purpose and prints what is left on the server
after 2 s: a remote `sh -c 'sleep 30'` (and a `timeout` one, whose child is in
a process group of its own), bare and wrapped, when the sshd connection
process dies (kill_sessions), when the ssh client dies, direct or through a
ControlMaster, and when the ControlMaster dies. Last, what a ControlMaster
does when sshd goes away, and `ssh -O exit`. Asserts nothing.
"""

import os
import shlex
import signal
import stat
import statistics
import subprocess
import sys
import tempfile
import time

import testinfra

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests"))

import sshd  # noqa: E402

sys.path.insert(0, ROOT)
from qcow2_conformance.tools import hosts  # noqa: E402

# Runs "$1" in a session of its own, and kills that session (every process of
# it, whatever its process group) once the sshd process that started this
# shell ($PPID) is gone; a PPID of 1 means it was gone before the shell
# started. $c first: before its setsid() it is not in session $c yet. The
# watcher's output goes to /dev/null: ssh waits for every holder of the
# session's stdout and stderr, and the watcher's `sleep 0.5` would hold them
# after `kill $w`. Keeps the command's exit status, stdout and stderr.
HANGUP_GUARD = (
    'exec sh -c \'P=$PPID; setsid sh -c "$1" </dev/null & c=$!; '
    "( while [ $P != 1 ] && kill -0 $P; do sleep 0.5; done; kill -KILL $c; pkill -KILL -s $c )"
    " >/dev/null 2>&1 & w=$!; wait $c; r=$?; kill $w 2>/dev/null; exit $r' sh "
)


def new_server(scratch, **options):
    return sshd.start(tempfile.mkdtemp(dir=scratch), tempfile.mkdtemp(dir=scratch), **options)


def guarded(command):
    return HANGUP_GUARD + shlex.quote(command)


def timed(host, n, *commands):
    """[(first ms, [ms of each of the n next]) per command]; the commands take turns,
    so that a load that comes and goes weighs on each alike."""
    firsts, times = [], [[] for _ in commands]
    for command in commands:
        start = time.perf_counter()
        host.run(command)
        firsts.append((time.perf_counter() - start) * 1000)
    for _ in range(n):
        for command, spent in zip(commands, times):
            start = time.perf_counter()
            host.run(command)
            spent.append((time.perf_counter() - start) * 1000)
    return list(zip(firsts, times))


def report(name, first, times):
    mean, median = statistics.mean(times), statistics.median(times)
    print(f"  {name:<36} {mean:7.2f} {median:7.2f} {first:9.2f}")


def costs(server, controls, n):
    print(f'ms per host.run("true"), {n} commands each:')
    print(f"  {'backend':<36} {'mean':>7} {'median':>7} {'first':>9}")
    bare, guard = timed(testinfra.get_host("local://"), n, "true", guarded("true"))
    report("local", *bare)
    report("  the same, HANGUP_GUARD", *guard)
    master = testinfra.get_host(server.url, ssh_config=server.ssh_config, controlpath=controls)
    bare, guard = timed(master, n, "true", guarded("true"))
    report("ssh, ControlMaster (controlpath)", *bare)
    report("  the same, HANGUP_GUARD", *guard)
    # What the harness uses (tools/hosts.py): one agent on the target, one connection.
    agent = hosts.connect(server.url, ssh_config=server.ssh_config)
    report("the harness's agent (tools/hosts.py)", *timed(agent, n, "true")[0])
    agent.close()
    kept = master.run(guarded("printf 'a b'; echo err >&2; exit 3"))
    print(f"    (guarded: status, stdout, stderr {(kept.rc, kept.stdout, kept.stderr)!r})")
    with_rc = new_server(os.path.dirname(controls), keep_bashrc=True)
    rc_host = testinfra.get_host(with_rc.url, ssh_config=with_rc.ssh_config, controlpath=controls)
    report("  the same, reading root's ~/.bashrc", *timed(rc_host, n, "true")[0])
    with_rc.stop()
    plain = testinfra.get_host(
        server.url, ssh_config=server.ssh_config, ssh_identity_file=server.identity_file
    )
    report("ssh, a connection per command", *timed(plain, n, "true")[0])
    try:
        import paramiko  # noqa: F401
    except ImportError:
        print("  paramiko: not importable here; run this with a python that has paramiko")
        return
    spec = f"paramiko://root@127.0.0.1:{server.port}"
    paramiko_host = testinfra.get_host(
        spec, ssh_config=server.ssh_config, ssh_identity_file=server.identity_file
    )
    report("paramiko (one connection)", *timed(paramiko_host, n, "true")[0])


def left_after(server, marker, seconds=2.0):
    """Seconds until no process of the server has `marker` in its command line, or None."""
    start = time.monotonic()
    while time.monotonic() - start < seconds:
        if not any(marker in line for line in server.processes().values()):
            return time.monotonic() - start
        time.sleep(0.02)
    return None


def lost_connections(server, controls):
    ssh = ["ssh", "-F", server.ssh_config]
    via_master = ssh + ["-o", "ControlMaster=auto", "-o", "ControlPersist=60"]
    via_master += ["-o", f"ControlPath={controls.replace('%%', '%')}"]
    print("\nA remote command when its ssh connection is lost (what is left after 2 s):")
    cases = [
        ("sh -c 'sleep 30'", "sleep 30"),
        ("timeout 31 sh -c 'sleep 31'", "sleep 31"),
    ]
    for command, marker in cases:
        for wrap in (False, True):
            for how in ("kill_sessions", "ssh client killed", "mux client killed", "master killed"):
                argv = ssh if how.startswith("ssh") or how == "kill_sessions" else via_master
                argv = argv + ["127.0.0.1", guarded(command) if wrap else command]
                client = subprocess.Popen(argv, stderr=subprocess.DEVNULL)
                deadline = time.monotonic() + 5
                while marker not in server.processes().values():
                    if time.monotonic() > deadline:
                        raise RuntimeError(f"{command} did not start over ssh")
                    time.sleep(0.02)
                if how == "kill_sessions":
                    server.kill_sessions()
                elif how == "master killed":
                    for pid in masters(controls):
                        os.kill(pid, signal.SIGKILL)
                else:
                    client.kill()
                client.wait()
                gone = left_after(server, marker)
                name = f"{'guarded ' if wrap else ''}{command}, {how}"
                verdict = "still running" if gone is None else f"gone after {gone:.2f} s"
                print(f"  {name:<58} {verdict}")
                for pid, line in server.processes().items():
                    if marker in line:
                        os.kill(pid, signal.SIGKILL)
                # Gone for good before the next case looks for its marker.
                if left_after(server, marker, 5) is None:
                    raise RuntimeError(f"{marker} still runs on the server")


def masters(controls):
    """The pids of the ControlMasters of the control folder (named 'ssh: PATH [mux]')."""
    folder = os.path.dirname(controls)
    found = []
    for pid in os.listdir("/proc"):
        try:
            with open(f"/proc/{pid}/cmdline") as f:
                line = f.read()
        except OSError:
            continue
        if line.startswith("ssh: " + folder + "/"):
            found.append(int(pid))
    return found


def sockets(folder):
    return [
        name for name in os.listdir(folder) if stat.S_ISSOCK(os.lstat(f"{folder}/{name}").st_mode)
    ]


def wait_gone(controls, seconds=10.0):
    start = time.monotonic()
    while masters(controls) and time.monotonic() - start < seconds:
        time.sleep(0.01)
    return "still there" if masters(controls) else f"gone after {time.monotonic() - start:.2f} s"


def master_ends(server, controls, scratch):
    print("\nThe ControlMaster:")
    master = testinfra.get_host(server.url, ssh_config=server.ssh_config, controlpath=controls)
    master.run("true")
    running = masters(controls)
    server.kill_sessions()
    print(f"  running: pids {running}; kill_sessions(): it is {wait_gone(controls)}")
    master.run("true")
    print(f"  the next command opens a new one: pids {masters(controls)}")
    bare = subprocess.Popen(
        ["ssh", "-F", server.ssh_config, "127.0.0.1", "sh -c 'sleep 32'"], stderr=subprocess.DEVNULL
    )
    while "sleep 32" not in server.processes().values():
        time.sleep(0.02)
    sleeper = next(pid for pid, line in server.processes().items() if line == "sleep 32")
    server.stop()
    bare.wait()
    print(f"  sshd stopped: it is {wait_gone(controls)}; sockets left: {sockets(scratch)}")
    alive = os.path.exists(f"/proc/{sleeper}")
    print(f"  and a bare sh -c 'sleep 32' (PID namespace gone): {'alive' if alive else 'gone'}")
    server = new_server(scratch)
    master = testinfra.get_host(server.url, ssh_config=server.ssh_config, controlpath=controls)
    master.run("true")
    exit_ = ["ssh", "-F", server.ssh_config, "-o", f"ControlPath={controls.replace('%%', '%')}"]
    start = time.perf_counter()
    done = subprocess.run(exit_ + ["-O", "exit", "127.0.0.1"], capture_output=True, text=True)
    took = (time.perf_counter() - start) * 1000
    print(
        f"  ssh -O exit: status {done.returncode}, {done.stderr.strip()!r}, {took:.1f} ms;"
        f" it is {wait_gone(controls)}"
    )
    return server


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 200
    reason = sshd.missing()
    if reason:
        sys.exit(f"ssh_commands: {reason}")
    # A short folder: a ControlPath is a unix socket, whose path must fit in 108 bytes.
    scratch = tempfile.mkdtemp(prefix="ssh-bench.", dir="/tmp")
    controls = os.path.join(scratch, "%%C")
    server = new_server(scratch)
    try:
        costs(server, controls, n)
        lost_connections(server, controls)
        server = master_ends(server, controls, scratch)
    finally:
        server.stop()
        for pid in masters(controls):
            os.kill(pid, signal.SIGKILL)


if __name__ == "__main__":
    main()
