"""A qemu-storage-daemon kept running: its answers, its refusals, and its end."""

import os
import signal
import textwrap

import pytest

from qcow2_conformance.tools import command, daemon_session, qemu_img

from support import killed_leaves, processes_with, start_python


@pytest.fixture
def session_tools(tools):
    if not daemon_session.usable(tools):
        pytest.skip(f"no qemu-storage-daemon on this machine beside {tools.qemu_img}")
    return tools


def _gone(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[-1].split()[0] == "Z"
    except FileNotFoundError:
        return True


def test_a_command_returns_qemus_answer(session_tools, tmp_path):
    image = str(tmp_path / "a.qcow2")
    qemu_img.create(session_tools, image, fmt="qcow2", size=1 << 20)
    node = {"driver": "qcow2", "node-name": "a", "file": {"driver": "file", "filename": image}}
    with command.recorded() as lines, daemon_session.Session(session_tools) as daemon:
        daemon.execute("blockdev-add", node)
        names = [n["node-name"] for n in daemon.execute("query-named-block-nodes")]
        daemon.execute("blockdev-del", {"node-name": "a"})
    assert "a" in names
    # One program for the command log, however many QMP commands it ran.
    assert len(lines) == 1 and "qemu-storage-daemon" in lines[0] and "-> exit 0" in lines[0]


def test_a_refused_command_raises_with_qemus_words_and_the_daemon_goes_on(session_tools):
    with daemon_session.Session(session_tools) as daemon:
        with pytest.raises(command.CommandError, match="qemu refused blockdev-del: .*nowhere"):
            daemon.execute("blockdev-del", {"node-name": "nowhere"})
        assert daemon.execute("query-named-block-nodes") == []
    assert _gone(daemon.proc.pid)


def test_a_name_beyond_ascii_reaches_qemu_as_it_is(session_tools, tmp_path):
    # Sent as UTF-8, not as \uXXXX escapes (fewer bytes): qemu stores the same name.
    image = str(tmp_path / "a.qcow2")
    qemu_img.create(session_tools, image, fmt="qcow2", size=1 << 20)
    name = '\u00e9t\u00e9 \u65e5\u672c \U0001f600 \u00a0"\\'
    node = {"driver": "qcow2", "node-name": "a", "file": {"driver": "file", "filename": image}}
    with daemon_session.Session(session_tools) as daemon:
        daemon.execute("blockdev-add", node)
        daemon.execute("block-dirty-bitmap-add", {"node": "a", "name": name, "persistent": True})
        # A lone surrogate has no UTF-8: its escape goes, and qemu refuses it as before.
        with pytest.raises(command.CommandError, match="qemu refused"):
            daemon.execute("block-dirty-bitmap-add", {"node": "a", "name": "\ud800"})
        daemon.execute("blockdev-del", {"node-name": "a"})
    assert [b["name"] for b in qemu_img.bitmaps(qemu_img.info(session_tools, image))] == [name]


def test_a_kept_session_holds_only_the_daemons_last_words(session_tools):
    # A worker's kept daemon answers tens of thousands of commands in a run.
    with daemon_session.Session(session_tools) as daemon:
        for _ in range(50):
            daemon.execute("query-version")
        assert len(daemon.said) <= 5


def test_a_daemon_that_does_not_answer_is_killed_after_the_timeout(session_tools):
    daemon = daemon_session.Session(session_tools, timeout=1)
    os.kill(daemon.proc.pid, signal.SIGSTOP)  # alive, and silent
    with pytest.raises(command.CommandError, match="no answer to query-version within 1 s"):
        daemon.execute("query-version")
    assert _gone(daemon.proc.pid)


def test_nodes_on_its_command_line_are_open_once_it_answers(session_tools, tmp_path):
    image = str(tmp_path / "a.qcow2")
    qemu_img.create(session_tools, image, fmt="qcow2", size=1 << 20)
    node = {"driver": "qcow2", "node-name": "a", "file": {"driver": "file", "filename": image}}
    daemon = daemon_session.Session(session_tools, blockdevs=[node])
    # qemu's write lock is taken: qemu-img without -U is refused.
    assert command.run(session_tools.host, [session_tools.qemu_img, "info", image], check=False).rc
    daemon.kill()
    assert command.run(session_tools.host, [session_tools.qemu_img, "info", image]).rc == 0


def test_the_daemon_dies_with_the_process_that_started_it(session_tools, tmp_path):
    # A process keeps its daemon from chain to chain: a killed process must not leave it.
    token = command.new_mark()
    program = textwrap.dedent(
        f"""
        import os, sys
        from qcow2_conformance.tools import daemon_session, toolset
        tools = toolset.find(toolset.get_host(), {session_tools.qemu_img!r})
        daemon = daemon_session.Session(tools)
        print(daemon.proc.pid, flush=True)
        sys.stdin.read()
        """
    )
    child = start_python(program, token)
    pid = int(child.stdout.readline())
    assert not _gone(pid)
    assert any("qemu-storage-daemon" in p for p in processes_with(token))
    assert killed_leaves(child, token) == []
