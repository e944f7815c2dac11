"""libvirt-offline: the snapshot of a defined, shut-off domain, undefined afterwards."""

from qcow2_conformance.implementations.libvirt_domain import LibvirtAdapter
from qcow2_conformance.tools import virsh


class LibvirtOffline(LibvirtAdapter):
    # No commit(): seen with libvirt 9.0, "Requested operation is not valid: domain is
    # not running".
    scope_note = (
        "libvirt refuses a commit on a shut-off domain (virsh blockcommit needs a"
        " running domain); libvirt-live judges libvirt's commit"
    )

    def start(self, host, xml, timeout):
        virsh.define(host, self.uri, xml, timeout)

    def remove(self, host, name):
        virsh.undefine(host, self.uri, name)
