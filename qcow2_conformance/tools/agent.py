"""The harness's end on a remote target: runs its commands, reads its images.

Standard library only. tools/bundle.py ships this module, with the image
reader, to the target, and tools/hosts.py starts it there over one ssh
connection per harness process:

    python3 harness.pyz serve

It reads one JSON request per line on stdin and writes one JSON answer per
line on stdout:

    {"run": "SHELL LINE"}  ->  {"rc": N, "stdout": BASE64, "stderr": BASE64}
    {"read": [REQUEST...]} ->  {"answers": [...]}    (observe/reader.py's answer())

Why not one ssh command per harness command: sshd starts the user's login
shell for each (bash reads ~/.bashrc then), which cost 150 ms a command on
the machine this was written on, and 11 ms with an empty .bashrc.

Every command runs in a session of its own. When stdin closes, because the
harness ended or the connection dropped, the agent kills every process
still in a session it started (coreutils timeout makes process groups of
its own, so a process group would not do), then exits: nothing it started
outlives the connection.
"""

import base64
import json
import os
import select
import signal
import subprocess
import threading


def serve(read, stdin=0, stdout=1):
    """Answer requests until stdin closes; read(requests) answers "read"."""
    sessions = set()
    pending = b""
    while True:
        if b"\n" not in pending:
            chunk = os.read(stdin, 1 << 16)
            if not chunk:
                break
            pending += chunk
            continue
        line, pending = pending.split(b"\n", 1)
        request = json.loads(line)
        if "run" in request:
            answer = _run(request["run"], sessions, stdin)
            if answer is None:
                break
        else:
            answer = {"answers": read(request["read"])}
        os.write(stdout, json.dumps(answer).encode() + b"\n")
    _kill_sessions(sessions)


def _run(line, sessions, stdin):
    """The answer to a run request, or None if stdin closed meanwhile."""
    proc = subprocess.Popen(
        ["sh", "-c", line],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    sessions.add(proc.pid)
    result = {}
    done_r, done_w = os.pipe()

    def wait():
        result["out"], result["err"] = proc.communicate()
        os.write(done_w, b"x")

    threading.Thread(target=wait, daemon=True).start()
    try:
        # The harness sends nothing while a command runs: stdin readable means closed.
        ready, _, _ = select.select([done_r, stdin], [], [])
        if done_r not in ready:
            return None
    finally:
        os.close(done_r)
    os.close(done_w)
    return {
        "rc": proc.returncode,
        "stdout": base64.b64encode(result["out"]).decode(),
        "stderr": base64.b64encode(result["err"]).decode(),
    }


def _kill_sessions(sessions):
    for pid in os.listdir("/proc"):
        if pid.isdigit():
            try:
                with open(f"/proc/{pid}/stat", "rb") as f:
                    # Fields after the command name, which may hold spaces.
                    fields = f.read().rsplit(b")", 1)[1].split()
                if int(fields[3]) in sessions:
                    os.kill(int(pid), signal.SIGKILL)
            except (OSError, IndexError, ValueError):
                pass
