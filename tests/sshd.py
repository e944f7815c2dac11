"""A real OpenSSH server on 127.0.0.1, for tests that run commands over ssh.

Why a real sshd rather than a fake: what the tests need to see is what ssh
does to commands (quoting, exit status, output, a lost connection), and only
OpenSSH does exactly that.

Each server runs in namespaces of its own (unshare):

- a private mount namespace in which `private_dir` is a tmpfs, so a file
  written there over ssh is seen by commands that come in over ssh and by no
  other process: a test can tell "ran over ssh" from "ran locally";
- a PID namespace with sshd as its first process, so killing sshd kills
  everything that ever ran over ssh, and `stop()` can check that nothing of
  the server remains.

Commands run over ssh do not read root's ~/.bashrc: Debian's bash sources it
for every command sshd starts, and on these machines it runs `pyenv init`,
which made a command over a ControlMaster cost 90 to 180 ms instead of 9 to
15 ms (bench/ssh_commands.py). A plain target host has no such file, so inside the
namespace it is /dev/null, unless start(..., keep_bashrc=True).

Its keys (ed25519), its configuration, its log (`sshd.log`) and a client
configuration for it are in a folder of its own; nothing else on the system
changes, except /run/sshd (sshd's privilege-separation folder), created if
missing as Debian's sshd service would. Needs root, /usr/sbin/sshd, ssh,
ssh-keygen and unshare (util-linux): `missing()` says what is lacking.
"""

import os
import shutil
import signal
import socket
import subprocess
import time
from dataclasses import dataclass

SSHD = "/usr/sbin/sshd"

# The server's configuration: key logins as root only, nothing from /etc/ssh.
SSHD_CONFIG = """\
ListenAddress 127.0.0.1
Port {port}
HostKey {folder}/host_key
AuthorizedKeysFile {folder}/authorized_keys
PidFile {folder}/sshd.pid
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
StrictModes no
SetEnv XDG_CACHE_HOME={folder}/cache
"""

# The client's: `ssh -F FILE 127.0.0.1 COMMAND` (or the alias "sshd-test")
# logs in without a question, and learns no host key.
SSH_CONFIG = """\
Host sshd-test 127.0.0.1
    HostName 127.0.0.1
    Port {port}
    User root
    IdentityFile {folder}/id_ed25519
    IdentitiesOnly yes
    StrictHostKeyChecking no
    UserKnownHostsFile /dev/null
    LogLevel ERROR
    BatchMode yes
"""

# Run in the new namespaces: mount the tmpfs, hide root's ~/.bashrc ($5, if
# given), then become sshd (PID 1 there).
NAMESPACE_INIT = (
    'mount -t tmpfs sshd-private "$1" && { [ -z "$5" ] || mount --bind /dev/null "$5"; }'
    ' && exec "$2" -D -f "$3" -E "$4"'
)


def missing():
    """Why start() cannot run on this machine, as a skip reason; None if it can."""
    if not os.access(SSHD, os.X_OK):
        return f"needs {SSHD}: apt-get install openssh-server"
    for program in ("ssh", "ssh-keygen"):
        if shutil.which(program) is None:
            return f"needs {program}: apt-get install openssh-client"
    if shutil.which("unshare") is None or shutil.which("setpriv") is None:
        return "needs unshare and setpriv: apt-get install util-linux"
    if os.geteuid() != 0:
        return "needs root: sshd runs in a mount and PID namespace of its own"
    return None


@dataclass
class Server:
    """A running sshd: how to reach it, and how to end it."""

    port: int
    identity_file: str
    ssh_config: str
    private_dir: str  # a tmpfs only commands run over ssh can see
    log: str
    pid: int  # sshd's, as this process sees it
    process: subprocess.Popen  # unshare, sshd's parent

    @property
    def url(self):
        """The testinfra host spec: testinfra.get_host(url, ssh_config=..., ...)."""
        return f"ssh://root@127.0.0.1:{self.port}"

    def processes(self):
        """{pid: command line} of every process of the server: sshd and all run over ssh."""
        lines = {pid: _read(f"/proc/{pid}/cmdline") for pid in _namespace_pids(self.pid)}
        return {pid: line.replace("\0", " ").strip() for pid, line in lines.items() if line}

    def kill_sessions(self):
        """Kill every ssh connection, as a broken network would; sshd still listens.

        Kills the per-connection sshd processes only (SIGKILL; "sshd-session"
        from OpenSSH 9.8 on): what they started is left to itself, as on a
        real server.
        """
        for pid in _namespace_pids(self.pid):
            if pid != self.pid and _read(f"/proc/{pid}/comm").startswith("sshd"):
                _kill(pid)

    def stop(self):
        """Kill sshd and, with its PID namespace, everything run over ssh.

        For a client this is also the server (or the network) gone for good.
        Raises if any process of the server is left.
        """
        namespace = _namespace(self.pid)
        _kill(self.pid)
        self.process.wait(timeout=10)
        deadline = time.monotonic() + 5
        while (left := _namespace_pids(self.pid, namespace)) and time.monotonic() < deadline:
            time.sleep(0.01)
        if left:
            raise RuntimeError(f"sshd stopped, but processes {left} of it are left")


