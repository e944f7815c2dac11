"""The commit catalog: its marks, what it covers, and how it rejects broken files."""

import pytest

from qcow2_conformance.scenarios import load_catalog, load_file
from qcow2_conformance.scenarios.checkpoints import valid_chain
from qcow2_conformance.scenarios.model import COMMIT, SNAPSHOT, STATES

from support import catalog_error

GOOD = """
procedure = "commit"
[[scenario]]
name = "ok"
[[scenario.image]]
size = "1G"
role = "commit-base"
[[scenario.image]]
role = "commit-top"
[[scenario.image.bitmap]]
name = "cp"
[[scenario.image]]
"""


def write(tmp_path, text, name="commit-family.toml"):
    path = tmp_path / name
    path.write_text(text)
    return path


def test_a_good_commit_file_loads(tmp_path):
    [scenario] = load_file(write(tmp_path, GOOD))
    assert scenario.procedure == COMMIT
    assert (scenario.commit_base, scenario.commit_top, scenario.above) == (0, 1, 2)
    assert scenario.carried_at_commit_top() == ["cp"]
    assert scenario.summary() == "BASE:qcow2 <- TOP:qcow2 cp(r) <- qcow2"


def test_an_active_commit_has_no_above(tmp_path):
    [scenario] = load_file(write(tmp_path, GOOD.rstrip().removesuffix("[[scenario.image]]")))
    assert scenario.above is None


# (change to GOOD, words the one-line error must contain)
BROKEN = [
    (GOOD.replace('"commit"', '"merge"'), ["field 'procedure'", "'merge'", "snapshot, commit"]),
    (GOOD.replace('role = "commit-top"\n', ""), ["scenario 'ok'", "role = 'commit-top'"]),
    (GOOD.replace('role = "commit-base"\n', ""), ["no image has role = 'commit-base'"]),
    (
        GOOD.replace('role = "commit-base"', 'role = "commit-top"'),
        ["images 1 and 2 both have role = 'commit-top'", "mark one"],
    ),
    (
        GOOD.replace('role = "commit-base"', 'role = "BASE"'),
        ["image 1", "field 'role' is 'BASE'", "'commit-base'"],
    ),
    (
        GOOD.replace('role = "commit-base"', 'role = "commit-top"').replace(
            '[[scenario.image]]\n"""', '[[scenario.image]]\nrole = "commit-base"\n"""'
        )
        + "",
        [],  # placeholder: replaced below
    ),
    (
        GOOD.replace('role = "commit-top"', 'role = ["commit-top", "commit-base"]'),
        ["image 2", "cannot be both commit-top and commit-base"],
    ),
    (
        GOOD.replace('size = "1G"', 'size = "1G"\nformat = "raw"'),
        ["image 1 (commit-base) is raw", "'cp'", "make the base qcow2"],
    ),
    (
        GOOD.replace('size = "1G"', 'size = "1G"\nformat = "qcow2-v2"'),
        ["image 1 (commit-base) is qcow2-v2", "'cp'"],
    ),
    (GOOD.replace('name = "ok"', 'name = "ok"\nhardening = ["no-clobber"]'), ["no hardening"]),
    # The contract no longer names limits of the algorithm (docs/rules.md).
    (
        GOOD.replace(
            'name = "ok"', 'name = "ok"\nalgorithm_limit = { checkpoint = "cp", why = "w" }'
        ),
        ["scenario 'ok'", "unknown field 'algorithm_limit'"],
    ),
    (
        GOOD.replace('procedure = "commit"\n', ""),
        ["image 1", "field 'role' is for commit scenarios", 'procedure = "commit"'],
    ),
]
# A base above the top: the marks swapped.
BROKEN[5] = (
    GOOD.replace('role = "commit-base"', "ROLE_A")
    .replace('role = "commit-top"', 'role = "commit-base"')
    .replace("ROLE_A", 'role = "commit-top"'),
    ["image 2 (commit-base) is above image 1 (commit-top)", "below the top"],
)


