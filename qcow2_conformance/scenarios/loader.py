"""Load and validate the scenario catalog (one TOML file per family).

Every problem is reported as one CatalogError line naming the file, the
scenario and the field, so a user extending the catalog sees what to fix.
"""

import os
import pickle
import re
import tomllib
import zlib
from dataclasses import fields

from qcow2_conformance.scenarios.commit_roles import check_procedure, commit_role
from qcow2_conformance.scenarios.errors import CatalogError
from qcow2_conformance.scenarios.model import (
    FORMATS,
    PROCEDURES,
    SNAPSHOT,
    STATES,
    Bitmap,
    Image,
    Scenario,
)

CATALOG_DIR = os.path.dirname(os.path.abspath(__file__))
NAME_RE = re.compile(r"^[a-z0-9][a-z0-9-]*$")
MAX_NAME_BYTES = 1023
MIN_GRANULARITY, MAX_GRANULARITY = 512, 2 << 30
UNITS = {"": 1, "K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40}

FILE_FIELDS = {"procedure", "scenario"}
SCENARIO_FIELDS = {"name", "description", "image", "hardening"}
IMAGE_FIELDS = {"format", "size", "cluster_size", "data", "bitmap", "bitmap_series", "role"}
BITMAP_FIELDS = {"name", "repeat", "state", "granularity", "dirty"}
SERIES_FIELDS = {"count", "name", "state", "granularity"}


def load_catalog(folder=CATALOG_DIR):
    """Return every scenario of every *.toml file in folder, in file order."""
    try:
        names = sorted(f for f in os.listdir(folder) if f.endswith(".toml"))
    except OSError as e:
        raise CatalogError(f"{folder}: cannot read scenario folder: {e.strerror}") from None
    if not names:
        raise CatalogError(
            f"{folder}: no scenario files (*.toml); point --scenarios at a folder of scenario files"
        )
    scenarios = []
    seen = {}
    for filename in names:
        for scenario in load_file(os.path.join(folder, filename)):
            if scenario.name in seen:
                raise CatalogError(
                    f"{scenario.source}: scenario {scenario.name!r}: name already used in"
                    f" {seen[scenario.name]}; give it another name"
                )
            seen[scenario.name] = scenario.source
            scenarios.append(scenario)
    return scenarios


def packed(scenarios):
    """scenarios as bytes that unpacked() turns back into equal ones.

    The xdist controller hands the catalog it loaded to its workers this way:
    parsing a thousand drawn files again took each worker about a second of
    its start, and a worker on another machine may not have the files at all.
    """
    inner = pickle.dumps(scenarios, pickle.HIGHEST_PROTOCOL)
    return zlib.compress(pickle.dumps((_shape(), inner), pickle.HIGHEST_PROTOCOL), 1)


def unpacked(data):
    """The scenarios packed() made, or None when this harness's model differs from the
    packer's (a worker on another machine with another version): load the files then."""
    # The outer layer holds only names and bytes: it unpickles under any version.
    shape, inner = pickle.loads(zlib.decompress(data))
    return pickle.loads(inner) if shape == _shape() else None


def _shape():
    return [(cls.__name__, [f.name for f in fields(cls)]) for cls in (Scenario, Image, Bitmap)]


def load_file(path):
    try:
        with open(path, "rb") as f:
            doc = tomllib.load(f)
    except OSError as e:
        raise CatalogError(f"{path}: cannot read scenario file: {e.strerror}") from None
    except tomllib.TOMLDecodeError as e:
        raise CatalogError(f"{path}: not valid TOML: {e}") from None
    family = os.path.splitext(os.path.basename(path))[0]
    _fields(doc, FILE_FIELDS, path)
    # One procedure per file: every scenario of a file is for the procedure its top names.
    procedure = doc.get("procedure", SNAPSHOT)
    if procedure not in PROCEDURES:
        raise CatalogError(
            f"{path}: field 'procedure' is {procedure!r}; use one of {', '.join(PROCEDURES)}"
        )
    entries = doc.get("scenario", [])
    if not isinstance(entries, list) or not entries:
        raise CatalogError(f"{path}: no [[scenario]] tables; add at least one")
    return [_scenario(entry, i, family, path, procedure) for i, entry in enumerate(entries, 1)]


def _scenario(entry, index, family, path, procedure=SNAPSHOT):
    where = f"{path}: scenario {index}"
    if not isinstance(entry, dict):
        raise CatalogError(f"{where}: must be a table")
    name = entry.get("name")
    if not isinstance(name, str) or not NAME_RE.match(name):
        raise CatalogError(f"{where}: field 'name' must be lower-case letters, digits and '-'")
    where = f"{path}: scenario {name!r}"
    _fields(entry, SCENARIO_FIELDS, where)
    raw_images = entry.get("image")
    if not isinstance(raw_images, list) or not raw_images:
        raise CatalogError(f"{where}: field 'image' must list at least one [[scenario.image]]")
    images = tuple(_image(img, i, f"{where}: image {i}") for i, img in enumerate(raw_images, 1))
    hardening = entry.get("hardening", [])
    # Which check ids exist is the rule registry's business (fixtures.session asks it).
    if not isinstance(hardening, list) or not all(isinstance(h, str) and h for h in hardening):
        raise CatalogError(f"{where}: field 'hardening' must list hardening check ids")
    scenario = Scenario(
        name,
        family,
        str(entry.get("description", "")),
        images,
        path,
        tuple(hardening),
        procedure,
    )
    _check_chain(scenario, where)
    check_procedure(scenario, where)
    return scenario


def _image(entry, index, where):
    _fields(entry, IMAGE_FIELDS, where)
    fmt = entry.get("format", "qcow2")
    if fmt not in FORMATS:
        raise CatalogError(f"{where}: field 'format' is {fmt!r}; use one of {', '.join(FORMATS)}")
    size = _size(entry["size"], f"{where}: field 'size'") if "size" in entry else None
    cluster = None
    if "cluster_size" in entry:
        cluster = _power_of_two(
            entry["cluster_size"], 512, 2 << 20, f"{where}: field 'cluster_size'"
        )
    bitmaps = [
        _bitmap(b, i, f"{where}: bitmap {i}") for i, b in enumerate(entry.get("bitmap", []), 1)
    ]
    for series in entry.get("bitmap_series", []):
        bitmaps += _series(series, f"{where}: bitmap_series")
    data = _extents(entry.get("data", []), f"{where}: field 'data'")
    role = commit_role(entry.get("role"), where)
    return Image(fmt, size, cluster, data, tuple(bitmaps), role)


def _bitmap(entry, index, where):
    _fields(entry, BITMAP_FIELDS, where)
    name = entry.get("name")
    if not isinstance(name, str) or not name:
        raise CatalogError(f"{where}: field 'name' must be a non-empty string")
    repeat = entry.get("repeat", 1)
    if not isinstance(repeat, int) or repeat < 1:
        raise CatalogError(f"{where}: field 'repeat' must be a positive integer")
    name = name * repeat
    state = entry.get("state", "recording")
    if state not in STATES:
        raise CatalogError(f"{where}: field 'state' is {state!r}; use one of {', '.join(STATES)}")
    granularity = None
    if "granularity" in entry:
        granularity = _power_of_two(
            entry["granularity"], MIN_GRANULARITY, MAX_GRANULARITY, f"{where}: field 'granularity'"
        )
    dirty = _extents(entry.get("dirty", []), f"{where}: field 'dirty'")
    return Bitmap(name, state, granularity, dirty)


def _series(entry, where):
    _fields(entry, SERIES_FIELDS, where)
    count, template = entry.get("count"), entry.get("name", "b{i}")
    if not isinstance(count, int) or not 1 <= count <= 65535:
        raise CatalogError(f"{where}: field 'count' must be an integer from 1 to 65535")
    if not isinstance(template, str) or "{i" not in template:
        raise CatalogError(f"{where}: field 'name' must contain {{i}}, for example 'b{{i:04}}'")
    state = entry.get("state", "recording")
    fields = {
        "state": state,
        **({"granularity": entry["granularity"]} if "granularity" in entry else {}),
    }
    try:
        names = [template.format(i=i) for i in range(count)]
    except (ValueError, KeyError, IndexError) as e:
        raise CatalogError(f"{where}: field 'name' is not a valid template: {e}") from None
    return [_bitmap({"name": n, **fields}, i, where) for i, n in enumerate(names)]


def _check_chain(scenario, where):
    for i, image in enumerate(scenario.images, 1):
        here = f"{where}: image {i}"
        if i > 1 and image.format == "raw":
            raise CatalogError(
                f"{here}: field 'format' is 'raw' but a raw image cannot have a"
                " backing file; only the bottom image may be raw"
            )
        if image.format == "raw" and image.cluster_size is not None:
            raise CatalogError(f"{here}: field 'cluster_size' does not apply to a raw image")
        if image.bitmaps and image.format != "qcow2":
            raise CatalogError(
                f"{here}: field 'bitmap' needs format 'qcow2'; {image.format} images"
                " cannot store bitmaps"
            )
        if i == 1 and image.size is None:
            raise CatalogError(f"{here}: field 'size' is required on the bottom image")
        size = scenario.virtual_size(i - 1)
        _check_image_bitmaps(image, size, here)
        for off, length in image.data:
            if off + length > size:
                raise CatalogError(
                    f"{here}: field 'data' range ({off}, {length}) ends past the"
                    f" virtual size {size}"
                )


def _check_image_bitmaps(image, size, where):
    seen = set()
    consistent_seen = False
    for j, bitmap in enumerate(image.bitmaps, 1):
        here = f"{where}: bitmap {j} ({bitmap.name[:40]!r})"
        encoded = bitmap.name.encode("utf-8", "surrogatepass")
        if len(encoded) > MAX_NAME_BYTES:
            raise CatalogError(
                f"{here}: field 'name' is {len(encoded)} bytes; qcow2 allows at"
                f" most {MAX_NAME_BYTES}"
            )
        if bitmap.name in seen:
            raise CatalogError(f"{here}: field 'name' repeats a bitmap of the same image")
        seen.add(bitmap.name)
        # Inconsistent bitmaps come from a writer that dies, and it marks every
        # bitmap then on disk, so they can only precede the consistent ones.
        if bitmap.inconsistent and consistent_seen:
            raise CatalogError(
                f"{here}: field 'state' is {bitmap.state!r} after a consistent"
                " bitmap; list inconsistent bitmaps first in an image"
            )
        consistent_seen = consistent_seen or not bitmap.inconsistent
        for off, length in bitmap.dirty:
            if off + length > size:
                raise CatalogError(
                    f"{here}: field 'dirty' range ({off}, {length}) ends past the"
                    f" virtual size {size}"
                )


def _fields(entry, allowed, where):
    if not isinstance(entry, dict):
        raise CatalogError(f"{where}: must be a table")
    unknown = sorted(set(entry) - allowed)
    if unknown:
        raise CatalogError(
            f"{where}: unknown field {unknown[0]!r}; known fields are {', '.join(sorted(allowed))}"
        )


def _size(value, where):
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    match = re.fullmatch(r"(\d+)\s*([KMGT]?)i?B?", str(value).strip())
    if not match:
        raise CatalogError(f"{where}: {value!r} is not a size; write bytes or '64K', '1M', '4T'")
    return int(match.group(1)) * UNITS[match.group(2)]


def _power_of_two(value, low, high, where):
    size = _size(value, where)
    if size < low or size > high or size & (size - 1):
        raise CatalogError(f"{where}: {value!r} must be a power of two from {low} to {high}")
    return size


def _extents(value, where):
    if not isinstance(value, list):
        raise CatalogError(f"{where}: must be a list of [offset, length] pairs")
    extents = []
    for item in value:
        if not isinstance(item, list) or len(item) != 2:
            raise CatalogError(f"{where}: {item!r} is not an [offset, length] pair")
        off, length = _size(item[0], where), _size(item[1], where)
        if length == 0:
            raise CatalogError(f"{where}: {item!r} has length 0")
        extents.append((off, length))
    return tuple(extents)
