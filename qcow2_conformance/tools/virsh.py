"""virsh, through a host of tools/hosts.py, against one libvirt URI."""

from qcow2_conformance.tools import command


def _argv(uri, *args):
    return ["virsh", "-q", "-c", uri, *args]


def reachable(host, uri, timeout=20):
    """None when libvirt answers at uri, else what virsh said."""
    out = command.run(host, _argv(uri, "version"), check=False, timeout=timeout)
    return None if out.rc == 0 else command.summary(out.stderr or out.stdout) or f"exit {out.rc}"


def version(host, uri):
    """The libvirt that runs the domains and the qemu it runs them with, on one line:
    'libvirt 11.3.0 (daemon), QEMU 10.0.13 (hypervisor)'; 'unreachable: ...' when
    libvirt does not answer.

    Not the client's libvirt (virsh's own library), which may be another
    release: a client on the host and a daemon in a container, for example.
    """
    found = _versions(host, uri)
    if "unreachable" in found:
        return f"unreachable: {found['unreachable']}"
    return f"libvirt {_daemon(found)} (daemon), {_hypervisor(found)} (hypervisor)"


def daemon_version(host, uri):
    """The daemon's libvirt release, such as '11.3.0'."""
    return _daemon(_versions(host, uri))


def hypervisor_version(host, uri):
    """The hypervisor the daemon runs domains with, such as 'QEMU 10.0.13'."""
    return _hypervisor(_versions(host, uri))


def parse_versions(text):
    """virsh version --daemon's lines as {what: version}, such as
    {"Running against daemon": "11.3.0", "Running hypervisor": "QEMU 10.0.13",
    "Using library": "libvirt 9.0.0"}."""
    found = {}
    for line in text.splitlines():
        what, colon, value = line.partition(":")
        if colon and value.strip():
            found[what.strip()] = value.strip()
    return found


def _versions(host, uri):
    out = command.run(host, _argv(uri, "version", "--daemon"), check=False, timeout=20)
    if out.rc != 0:
        return {"unreachable": command.summary(out.stderr or out.stdout) or f"exit {out.rc}"}
    return parse_versions(out.stdout)


def _daemon(found):
    return found.get("Running against daemon", "unknown")


def _hypervisor(found):
    return found.get("Running hypervisor", "unknown hypervisor")


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
