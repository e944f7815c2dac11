"""File operations on the host (coreutils), so the harness can target any host.

On this machine the common ones run in this process (os, shutil) instead:
a coreutils command started from a pytest worker cost about 2 ms of CPU,
and a run needed 5 or 6 of them per scenario (bench/generated.py). What they
do is the same as the commands', which the other hosts still get. Copying
a scenario's chain and moving the reference's overlay into place went the
same way later (issue 23): two commands a scenario.
"""

import base64
import contextlib
import itertools
import os
import secrets
import shutil
import string
import sys

from qcow2_conformance.tools import command

# Below the kernel's limit for one argument (MAX_ARG_STRLEN, 128 KiB).
_CHUNK = 64 * 1024
_LETTERS = string.ascii_letters + string.digits
# What copy_tree reads at a time: a multiple of any block size.
_COPIED = 1 << 20


def here(host):
    """True when host is this machine, as this process's own user."""
    backend = getattr(host, "backend", None)
    return getattr(backend, "NAME", None) == "local" and not backend.sudo


def exists(host, path):
    if here(host):
        # test -e follows symbolic links, as os.path.exists does.
        return os.path.exists(path)
    return command.run(host, ["test", "-e", path], check=False).rc == 0


def mkdir(host, path):
    if here(host):
        os.makedirs(path, exist_ok=True)
        return
    command.run(host, ["mkdir", "-p", path])


def fresh_folder(host, path):
    """An empty folder at path: whatever was there is removed first."""
    if here(host):
        _remove_here(path)
        os.makedirs(path)
        return
    command.run(host, ["sh", "-c", 'rm -rf -- "$1" && mkdir -p -- "$1"', "sh", path])


def is_file(host, path):
    return command.run(host, ["test", "-f", path], check=False).rc == 0


def is_executable(host, path):
    return command.run(host, ["test", "-x", path], check=False).rc == 0


def is_dir(host, path):
    return command.run(host, ["test", "-d", path], check=False).rc == 0


def mkdtemp(host, prefix, parent="/tmp"):
    """A new, empty folder under parent (/tmp keeps paths short enough for sockets)."""
    if here(host):
        return _mkdtemp_here(f"{parent.rstrip('/')}/{prefix}")
    return command.run(
        host, ["mktemp", "-d", f"{parent.rstrip('/')}/{prefix}.XXXXXX"]
    ).stdout.strip()


def _mkdtemp_here(stem):
    """mktemp -d STEM.XXXXXX: six letters or digits (mkdtemps() finds them by that), mode 0700."""
    while True:
        path = stem + "." + "".join(secrets.choice(_LETTERS) for _ in range(6))
        try:
            os.mkdir(path, 0o700)
            return path
        except FileExistsError:
            continue


def mkdtemps(host, prefix):
    """The folders mkdtemp(host, prefix) made under /tmp that still exist.

    Not find(1): it fails ("No such file or directory") when another process
    removes an entry of /tmp during its walk (seen here: 91 of 2,000 finds
    while two shells made and removed folders there), and the session's sweep
    of exec: folders then left them all.
    """
    if here(host):
        return _mkdtemps_here(prefix)
    return _mkdtemps_by_shell(host, prefix)


def _mkdtemps_here(prefix):
    found = []
    with os.scandir("/tmp") as entries:
        for entry in entries:
            if not _made_by_mkdtemp(entry.name, prefix):
                continue
            with contextlib.suppress(FileNotFoundError):
                if entry.is_dir(follow_symlinks=False):
                    found.append(entry.path)
    return sorted(found)


def _made_by_mkdtemp(name, prefix):
    return len(name) == len(prefix) + 7 and name.startswith(prefix + ".")


# A glob lists what it matches, whatever else comes and goes; -L: as find's -type d,
# a link to a folder is not one.
_GLOB_FOLDERS = (
    'for d in /tmp/"$1".??????; do [ -d "$d" ] && [ ! -L "$d" ] && echo "$d"; done; true'
)


def _mkdtemps_by_shell(host, prefix):
    out = command.run(host, ["sh", "-c", _GLOB_FOLDERS, "sh", prefix]).stdout
    return sorted(out.split("\n")[:-1])


