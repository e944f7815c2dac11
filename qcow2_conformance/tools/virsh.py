"""virsh, through a host of tools/hosts.py, against one libvirt URI."""

from qcow2_conformance.tools import command


def _argv(uri, *args):
    return ["virsh", "-q", "-c", uri, *args]


def reachable(host, uri, timeout=20):
    """None when libvirt answers at uri, else what virsh said."""
    out = command.run(host, _argv(uri, "version"), check=False, timeout=timeout)
    return None if out.rc == 0 else command.summary(out.stderr or out.stdout) or f"exit {out.rc}"


def version(host, uri):
    """virsh version on one line ('unreachable: ...' when libvirt does not answer)."""
    out = command.run(host, _argv(uri, "version"), check=False, timeout=20)
    if out.rc != 0:
        return f"unreachable: {command.summary(out.stderr)}"
    return "; ".join(line.strip() for line in out.stdout.splitlines() if line.strip())


def create(host, uri, xml_path, timeout):
    """Start a transient domain from an XML file."""
    command.run(host, _argv(uri, "create", xml_path), timeout=timeout)


def define(host, uri, xml_path, timeout):
    command.run(host, _argv(uri, "define", xml_path), timeout=timeout)


def snapshot_disk_only(host, uri, domain, target, overlay, timeout):
    """External disk-only snapshot of disk target into overlay, without libvirt metadata."""
    return command.run(
        host,
        _argv(
            uri,
            "snapshot-create-as",
            domain,
            "--disk-only",
            "--no-metadata",
            "--diskspec",
            f"{target},file={overlay}",
        ),
        check=False,
        timeout=timeout,
    )


def destroy(host, uri, domain):
    return command.run(host, _argv(uri, "destroy", domain), check=False, timeout=60)


def undefine(host, uri, domain):
    return command.run(host, _argv(uri, "undefine", domain), check=False, timeout=60)


def domains(host, uri):
    """Names of every domain, running or defined."""
    out = command.run(host, _argv(uri, "list", "--all", "--name"), check=False, timeout=30)
    return [line.strip() for line in out.stdout.splitlines() if line.strip()]


def blockcommit(host, uri, domain, target, base, top, *, active, timeout):
    """virsh blockcommit of top down to base on disk target, waiting for the job's end.

    active: top is the disk's top image, and the commit pivots the disk to base.
    """
    argv = _argv(uri, "blockcommit", domain, target, "--wait", "--base", base, "--top", top)
    if active:
        argv += ["--active", "--pivot"]
    return command.run(host, argv, check=False, timeout=timeout)
