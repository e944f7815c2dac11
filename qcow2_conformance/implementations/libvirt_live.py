"""libvirt-live: the snapshot or commit of a running transient domain, destroyed afterwards."""

from qcow2_conformance.implementations.libvirt_domain import LibvirtAdapter
from qcow2_conformance.tools import virsh


class LibvirtLive(LibvirtAdapter):
    def commit(self, tools, top, base, above, *, cwd, timeout):
        return self._commit(tools, top, base, above, cwd=cwd, timeout=timeout)

    def start(self, host, xml, timeout):
        virsh.create(host, self.uri, xml, timeout)

    def remove(self, host, name):
        virsh.destroy(host, self.uri, name)