def copy_tree(host, src, dst):
    """Copy folder src to dst (which must not exist), keeping sparse files sparse."""
    if here(host):
        shutil.copytree(src, dst, symlinks=True, copy_function=_copy_sparse)
        return
    command.run(host, ["cp", "-a", "--sparse=always", "--", src, dst])


def _copy_sparse(src, dst):
    """cp -a --sparse=always of one file: its holes, and every all-zero block
    of its data, are holes of the copy; its mode and times are kept.

    A raw image's allocation is a fact the reader reports (observe/reader.py),
    so the copy's holes must be cp's: blocks of the source's st_blksize, from
    the start of each data extent (which the file system aligns to blocks).
    """
    with open(src, "rb") as f, open(dst, "wb") as out:
        st = os.fstat(f.fileno())
        block = st.st_blksize or 4096
        for start, length in _data_extents(f.fileno(), st.st_size):
            for at in range(start, start + length, _COPIED):
                data = os.pread(f.fileno(), min(_COPIED, start + length - at), at)
                _write_nonzero(out.fileno(), data, at, block)
        os.ftruncate(out.fileno(), st.st_size)
    shutil.copystat(src, dst, follow_symlinks=False)


def _write_nonzero(fd, data, offset, block):
    """Write data at offset, leaving out its all-zero blocks (holes in a new file)."""
    view, zeros = memoryview(data), bytes(block)
    run = None
    for at in range(0, len(data), block):
        # A slice of bytes compares with memcmp; a memoryview's slice compares
        # item by item, 100 times slower: it was most of the CPU of copying a chain.
        piece = data[at : at + block]
        if piece == zeros[: len(piece)]:
            if run is not None:
                os.pwrite(fd, view[run:at], offset + run)
                run = None
        elif run is None:
            run = at
    if run is not None:
        os.pwrite(fd, view[run:], offset + run)


def read_layout(path):
    """(size, pieces) of the file at path on this machine, a file with little data such
    as a new image: its data extents as they are, zeros included, so
    write_layout makes the same file. A piece is (offset, bytes), or (offset,
    length) for a run of zero blocks, which is most of a new qcow2 image."""
    pieces = []
    with open(path, "rb") as f:
        size = os.fstat(f.fileno()).st_size
        for start, length in _data_extents(f.fileno(), size):
            data = os.pread(f.fileno(), length, start)

            def zero(at, data=data):
                return data[at : at + _BLOCK] == _ZEROS[: min(_BLOCK, len(data) - at)]

            for is_zero, run in itertools.groupby(range(0, len(data), _BLOCK), zero):
                first, *rest = run
                end = min((rest[-1] if rest else first) + _BLOCK, len(data))
                pieces.append((start + first, end - first if is_zero else data[first:end]))
    return size, tuple(pieces)


_BLOCK = 4096


def write_layout(path, layout):
    """Make the file at path on this machine what read_layout saw: the same bytes, with
    data where it had data and holes where it had holes; as a new file of
    qemu's is made, 0644 less the umask, and an existing one truncated."""
    size, pieces = layout
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    try:
        for at, data in pieces:
            if isinstance(data, int):
                for offset in range(0, data, len(_ZEROS)):
                    os.pwrite(fd, _ZEROS[: min(len(_ZEROS), data - offset)], at + offset)
            else:
                os.pwrite(fd, data, at)
        os.ftruncate(fd, size)
    finally:
        os.close(fd)


_ZEROS = bytes(1 << 20)


def _data_extents(fd, size):
    """The non-hole ranges (offset, length) of a file (SEEK_DATA/SEEK_HOLE)."""
    off = 0
    while off < size:
        try:
            start = os.lseek(fd, off, os.SEEK_DATA)
        except OSError:  # ENXIO: only a hole is left
            return
        end = os.lseek(fd, start, os.SEEK_HOLE)
        yield start, end - start
        off = end


def remove(host, *paths):
    if paths and here(host):
        for path in paths:
            _remove_here(path)
    elif paths:
        command.run(host, ["rm", "-rf", "--", *paths])


