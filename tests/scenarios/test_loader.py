"""The scenario catalog: what it covers, and how it rejects broken files."""

import pytest

from qcow2_conformance.scenarios import CatalogError, load_catalog, load_file, loader
from qcow2_conformance.scenarios.loader import packed, unpacked

from support import catalog_error

GOOD = """
[[scenario]]
name = "ok"
[[scenario.image]]
size = "1G"
[[scenario.image.bitmap]]
name = "b1"
"""


def write(tmp_path, text, name="family.toml"):
    path = tmp_path / name
    path.write_text(text)
    return path


def test_a_good_file_loads(tmp_path):
    [scenario] = load_file(write(tmp_path, GOOD))
    assert scenario.name == "ok" and scenario.family == "family"
    assert scenario.active.bitmaps[0].name == "b1"
    assert scenario.active.bitmaps[0].state == "recording"
    assert scenario.virtual_size(0) == 1 << 30


# (change to GOOD, words the one-line error must contain)
BROKEN = [
    (
        GOOD.replace('name = "b1"', 'name = "b1"\ngranularty = "64K"'),
        ["family.toml", "scenario 'ok'", "image 1", "bitmap 1", "unknown field 'granularty'"],
    ),
    (
        GOOD.replace('size = "1G"', 'size = "1G"\ncolour = "red"'),
        ["scenario 'ok'", "image 1", "unknown field 'colour'"],
    ),
    (
        GOOD.replace('name = "ok"', 'name = "ok"\nimages = []'),
        ["scenario 'ok'", "unknown field 'images'"],
    ),
    (
        GOOD.replace('name = "b1"', 'name = "b1"\nstate = "paused"'),
        ["bitmap 1", "field 'state'", "'paused'", "recording"],
    ),
    (
        GOOD.replace('name = "b1"', 'name = "b1"\ngranularity = "96K"'),
        ["field 'granularity'", "power of two"],
    ),
    (
        GOOD.replace('name = "b1"', 'name = "b1"\ngranularity = 256'),
        ["field 'granularity'", "from 512"],
    ),
    (
        GOOD.replace('name = "b1"', 'name = "x"\nrepeat = 1024'),
        ["field 'name'", "1024 bytes", "1023"],
    ),
    (GOOD.replace('size = "1G"', 'size = "a lot"'), ["field 'size'", "not a size"]),
    (
        GOOD.replace('name = "b1"', 'name = "b1"\ndirty = [["2G", "64K"]]'),
        ["field 'dirty'", "past the virtual size"],
    ),
    (GOOD + '[[scenario.image.bitmap]]\nname = "b1"\n', ["bitmap 2", "repeats"]),
    (
        GOOD + '[[scenario.image.bitmap]]\nname = "x"\nstate = "inconsistent-recording"\n',
        ["bitmap 2", "inconsistent bitmaps first"],
    ),
    (
        GOOD.replace('size = "1G"', 'size = "1G"\nformat = "raw"'),
        ["image 1", "needs format 'qcow2'"],
    ),
    (GOOD.replace('size = "1G"', 'size = "1G"\nformat = "vmdk"'), ["field 'format'", "'vmdk'"]),
    (
        GOOD + '[[scenario.image]]\nformat = "raw"\n',
        ["image 2", "only the bottom image may be raw"],
    ),
    (GOOD.replace('name = "ok"', 'name = "Not OK"'), ["scenario 1", "field 'name'"]),
    ('[[scenario]]\nname = "x"\n', ["scenario 'x'", "field 'image'"]),
    ('[[scenario]\nname = "x"\n', ["family.toml", "not valid TOML"]),
    ('title = "x"\n', ["family.toml", "unknown field 'title'"]),
    ("", ["family.toml", "no [[scenario]] tables"]),
    (
        GOOD.replace(
            '[[scenario.image.bitmap]]\nname = "b1"',
            '[[scenario.image.bitmap_series]]\ncount = 3\nname = "fixed"',
        ),
        ["bitmap_series", "field 'name'", "{i}"],
    ),
]


@pytest.mark.parametrize("text, words", BROKEN)
def test_a_broken_file_gives_one_clear_line(tmp_path, text, words):
    message = catalog_error(write(tmp_path, text))
    for word in words:
        assert word in message


def test_a_name_used_twice_across_files(tmp_path):
    write(tmp_path, GOOD, "a.toml")
    write(tmp_path, GOOD, "b.toml")
    with pytest.raises(CatalogError, match=r"b.toml: scenario 'ok': name already used in .*a.toml"):
        load_catalog(str(tmp_path))


def test_a_missing_file(tmp_path):
    with pytest.raises(CatalogError, match="cannot read scenario file"):
        load_file(tmp_path / "missing.toml")


def test_a_bitmap_series(tmp_path):
    text = GOOD.replace(
        '[[scenario.image.bitmap]]\nname = "b1"',
        '[[scenario.image.bitmap_series]]\ncount = 3\nname = "cp-{i:02}"\nstate = "disabled"',
    )
    [scenario] = load_file(write(tmp_path, text))
    assert [(b.name, b.state) for b in scenario.active.bitmaps] == [
        ("cp-00", "disabled"),
        ("cp-01", "disabled"),
        ("cp-02", "disabled"),
    ]


def _all_bitmaps(catalog):
    return [b for s in catalog for image in s.images for b in image.bitmaps]


def test_the_catalog_covers_what_it_must():
    catalog = load_catalog()
    bitmaps = _all_bitmaps(catalog)
    names = {b.name for b in bitmaps}
    states = {b.state for b in bitmaps}
    assert states == {"recording", "disabled", "inconsistent-recording", "inconsistent-disabled"}
    granularities = {b.granularity for b in bitmaps}
    assert {512, 64 << 10, 128 << 10, 1 << 20, 2 << 30} <= granularities
    clusters = {image.cluster_size for s in catalog for image in s.images}
    assert {512, 64 << 10, 2 << 20} <= clusters
    for needle in (" leading", "trailing ", "in ner", "'", '"', "$(", "`", "\n"):
        assert any(needle in n for n in names), needle
    assert any(n.startswith("-") for n in names)
    assert any(not n.isascii() for n in names)
    assert any(len(n.encode()) == 1023 for n in names)
    assert {"daily", "Daily", "DAILY"} <= names
    depths = {len(s.images) for s in catalog}
    assert {1, 2, 5} <= depths
    formats = {(i, image.format) for s in catalog for i, image in enumerate(s.images)}
    assert ("raw" in {f for _, f in formats}) and ("qcow2-v2" in {f for _, f in formats})
    assert any(s.active.size and s.active.size >= 4 << 40 for s in catalog)
    assert any(len(s.active.bitmaps) >= 100 for s in catalog)
    assert {b.state for b in bitmaps if b.dirty} == {
        "recording",
        "disabled",
        "inconsistent-recording",
    }


def test_a_packed_catalog_unpacks_equal():
    catalog = load_catalog()
    assert unpacked(packed(catalog)) == catalog


def test_a_catalog_packed_by_another_model_is_left_to_the_files(monkeypatch):
    data = packed(load_catalog())
    monkeypatch.setattr(loader, "_shape", lambda: [("Scenario", ["name", "images"])])
    assert unpacked(data) is None
