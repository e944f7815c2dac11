"""A raw image's guest data digest does not change when a copy turns zeros into holes.

qemu writes the first block of a new raw file; the chain cache copies with
cp --sparse=always, which makes it a hole again. Found by a generated
scenario (a raw base with no data at offset 0).
"""

from qcow2_conformance.observe.inspect import image_facts
from qcow2_conformance.tools import files, qemu_img, qemu_io


def test_a_sparse_copy_keeps_the_digest_and_a_changed_byte_does_not(tools, tmp_path):
    original, copy = tmp_path / "a" / "base.raw", tmp_path / "b" / "base.raw"
    original.parent.mkdir()
    qemu_img.create(tools, str(original), fmt="raw", size=1 << 30)
    qemu_io.write(tools, str(original), [(353792, 103936), ((1 << 30) - 2048, 2048)], fmt="raw")
    files.copy_tree(tools.host, str(original.parent), str(copy.parent))
    facts = image_facts(tools, str(original), "layer0")
    assert image_facts(tools, str(copy), "layer0").allocated != facts.allocated
    assert image_facts(tools, str(copy), "layer0").data_digest == facts.data_digest
    qemu_io.write(tools, str(copy), [(1 << 20, 512)], pattern=0x1, fmt="raw")
    assert image_facts(tools, str(copy), "layer0").data_digest != facts.data_digest
