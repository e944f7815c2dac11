"""libvirt-offline: the snapshot of a defined, shut-off domain, undefined afterwards."""

from implementations.libvirt_domain import LibvirtAdapter
from tools import virsh


class LibvirtOffline(LibvirtAdapter):
    def start(self, host, xml, timeout):
        virsh.define(host, self.uri, xml, timeout)

    def remove(self, host, name):
        virsh.undefine(host, self.uri, name)
