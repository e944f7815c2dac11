"""The host every command runs on: this machine, or a target reached over ssh.

`connect()` takes testinfra's URLs (`local://`, `ssh://[user@]host[:port]`)
and testinfra's ssh options. A local target is a plain testinfra host. An
ssh target is a RemoteHost: it uses testinfra's ssh backend to set up, then
runs every command, and reads every image, through one agent
(tools/agent.py) on the target, over one ssh connection per process.
"""

import atexit
import base64
import contextlib
import json
import os
import subprocess
import tempfile
from dataclasses import dataclass

import testinfra

from qcow2_conformance.tools import bundle

SSH_BACKENDS = ("ssh", "safe-ssh")


class ConnectionLost(Exception):
    """The connection to a remote target failed or dropped."""


@dataclass(frozen=True)
class Output:
    """What testinfra's CommandResult gives tools/command.py."""

    rc: int
    stdout_bytes: bytes
    stderr_bytes: bytes


def connect(spec="local://", ssh_config=None, ssh_identity_file=None):
    """The host of spec; ssh options as testinfra's --ssh-config, --ssh-identity-file."""
    options = {}
    if ssh_config:
        options["ssh_config"] = ssh_config
    if ssh_identity_file:
        options["ssh_identity_file"] = ssh_identity_file
    if spec.split("://", 1)[0] not in SSH_BACKENDS:
        return testinfra.get_host(spec, **options)
    # Short: a UNIX socket path must fit in 108 bytes.
    folder = tempfile.mkdtemp(prefix="harness-ssh.", dir="/tmp")
    options["controlpath"] = f"{folder}/master"
    host = RemoteHost(testinfra.get_host(spec, **options), folder)
    atexit.register(host.close)
    return host


def is_local(host):
    return host.backend.NAME == "local"


def describe(host):
    """The host as a user names it: ssh://root@10.0.0.5:2222, local://."""
    backend = host.backend
    spec = getattr(backend, "host", None)
    if spec is None:
        return f"{backend.NAME}://"
    user = f"{spec.user}@" if spec.user else ""
    port = f":{spec.port}" if spec.port else ""
    return f"{backend.NAME}://{user}{spec.name}{port}"


class RemoteHost:
    """An ssh target: commands and reads go through the agent, started on first use."""

    def __init__(self, setup, control_folder):
        self.setup = setup  # testinfra's ssh host: ships and starts the agent
        self.backend = setup.backend
        self.control_folder = control_folder
        self._agent = None
        self._answered = False  # the agent answered once: a later failure is a lost connection

    def run(self, line):
        answer = self._request({"run": line})
        return Output(
            answer["rc"], base64.b64decode(answer["stdout"]), base64.b64decode(answer["stderr"])
        )

    def read(self, requests):
        """observe/reader.py's answers to requests, read on the target."""
        return self._request({"read": [list(r) for r in requests]})["answers"]

    def _request(self, request):
        if self._agent is None or self._agent.poll() is not None:
            self._agent = self._start()
        try:
            self._agent.stdin.write(json.dumps(request).encode() + b"\n")
            self._agent.stdin.flush()
            line = self._agent.stdout.readline()
        except OSError:
            line = b""
        if not line:
            raise ConnectionLost(self._lost())
        self._answered = True
        return json.loads(line)

    def _start(self):
        try:
            path = bundle.ship(self.setup)
        except RuntimeError as e:
            raise ConnectionLost(_lost_text(self, _stderr_of(e), self._answered)) from None
        return subprocess.Popen(
            ssh_argv(self.backend, f"exec python3 {path} serve"),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            start_new_session=True,
        )

    def _lost(self):
        agent, self._agent = self._agent, None
        agent.kill()
        agent.wait()
        return _lost_text(self, agent.stderr.read(), self._answered)

    def close(self):
        """Stop the agent (it kills what it started), end the shared connection."""
        if self._agent is not None:
            self._agent.stdin.close()
            try:
                self._agent.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self._agent.kill()
            self._agent = None
        if self.control_folder is None:
            return
        subprocess.run(
            ["ssh", "-o", f"ControlPath={self.control_folder}/master", "-O", "exit", "x"],
            capture_output=True,
            check=False,
            timeout=30,
        )
        for name in os.listdir(self.control_folder):
            # The master, told to exit, removes its own socket: it may do so meanwhile.
            with contextlib.suppress(FileNotFoundError):
                os.unlink(os.path.join(self.control_folder, name))
        os.rmdir(self.control_folder)
        self.control_folder = None


def ssh_argv(backend, command):
    """The ssh command line testinfra's ssh backend would run for command."""
    spec = backend.host
    argv = ["ssh"]
    if backend.ssh_config:
        argv += ["-F", backend.ssh_config]
    if spec.user:
        argv += ["-o", f"User={spec.user}"]
    if spec.port:
        argv += ["-o", f"Port={spec.port}"]
    if backend.ssh_identity_file:
        argv += ["-i", backend.ssh_identity_file]
    argv += ["-o", f"ConnectTimeout={backend.timeout}", "-o", "ControlMaster=auto"]
    argv += ["-o", f"ControlPersist={backend.controlpersist}s"]
    argv += ["-o", f"ControlPath={backend.controlpath}"]
    if backend.ssh_extra_args:
        argv += backend.ssh_extra_args.split()
    return argv + [spec.name, command]


def _stderr_of(error):
    result = error.args[0] if error.args else None
    return getattr(result, "stderr_bytes", b"") or str(error).encode()


def _lost_text(host, stderr, answered=True):
    said = stderr.decode("utf-8", "replace").strip().splitlines()
    detail = f" ({said[-1]})" if said else ""
    what = "lost the connection to" if answered else "could not connect to"
    return f"{what} {describe(host)}{detail}; check that the host is up and answers ssh"
