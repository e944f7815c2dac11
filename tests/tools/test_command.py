"""A command on this machine runs without sh, env and timeout(1), and files.py's
operations run in the harness's process: both must do what the commands did."""

import os
import tempfile
import threading
import time

import pytest

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


def _tree(root):
    """Every entry under root: mode, size, mtime, blocks, data extents, bytes or link target."""
    found = {}
    for top, dirs, names in os.walk(root):
        for name in names + dirs:
            path = os.path.join(top, name)
            st = os.lstat(path)
            if os.path.islink(path):
                content = os.readlink(path)
            elif os.path.isfile(path):
                with open(path, "rb") as f:
                    content = (list(files._data_extents(f.fileno(), st.st_size)), f.read())
            else:
                content = None
            found[os.path.relpath(path, root)] = (
                st.st_mode,
                st.st_size,
                st.st_mtime_ns,
                st.st_blocks,
                content,
            )
    return found


def test_a_copy_in_process_is_cps(tools, tmp_path):
    src = tmp_path / "src"
    (src / "sub").mkdir(parents=True)
    with open(src / "image", "wb") as f:
        # Written zeros inside data become holes too (--sparse=always), a hole stays one.
        f.write(b"a" * 5000 + bytes(20000) + b"b" * 100)
        f.seek(1 << 22)
        f.write(b"c" * 3 + bytes(9000))
    (src / "sub" / "small").write_bytes(bytes(8192) + b"z")
    os.chmod(src / "sub" / "small", 0o640)
    os.symlink("image", src / "link")
    os.symlink("/nowhere", src / "dangling")
    os.utime(src / "sub", ns=(10**18, 10**18))
    command.run(tools.host, ["cp", "-a", "--sparse=always", "--", str(src), str(tmp_path / "cp")])
    files.copy_tree(tools.host, str(src), str(tmp_path / "ours"))
    assert _tree(tmp_path / "ours") == _tree(tmp_path / "cp")
    assert os.stat(tmp_path / "ours").st_mtime_ns == os.stat(src).st_mtime_ns


def test_a_move_in_process_never_replaces_a_file(tools, tmp_path):
    src, dst = tmp_path / "partial", tmp_path / "final"
    src.write_text("new")
    dst.write_text("there first")
    with pytest.raises(command.CommandError, match="failed to create hard link .*File exists"):
        files.rename_no_clobber(tools.host, str(src), str(dst))
    assert (src.read_text(), dst.read_text()) == ("new", "there first")
    os.remove(dst)
    files.rename_no_clobber(tools.host, str(src), str(dst))
    assert dst.read_text() == "new" and not src.exists()
    with pytest.raises(command.CommandError, match="failed to access .*No such file"):
        files.rename_no_clobber(tools.host, str(src), str(tmp_path / "other"))


def test_a_temporary_folder_made_in_process_is_mktemps(tools, tmp_path):
    ours = files.mkdtemp(tools.host, "harness-test", parent=str(tmp_path))
    theirs = command.run(tools.host, ["mktemp", "-d", f"{tmp_path}/harness-test.XXXXXX"]).stdout
    assert os.stat(ours).st_mode == os.stat(theirs.strip()).st_mode
    assert len(os.path.basename(ours)) == len(os.path.basename(theirs.strip()))
    assert os.listdir(ours) == []


@pytest.mark.parametrize(
    "lister", [files.mkdtemps, files._mkdtemps_by_shell], ids=["in-process", "shell"]
)
def test_the_folders_mkdtemp_made_are_found_while_others_come_and_go(tools, tmp_path, lister):
    prefix = f"harness-test-{os.getpid()}"
    made = sorted(files.mkdtemp(tools.host, prefix) for _ in range(2))
    os.symlink(made[0], f"/tmp/{prefix}.link00")  # not a folder, as for find -type d
    stop = threading.Event()

    def churn():
        # What other tests and programs do in /tmp meanwhile.
        while not stop.is_set():
            os.rmdir(tempfile.mkdtemp(prefix="harness-churn-", dir="/tmp"))

    threads = [threading.Thread(target=churn) for _ in range(2)]
    for thread in threads:
        thread.start()
    try:
        # find(1) failed about one call in twenty this way.
        seen = [lister(tools.host, prefix) for _ in range(200)]
    finally:
        stop.set()
        for thread in threads:
            thread.join()
        files.remove(tools.host, *made, f"/tmp/{prefix}.link00")
    assert seen == [made] * 200
    assert lister(tools.host, prefix) == []
