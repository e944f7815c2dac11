"""What the two libvirt adapters share: the domain, its name, its removal.

The domain has no guest OS: a disk, TCG, no graphics. Its name carries this
run's token, so parallel workers never collide and a sweep at the end of the
session can find whatever an interrupted run left.
"""

import os
import time
import uuid
from xml.sax.saxutils import escape, quoteattr

from qcow2_conformance.implementations.base import RunFacts, tail
from qcow2_conformance.scenarios.model import COMMIT, SNAPSHOT
from qcow2_conformance.tools import command, files, qemu_img, virsh

PREFIX = "bitmap-harness-"
DISK = "vda"

DOMAIN_XML = """<domain type='qemu'>
  <name>{name}</name>
  <memory unit='MiB'>64</memory>
  <vcpu>1</vcpu>
  <os><type arch='x86_64' machine='pc'>hvm</type></os>
  <on_poweroff>destroy</on_poweroff>
  <on_reboot>destroy</on_reboot>
  <devices>
    <disk type='file' device='disk'>
      <driver name='qemu' type={format}/>
      <source file={path}/>
      <target dev='{disk}' bus='virtio'/>
    </disk>
    <video><model type='none'/></video>
    <memballoon model='none'/>
  </devices>
</domain>
"""


def domain_xml(name, path, fmt):
    return DOMAIN_XML.format(
        name=escape(name), path=quoteattr(path), format=quoteattr(fmt), disk=DISK
    )


def domain_name(run_token):
    return f"{PREFIX}{run_token}-{uuid.uuid4().hex[:8]}"


def sweep(host, uri, run_token):
    """Remove every domain this run left behind (interrupted or timed out)."""
    if virsh.reachable(host, uri) is not None:
        return []
    left = [d for d in virsh.domains(host, uri) if d.startswith(f"{PREFIX}{run_token}-")]
    for name in left:
        virsh.destroy(host, uri, name)
        virsh.undefine(host, uri, name)
    return left


class LibvirtAdapter:
    """Runs a procedure with virsh on a domain whose disk is the chain's top.

    snapshot: virsh snapshot-create-as --disk-only on a disk ACTIVE.
    commit: virsh blockcommit on a disk COMMIT_TOP (an active commit, which
    pivots the disk to COMMIT_BASE) or ABOVE (an intermediate commit; images
    above ABOVE play no part in it, so the domain needs none of them).

    Subclasses say how the domain comes to exist (start) and goes (remove),
    and which procedures libvirt refuses on such a domain (refuses).
    """

    def __init__(self, name, uri, run_token):
        self.name = name
        self.uri = uri
        self.run_token = run_token

    def unavailable(self, tools, procedure):
        """Why this adapter cannot run procedure here, or None."""
        if procedure not in (SNAPSHOT, COMMIT):
            return f"{self.name}: runs snapshot and commit only, not {procedure}"
        refused = self.refuses(procedure)
        if refused:
            return f"{self.name}: {refused}"
        problem = virsh.reachable(tools.host, self.uri)
        if problem:
            return (
                f"{self.name}: libvirt is not reachable at {self.uri} ({problem});"
                " start virtlogd -d and libvirtd -d, or run bin/libvirt-setup"
            )
        return None

    def run(self, tools, procedure, paths, *, cwd, timeout):
        host = tools.host
        disk = _disk(procedure, paths)
        name = domain_name(self.run_token)
        xml = os.path.join(cwd, "domain.xml")
        files.write_text(host, xml, domain_xml(name, disk, _format_of(tools, disk)))
        start = time.monotonic()
        status, output, timed_out = 1, "", False
        try:
            self.start(host, xml, timeout)
            left = max(1, timeout - (time.monotonic() - start))
            out = self._operate(host, procedure, name, paths, left)
            status, output, timed_out = out.rc, out.stderr + out.stdout, out.timed_out
        except command.CommandError as e:
            output, timed_out = str(e), e.result.timed_out
        finally:
            self.remove(host, name)
            # The adapter's own file: overlay-only judges what libvirt leaves.
            files.remove(host, xml)
        return RunFacts(
            self.name, status, timed_out, timeout, time.monotonic() - start, tail(output)
        )

    def _operate(self, host, procedure, name, paths, timeout):
        if procedure == COMMIT:
            top, base = (os.path.abspath(p) for p in paths[:2])
            active = len(paths) == 2
            return virsh.blockcommit(
                host, self.uri, name, DISK, base, top, active=active, timeout=timeout
            )
        active, overlay = paths
        return virsh.snapshot_disk_only(host, self.uri, name, DISK, overlay, timeout)

    def refuses(self, procedure):
        """Why libvirt refuses procedure on this adapter's domain, or None."""
        return None

    def start(self, host, xml, timeout):
        raise NotImplementedError

    def remove(self, host, name):
        raise NotImplementedError


def _disk(procedure, paths):
    """The domain's disk: ACTIVE, or the top of the chain a commit works on."""
    if procedure == COMMIT:
        return paths[2] if len(paths) == 3 else paths[0]
    return paths[0]


def _format_of(tools, path):
    return qemu_img.info(tools, path, force_share=True)["format"]