def _remove_here(path):
    """rm -rf path: a link is removed, never what it points to.

    As rm -f, a file that is gone already is no error: a daemon may remove
    its own socket in the folder meanwhile (qemu-nbd, just stopped).
    """
    if os.path.isdir(path) and not os.path.islink(path):
        shutil.rmtree(path, **{_ON_ERROR: _unless_gone})
    else:
        with contextlib.suppress(FileNotFoundError):
            os.remove(path)


# shutil.rmtree's error handler: onerror until Python 3.12 deprecated it for onexc.
_ON_ERROR = "onexc" if sys.version_info >= (3, 12) else "onerror"


def _unless_gone(function, path, error):
    error = error if isinstance(error, BaseException) else error[1]
    if not isinstance(error, FileNotFoundError):
        raise error


def rename_no_clobber(host, src, dst):
    """Move src to dst atomically; fail if dst exists.

    A hard link never replaces an existing name, unlike rename(2), so a file
    that appeared meanwhile at dst is kept.
    """
    argv = ["sh", "-c", 'ln -T -- "$1" "$2" && rm -f -- "$1"', "sh", src, dst]
    if not here(host):
        command.run(host, argv)
        return
    try:
        # ln's default: a link to src itself, were it a symbolic link.
        os.link(src, dst, follow_symlinks=False)
    except OSError as e:
        if os.path.lexists(src):
            said = f"ln: failed to create hard link '{dst}': {e.strerror}"
        else:
            said = f"ln: failed to access '{src}': {e.strerror}"
        # What the command's failure says, for the callers that report it.
        raise command.CommandError(argv, command.Result(1, "", said)) from None
    with contextlib.suppress(FileNotFoundError):
        os.remove(src)


def write_text(host, path, text):
    """Write text to path on the host, in pieces small enough for one argv.

    The first piece replaces what path held: one command for a short text.
    """
    if here(host):
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)
        return
    for start in range(0, max(len(text), 1), _CHUNK):
        piece = text[start : start + _CHUNK]
        redirect = ">>" if start else ">"
        command.run(host, ["sh", "-c", f'printf %s "$1" {redirect} "$2"', "sh", piece, path])


def listing(host, folder):
    """Return {relative path: (size, mtime)} of every file under folder.

    Folders themselves are left out: an empty one costs nothing.
    """
    if here(host) and os.path.isdir(folder):
        return _listing_here(folder)
    out = command.run(host, ["find", folder, "!", "-type", "d", "-printf", r"%P\0%s\0%T@\0"]).stdout
    fields = out.split("\0")[:-1]
    return {fields[i]: (int(fields[i + 1]), fields[i + 2]) for i in range(0, len(fields) - 2, 3)}


def read_ranges(host, path, ranges):
    """The bytes of each (offset, length) of the file at path on host, one after the other.

    On an ssh target only those bytes travel (dd, then base64: command
    output is text), not the whole file.
    """
    if host.backend.NAME == "local":
        with open(path, "rb") as f:
            return b"".join(os.pread(f.fileno(), length, off) for off, length in ranges)
    script = (
        'f=$1; shift; while [ "$#" -gt 1 ]; do'
        ' dd if="$f" iflag=skip_bytes,count_bytes bs=65536 skip="$1" count="$2" status=none'
        "; shift 2; done | base64 -w0"
    )
    argv = ["sh", "-c", script, "sh", path, *(str(n) for r in ranges for n in r)]
    data = base64.b64decode(command.run(host, argv).stdout)
    # A pipeline's status is its last command's: a short read shows in the length.
    if len(data) != sum(length for _, length in ranges):
        raise command.CommandError(argv, command.Result(1, "", f"{path}: short read"))
    return data


def _listing_here(folder):
    """listing(), as find's -printf '%P %s %T@' gives it, without following links."""
    found = {}
    for top, dirs, names in os.walk(folder):
        # find lists a link to a folder as a file; os.walk puts it with the folders.
        names += [d for d in dirs if os.path.islink(os.path.join(top, d))]
        for name in names:
            path = os.path.join(top, name)
            st = os.lstat(path)
            seconds, fraction = divmod(st.st_mtime_ns, 10**9)
            found[os.path.relpath(path, folder)] = (st.st_size, f"{seconds}.{fraction:09d}0")
    return found