def start(folder, private_dir, timeout=10, keep_bashrc=False):
    """Start an sshd on a free port of 127.0.0.1; return its Server once it answers.

    `folder` (new or empty; made if missing) gets the keys, the
    configurations and the log; `private_dir` (made if missing) becomes a
    tmpfs that only commands run over ssh see. keep_bashrc: commands run
    over ssh read root's ~/.bashrc, as on this machine outside the namespace.
    """
    folder, private_dir = os.path.abspath(folder), os.path.abspath(private_dir)
    os.makedirs(folder, exist_ok=True)
    os.makedirs(private_dir, exist_ok=True)
    for key in ("host_key", "id_ed25519"):
        subprocess.run(
            ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", key, "-f", f"{folder}/{key}"],
            stdin=subprocess.DEVNULL,
            check=True,
        )
    shutil.copy(f"{folder}/id_ed25519.pub", f"{folder}/authorized_keys")
    port = _free_port()
    config, ssh_config, log = f"{folder}/sshd_config", f"{folder}/ssh_config", f"{folder}/sshd.log"
    with open(config, "w") as f:
        f.write(SSHD_CONFIG.format(port=port, folder=folder))
    with open(ssh_config, "w") as f:
        f.write(SSH_CONFIG.format(port=port, folder=folder))
    os.makedirs("/run/sshd", mode=0o755, exist_ok=True)
    # setpriv --pdeathsig: if this process dies, unshare does, and with it
    # (--kill-child) sshd and its namespace: no server outlives its test run.
    command = ["setpriv", "--pdeathsig", "KILL", "unshare", "--mount", "--pid", "--fork"]
    command += ["--kill-child", "--mount-proc", "--propagation", "private"]
    bashrc = os.path.expanduser("~root/.bashrc")
    hidden = "" if keep_bashrc or not os.path.isfile(bashrc) else bashrc
    command += ["sh", "-c", NAMESPACE_INIT, "sh", private_dir, SSHD, config, log, hidden]
    with open(log, "ab") as output:
        process = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=output, stderr=output)
    try:
        _wait_for_banner(port, process, timeout, log)
        pid = _children(process.pid)[0]
    except BaseException:
        process.kill()
        process.wait()
        raise
    return Server(port, f"{folder}/id_ed25519", ssh_config, private_dir, log, pid, process)


def _free_port():
    """A port of 127.0.0.1 that nothing listens on, from the kernel's high range."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_for_banner(port, process, timeout, log):
    """Poll until sshd greets on the port; one line naming its log if it never does."""
    deadline = time.monotonic() + timeout
    while process.poll() is None and time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.25) as s:
                if s.recv(8).startswith(b"SSH-"):
                    return
        except OSError:
            time.sleep(0.01)
    if process.poll() is None:
        raise RuntimeError(f"sshd did not answer on 127.0.0.1:{port} within {timeout} s; see {log}")
    raise RuntimeError(f"sshd exited before answering on 127.0.0.1:{port}; see {log}")


def _read(path):
    """A /proc file's text, "" once its process is gone."""
    try:
        with open(path) as f:
            return f.read()
    except OSError:
        return ""


def _pids():
    return [int(name) for name in os.listdir("/proc") if name.isdigit()]


def _children(pid):
    # The parent's pid is the 2nd field after the command name, which is in ().
    ppid = {p: _read(f"/proc/{p}/stat").rpartition(")")[2].split()[1:2] for p in _pids()}
    return [p for p, parent in ppid.items() if parent == [str(pid)]]


def _namespace(pid):
    """The PID namespace of a process (its /proc link), None if it is gone."""
    try:
        return os.readlink(f"/proc/{pid}/ns/pid")
    except OSError:
        return None


def _namespace_pids(pid, namespace=None):
    """Every process in the PID namespace of `pid` (or in `namespace`)."""
    namespace = namespace or _namespace(pid)
    return [p for p in _pids() if namespace is not None and _namespace(p) == namespace]


def _kill(pid):
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
