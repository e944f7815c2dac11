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

    snapshot: virsh snapshot-create-as --disk-only on a disk ACTIVE. A
    subclass whose domain can commit adds commit() with _commit.

    Subclasses say how the domain comes to exist (start) and goes (remove).
    """

    def __init__(self, name, uri, run_token):
        self.name = name
        self.uri = uri
        self.run_token = run_token

    def unavailable(self, tools):
        """Why this adapter cannot run here, or None."""
        problem = virsh.reachable(tools.host, self.uri)
        if problem:
            return (
                f"{self.name}: libvirt is not reachable at {self.uri} ({problem});"
                " start virtlogd -d and libvirtd -d, or run bin/libvirt-setup"
            )
        return None

    def snapshot(self, tools, active, overlay, *, cwd, timeout):
        def operate(host, name, left):
            return virsh.snapshot_disk_only(host, self.uri, name, DISK, overlay, left)

        return self._run(tools, active, operate, cwd, timeout)

    def _commit(self, tools, top, base, above, *, cwd, timeout):
        """virsh blockcommit on a disk COMMIT_TOP (an active commit, which pivots the
        disk to COMMIT_BASE) or ABOVE (an intermediate commit; images above ABOVE play
        no part in it, so the domain needs none of them)."""
        top, base = os.path.abspath(top), os.path.abspath(base)

        def operate(host, name, left):
            return virsh.blockcommit(
                host, self.uri, name, DISK, base, top, active=above is None, timeout=left
            )

        return self._run(tools, top if above is None else above, operate, cwd, timeout)

    def _run(self, tools, disk, operate, cwd, timeout):
        """RunFacts of operate(host, domain name, seconds left) on a domain whose disk is
        disk, removed afterwards whatever happened."""
        host = tools.host
        name = domain_name(self.run_token)
        xml = os.path.join(cwd, "domain.xml")
        files.write_text(host, xml, domain_xml(name, disk, _format_of(tools, disk)))
        start = time.monotonic()
        status, output, timed_out = 1, "", False
        try:
            self.start(host, xml, timeout)
            left = max(1, timeout - (time.monotonic() - start))
            out = operate(host, name, left)
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

    def start(self, host, xml, timeout):
        raise NotImplementedError

    def remove(self, host, name):
        raise NotImplementedError


def _format_of(tools, path):
    return qemu_img.info(tools, path, force_share=True)["format"]
