"""tests/sshd.py: a real sshd whose private folder only commands run over ssh see."""

import os
import signal
import socket
import subprocess
import time

import pytest
import testinfra

import sshd
from support import command_lines


def ssh_host(server):
    return testinfra.get_host(
        server.url, ssh_config=server.ssh_config, ssh_identity_file=server.identity_file
    )


def own_server(folder):
    """A server of the test's own, for tests that end it."""
    reason = sshd.missing()
    if reason:
        pytest.skip(reason)
    return sshd.start(folder / "server", folder / "private")


def wait_for(predicate, seconds=5.0):
    deadline = time.monotonic() + seconds
    while not predicate():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


def test_a_file_written_over_ssh_is_seen_over_ssh_and_not_here(ssh_server, tmp_path):
    host = ssh_host(ssh_server)
    path = os.path.join(ssh_server.private_dir, tmp_path.name)
    host.check_output("echo over ssh > %s", path)
    try:
        assert host.backend.NAME == "ssh"
        assert host.check_output("cat %s", path) == "over ssh"
        assert host.check_output("findmnt -n -o FSTYPE --target %s", path) == "tmpfs"
        assert not os.path.exists(path)
        assert os.listdir(ssh_server.private_dir) == []
    finally:
        # The server is the session's: the ssh tests after this one expect its folder empty.
        host.run("rm -f %s", path)


def test_commands_keep_their_exit_status_and_output(ssh_server):
    result = ssh_host(ssh_server).run("printf 'a b'; echo err >&2; exit 3")
    assert (result.rc, result.stdout, result.stderr) == (3, "a b", "err\n")


def test_commands_do_not_read_roots_bashrc(ssh_server):
    # Here it runs `pyenv init`: 80 to 170 ms more for every command.
    assert ssh_host(ssh_server).run("test -s ~/.bashrc").rc == 1


def test_stop_leaves_no_process_of_the_server(tmp_path):
    server = own_server(tmp_path)
    config = os.path.join(tmp_path, "server", "sshd_config")
    # Something that outlives its ssh session: stop() must end it too.
    ssh_host(server).run("setsid sleep 60 </dev/null >/dev/null 2>&1 &")
    assert wait_for(lambda: "sleep 60" in server.processes().values())
    pids = list(server.processes())
    server.stop()
    assert not [pid for pid in pids if os.path.exists(f"/proc/{pid}")]
    assert not [line for line in command_lines().values() if config in line]


def test_kill_sessions_drops_connections_and_sshd_still_listens(ssh_server):
    client = subprocess.Popen(
        ["ssh", "-F", ssh_server.ssh_config, "127.0.0.1", "sh -c 'sleep 31'"],
        stderr=subprocess.DEVNULL,
    )
    assert wait_for(lambda: "sleep 31" in ssh_server.processes().values())
    ssh_server.kill_sessions()
    assert client.wait(timeout=5) == 255
    # As on a real server, what the lost connection ran goes on.
    left = [pid for pid, line in ssh_server.processes().items() if "sleep 31" in line]
    assert left
    for pid in left:
        os.kill(pid, signal.SIGKILL)
    assert ssh_host(ssh_server).check_output("echo again") == "again"


def test_a_server_that_cannot_start_says_why_in_one_line(tmp_path, monkeypatch):
    if sshd.missing():
        pytest.skip(sshd.missing())
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        monkeypatch.setattr(sshd, "_free_port", lambda: taken.getsockname()[1])
        with pytest.raises(RuntimeError) as failed:
            sshd.start(tmp_path / "server", tmp_path / "private")
    log = os.path.join(tmp_path, "server", "sshd.log")
    assert str(failed.value).startswith("sshd exited before answering on 127.0.0.1:")
    assert "\n" not in str(failed.value) and log in str(failed.value)
    assert "Address already in use" in open(log).read()
    assert not [line for line in command_lines().values() if str(tmp_path) in line]
