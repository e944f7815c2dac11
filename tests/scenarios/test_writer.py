"""A scenario written by scenarios.writer loads back equal, hostile names included."""

import dataclasses

from hypothesis import assume, given, settings
from hypothesis import strategies as st

from qcow2_conformance.scenarios import load_file
from qcow2_conformance.scenarios.filters import refusal
from qcow2_conformance.scenarios.model import Bitmap, Image, Scenario
from qcow2_conformance.scenarios.strategies import chains
from qcow2_conformance.scenarios.writer import write_file

HOSTILE = st.sampled_from(
    [
        "line\nbreak",
        'quo"te',
        "back\\slash",
        "tab\t",
        "bell\x07",
        "del\x7f",
        "Ωμέγα 日本語 😀",
        "\u2028",
        "x" * 1023,
        "é" * 511 + "x",
        "\U0010ffff",
        "nul\0",
        "'single'",
        "[[scenario]]",
        "#",
        "a = 1",
    ]
)


def _written_and_read(tmp_path, scenario):
    path = tmp_path / f"{scenario.name}.toml"
    write_file(str(path), [scenario])
    (read,) = load_file(str(path))
    return read, dataclasses.replace(scenario, family=scenario.name, source=str(path))


@settings(max_examples=200, deadline=None)
@given(images=chains(), description=st.text(st.characters(codec="utf-8", exclude_characters="\0")))
def test_a_drawn_scenario_round_trips(tmp_path_factory, images, description):
    scenario = Scenario("gen-1-0001", "generated", description, images, "")
    assume(refusal(scenario) is None)
    tmp_path = tmp_path_factory.mktemp("w")
    read, expected = _written_and_read(tmp_path, scenario)
    assert read == expected


@settings(max_examples=50, deadline=None)
@given(name=st.one_of(HOSTILE, st.text(st.characters(codec="utf-8"), min_size=1)))
def test_a_hostile_name_round_trips_byte_for_byte(tmp_path_factory, name):
    bitmap = Bitmap(name, "recording", None, ((0, 512),))
    scenario = Scenario(
        "names", "generated", name, (Image("qcow2", 1 << 20, None, (), (bitmap,)),), ""
    )
    read, expected = _written_and_read(tmp_path_factory.mktemp("w"), scenario)
    assert read == expected
    assert read.active.bitmaps[0].name.encode() == name.encode()
