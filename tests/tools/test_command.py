"""A command on this machine runs without sh, env and timeout(1), and files.py's
operations run in the harness's process: both must do what the commands did."""

import os
import time

from qcow2_conformance.tools import command, files, processes


def test_a_command_that_outlives_its_timeout_ends_with_its_whole_group(tools, tmp_path):
    mark = command.new_mark()
    start = time.monotonic()
    # The child stands for a program's helper: timeout(1) killed its group too.
    out = command.run(
        tools.host, ["sh", "-c", "sleep 30 & sleep 30"], timeout=1, check=False, mark=mark
    )
    assert (out.rc, out.timed_out) == (command.TIMEOUT_STATUS, True)
    assert time.monotonic() - start < 10
    assert processes.marked(tools.host, mark) == {}


def test_a_command_ended_by_a_signal_says_so_as_a_shell_does(tools):
    out = command.run(tools.host, ["sh", "-c", "kill -9 $$"], check=False)
    assert (out.rc, out.timed_out) == (128 + 9, False)


def test_stdin_cwd_and_the_mark_reach_the_command(tools, tmp_path):
    (tmp_path / "in").write_text("from a file\n")
    out = command.run(
        tools.host,
        ["sh", "-c", 'cat; pwd; echo "${HARNESS_COMMAND:+marked}"'],
        stdin=str(tmp_path / "in"),
        cwd=str(tmp_path),
    )
    assert out.stdout.splitlines() == ["from a file", str(tmp_path), "marked"]
    missing = command.run(tools.host, ["no-such-program-here"], check=False)
    assert missing.rc == 127


def test_the_listing_in_process_is_finds(tools, tmp_path):
    (tmp_path / "a" / "b").mkdir(parents=True)
    (tmp_path / "a" / "b" / "f").write_text("x" * 5)
    (tmp_path / "empty").mkdir()
    os.symlink("/tmp", tmp_path / "to-folder")
    os.symlink("nowhere", tmp_path / "dangling")
    out = command.run(
        tools.host, ["find", str(tmp_path), "!", "-type", "d", "-printf", r"%P\0%s\0%T@\0"]
    ).stdout.split("\0")[:-1]
    by_find = {out[i]: (int(out[i + 1]), out[i + 2]) for i in range(0, len(out) - 2, 3)}
    assert files.listing(tools.host, str(tmp_path)) == by_find
    assert set(by_find) == {"a/b/f", "to-folder", "dangling"}


def test_folders_made_and_removed_in_process(tools, tmp_path):
    folder = str(tmp_path / "x" / "y")
    files.mkdir(tools.host, folder)
    files.mkdir(tools.host, folder)
    (tmp_path / "x" / "y" / "f").write_text("old")
    os.symlink(str(tmp_path / "x"), tmp_path / "link")
    files.fresh_folder(tools.host, folder)
    assert os.listdir(folder) == [] and files.exists(tools.host, folder)
    files.remove(tools.host, str(tmp_path / "link"), str(tmp_path / "nothing"))
    assert os.path.isdir(tmp_path / "x") and not os.path.lexists(tmp_path / "link")
    files.remove(tools.host, str(tmp_path / "x"))
    assert not files.exists(tools.host, str(tmp_path / "x"))
