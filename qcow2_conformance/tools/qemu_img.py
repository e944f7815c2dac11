"""qemu-img, through the host of a Toolset."""

import json

from qcow2_conformance.tools import command


def create(
    tools,
    path,
    *,
    fmt="qcow2",
    size=None,
    cluster_size=None,
    compat=None,
    backing=None,
    backing_fmt=None,
    timeout=None,
):
    options = []
    if cluster_size is not None:
        options.append(f"cluster_size={cluster_size}")
    if compat is not None:
        options.append(f"compat={compat}")
    create_with_options(
        tools,
        path,
        options,
        fmt=fmt,
        size=size,
        backing=backing,
        backing_fmt=backing_fmt,
        timeout=timeout,
    )


def create_with_options(
    tools,
    path,
    options,
    *,
    fmt="qcow2",
    size=None,
    backing=None,
    backing_fmt=None,
    objects=(),
    timeout=None,
):
    """qemu-img create with any -o options ('key=value' strings) and --object specs.

    objects are QOM objects the options refer to, such as
    'secret,id=sec0,data=...' for encrypt.key-secret=sec0.
    """
    argv = [tools.qemu_img, "create", "-q"]
    for spec in objects:
        argv += ["--object", spec]
    argv += ["-f", fmt]
    if options:
        argv += ["-o", ",".join(options)]
    if backing is not None:
        argv += ["-b", backing, "-F", backing_fmt]
    argv.append(path)
    if size is not None:
        argv.append(str(size))
    command.run(tools.host, argv, timeout=timeout)


def convert(tools, src, dst, *, fmt=None, out_fmt="qcow2", compress=False, timeout=None):
    """qemu-img convert src (format fmt, default probed) to dst in out_fmt.

    compress writes every data cluster of dst compressed (-c).
    """
    argv = [tools.qemu_img, "convert", "-O", out_fmt]
    if fmt is not None:
        argv += ["-f", fmt]
    if compress:
        argv.append("-c")
    argv += [src, dst]
    command.run(tools.host, argv, timeout=timeout)


def info(tools, path, *, fmt=None, force_share=False, backing_chain=False, timeout=None):
    """Return qemu-img info --output=json of path, as a dict.

    backing_chain returns a list instead: one dict per image, path first,
    each naming its file by the path qemu resolved ("filename").
    """
    argv = [tools.qemu_img, "info", "--output=json"]
    if fmt is not None:
        argv += ["-f", fmt]
    if force_share:
        argv.append("-U")
    if backing_chain:
        argv.append("--backing-chain")
    argv.append(path)
    return json.loads(command.run(tools.host, argv, timeout=timeout).stdout)


def map(tools, path, *, fmt=None, timeout=None):
    """Return qemu-img map --output=json of path: a list of extent dicts."""
    argv = [tools.qemu_img, "map", "--output=json"]
    if fmt is not None:
        argv += ["-f", fmt]
    argv.append(path)
    return json.loads(command.run(tools.host, argv, timeout=timeout).stdout)


def nbd_dirty_map_argv(tools, socket, export, bitmap, *, abstract=False):
    """qemu-img map of an NBD export on the UNIX socket at socket (export None: the
    server's default one), reporting bitmap's dirty ranges as "data": false
    (x-dirty-bitmap). abstract: socket names an abstract socket (Linux)."""
    opts = ["driver=nbd", "server.type=unix", f"server.path={_escape(socket)}"]
    if abstract:
        opts.append("server.abstract=on")
    if export is not None:
        opts.append(f"export={_escape(export)}")
    opts.append(f"x-dirty-bitmap=qemu:dirty-bitmap:{_escape(bitmap)}")
    return [tools.qemu_img, "map", "--output=json", "--image-opts", ",".join(opts)]


def parse_nbd_dirty_map(text):
    """The (offset, length) ranges an nbd_dirty_map_argv output reports dirty, in order."""
    return [(e["start"], e["length"]) for e in json.loads(text) if not e["data"]]


def _escape(value):
    # --image-opts uses QemuOpts syntax, where a comma is written twice.
    return value.replace(",", ",,")


def bitmaps(info_dict):
    """The bitmap list inside a qemu-img info dict ([] when there is none)."""
    return info_dict.get("format-specific", {}).get("data", {}).get("bitmaps", [])


def bitmap(tools, path, name, *operations, granularity=None, fmt="qcow2", timeout=None):
    """Run one qemu-img bitmap call: operations such as '--add', '--disable'.

    '--' ends the options, so a name that starts with '-' stays a name.
    """
    argv = [tools.qemu_img, "bitmap", "-f", fmt, *operations]
    if granularity is not None:
        argv += ["-g", str(granularity)]
    argv += ["--", path, name]
    command.run(tools.host, argv, timeout=timeout)


def check(tools, path, *, fmt="qcow2", timeout=None):
    """Return qemu-img check --output=json as a dict, whatever its exit status.

    Exit status 2 (corruption) and 3 (leaks) still print a report; only a
    check that could not run at all (status 1) raises.
    """
    argv = [tools.qemu_img, "check", "--output=json", "-f", fmt, path]
    out = command.run(tools.host, argv, check=False, timeout=timeout)
    if out.rc not in (0, 2, 3) or not out.stdout.strip():
        raise command.CommandError(argv, out)
    report = json.loads(out.stdout)
    report["exit-status"] = out.rc
    return report


def commit(tools, top, base, *, fmt="qcow2", timeout=None):
    """Commit the data of top and every image down to base into base.

    -d: top is not emptied (-b implies it anyway; said here so it is seen).
    """
    argv = [tools.qemu_img, "commit", "-q", "-f", fmt, "-d", "-b", base, top]
    command.run(tools.host, argv, timeout=timeout)


def rebase_unsafe(tools, path, backing, backing_fmt, *, fmt="qcow2", timeout=None):
    """Rewrite path's backing file name and format only (-u): no data moves."""
    argv = [tools.qemu_img, "rebase", "-u", "-f", fmt, "-b", backing, "-F", backing_fmt, path]
    command.run(tools.host, argv, timeout=timeout)


def compare(tools, first, second, *, fmt=None, second_fmt=None, timeout=None):
    """qemu-img compare of what a guest sees through two images: (same, what it said).

    -U: the first image may be a pristine chain other processes read too. A
    difference is exit status 1; only a comparison that could not run raises.
    """
    formats = (["-f", fmt] if fmt else []) + (["-F", second_fmt] if second_fmt else [])
    argv = [tools.qemu_img, "compare", "-U", *formats, first, second]
    out = command.run(tools.host, argv, check=False, timeout=timeout)
    if out.rc not in (0, 1):
        raise command.CommandError(argv, out)
    return out.rc == 0, (out.stdout + out.stderr).strip()
