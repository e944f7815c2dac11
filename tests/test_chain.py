"""Built chains hold exactly what their scenario describes, read back from the files."""

import dataclasses

import pytest

from qcow2_conformance.observe import inspect
from qcow2_conformance.observe.extents import granules
from qcow2_conformance.scenarios import load_catalog
from qcow2_conformance.tools import command


@pytest.mark.parametrize("scenario", load_catalog(), ids=lambda s: s.name)
def test_built_chain_matches_its_description(scenario, chain_cache, tools):
    facts = inspect.chain_facts(tools, chain_cache.pristine(scenario).paths)
    assert len(facts) == len(scenario.images)
    for index, (image, seen) in enumerate(zip(scenario.images, facts)):
        assert seen.format == image.qemu_format
        assert seen.virtual_size == scenario.virtual_size(index)
        if image.cluster_size:
            assert seen.cluster_size == image.cluster_size
        assert [b.name for b in seen.bitmaps] == [b.name for b in image.bitmaps]
        for wanted, got in zip(image.bitmaps, seen.bitmaps):
            assert (got.in_use, got.auto) == (wanted.inconsistent, wanted.recording), got.name
            if wanted.granularity:
                assert got.granularity == wanted.granularity
            expected = granules(wanted.dirty, got.granularity, seen.virtual_size)
            assert list(got.dirty) == expected, got.name
        if index:
            assert seen.backing_path == facts[index - 1].path
            assert seen.backing_format == scenario.images[index - 1].qemu_format


def test_scenarios_with_the_same_images_share_one_built_chain(catalog, chain_cache, tmp_path):
    original = catalog["two-recording"]
    renamed = dataclasses.replace(
        original,
        name="another-name",
        family="elsewhere",
        description="same images",
        source="nowhere.toml",
    )
    assert chain_cache.pristine(renamed).folder == chain_cache.pristine(original).folder
    other = dataclasses.replace(
        original,
        images=original.images[:0]
        + (dataclasses.replace(original.images[0], size=original.images[0].size * 2),),
    )
    assert chain_cache.pristine(other).folder != chain_cache.pristine(original).folder


@pytest.mark.parametrize("scenario", load_catalog(), ids=lambda s: s.name)
def test_one_qemu_img_call_gives_the_account_of_each_image(scenario, chain_cache, tools):
    facts = inspect.chain_facts(tools, chain_cache.pristine(scenario).paths)
    each = {i.role: inspect.qemu_account(tools, i.path, i.format) for i in facts}
    with command.recorded() as lines:
        assert inspect.qemu_infos(tools, facts) == each
    assert len(lines) == 1