@pytest.mark.parametrize("text, words", BROKEN)
def test_a_broken_commit_file_gives_one_clear_line(tmp_path, text, words):
    message = catalog_error(write(tmp_path, text))
    for word in words:
        assert word in message


def test_a_raw_base_is_allowed_when_nothing_is_carried(tmp_path):
    text = GOOD.replace('size = "1G"', 'size = "1G"\nformat = "raw"').replace(
        'name = "cp"', 'name = "cp"\nstate = "disabled"'
    )
    [scenario] = load_file(write(tmp_path, text))
    assert scenario.carried_at_commit_top() == []


def test_the_commit_catalog_covers_what_it_must():
    catalog = [s for s in load_catalog() if s.procedure == COMMIT]
    assert 20 <= len(catalog) <= 40
    # Every role an image can have, with a checkpoint in every state, and absent.
    seen = set()
    for s in catalog:
        names = {b.name for image in s.images for b in image.bitmaps}
        for (_, where), image in zip(_formats(s), s.images):
            for name in names:
                bitmap = image.bitmap_named(name)
                seen.add((where, bitmap.state if bitmap else "absent"))
    roles = ("below", "base", "between", "top", "above")
    assert {(r, s) for r in roles for s in (*STATES, "absent")} <= seen
    assert any(s.above is None for s in catalog) and any(s.above is not None for s in catalog)
    assert {s.commit_top - s.commit_base for s in catalog} >= {1, 4}
    assert any(s.above is not None and s.above < len(s.images) - 1 for s in catalog)
    # Dirty bits in every image of some subchain, and in its base.
    assert any(
        all(
            any(b.dirty for b in image.bitmaps)
            for image in s.images[s.commit_base : s.commit_top + 1]
        )
        for s in catalog
    )
    # A bitmap's granularity differs between the images of one chain.
    assert any(
        len({b.granularity for image in s.images for b in image.bitmaps if b.name == "cp"}) == 3
        for s in catalog
    )
    formats = {found for s in catalog for found in _formats(s)}
    assert {
        ("raw", "below"),
        ("qcow2-v2", "below"),
        ("raw", "base"),
        ("qcow2-v2", "base"),
    } <= formats
    assert ("qcow2-v2", "between") in formats
    names = {b.name for s in catalog for image in s.images for b in image.bitmaps}
    for needle in (" ", "'", '"', "$(", "`", "\n", "--"):
        assert any(needle in n for n in names), needle
    assert any(not n.isascii() for n in names) and any(len(n) == 1023 for n in names)
    # Commits that close a gap and make a checkpoint valid again, the gap image written.
    assert len([s for s in catalog if _resurrected(s)]) >= 3
    assert any(s.above is None for s in catalog if _resurrected(s))


def _held(image, name):
    bitmap = image.bitmap_named(name)
    return None if bitmap is None else (bitmap.recording, not bitmap.inconsistent)


def _resurrected(scenario):
    """Names the algorithm makes valid at the top although they were not before, whose
    gap image was written (docs/rules.md, "Resurrection")."""
    base, top = scenario.commit_base, scenario.commit_top
    carried = scenario.carried_at_commit_top()
    after = scenario.images[: base + 1] + scenario.images[top + 1 :]
    found = []
    for name in {b.name for image in scenario.images for b in image.bitmaps} - set(carried):
        before = [_held(image, name) for image in reversed(scenario.images)]
        gap = [image for image in scenario.images[base + 1 : top + 1] if _held(image, name) is None]
        if not valid_chain(before) and valid_chain([_held(i, name) for i in reversed(after)]):
            if any(image.data for image in gap):
                found.append(name)
    return found


def _formats(scenario):
    base, top = scenario.commit_base, scenario.commit_top
    for i, image in enumerate(scenario.images):
        where = "below" if i < base else "base" if i == base else "between" if i < top else None
        yield image.format, where or ("top" if i == top else "above")


def test_snapshot_scenarios_are_still_snapshot_scenarios():
    assert {s.procedure for s in load_catalog() if not s.family.startswith("commit")} == {SNAPSHOT}
