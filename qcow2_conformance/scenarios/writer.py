"""Scenarios back to a catalog file: TOML that scenarios.loader.load_file reads back equal.

Every field is written out, defaults included, so a file says all there is
to its chain. Names are written byte for byte: TOML basic strings escape the
quote, the backslash and anything not printable, and keep the rest as UTF-8.
"""

import os

from qcow2_conformance.scenarios.model import SNAPSHOT

_ESCAPES = {
    '"': '\\"',
    "\\": "\\\\",
    "\n": "\\n",
    "\t": "\\t",
    "\r": "\\r",
    "\b": "\\b",
    "\f": "\\f",
}


def to_toml(scenarios):
    """The text of a catalog file holding scenarios, in order."""
    lines = []
    procedures = {s.procedure for s in scenarios}
    if procedures - {SNAPSHOT}:
        # One procedure per file (scenarios/loader.py).
        (procedure,) = procedures
        lines += [f"procedure = {_string(procedure)}", ""]
    for scenario in scenarios:
        lines += ["[[scenario]]", f"name = {_string(scenario.name)}"]
        if scenario.description:
            lines.append(f"description = {_string(scenario.description)}")
        if scenario.hardening:
            lines.append(f"hardening = [{', '.join(_string(h) for h in scenario.hardening)}]")
        for image in scenario.images:
            lines += ["[[scenario.image]]", f"format = {_string(image.format)}"]
            if image.commit_role is not None:
                lines.append(f"role = {_string(image.commit_role)}")
            if image.size is not None:
                lines.append(f"size = {image.size}")
            if image.cluster_size is not None:
                lines.append(f"cluster_size = {image.cluster_size}")
            if image.data:
                lines.append(f"data = {_extents(image.data)}")
            for bitmap in image.bitmaps:
                lines += [
                    "[[scenario.image.bitmap]]",
                    f"name = {_string(bitmap.name)}",
                    f"state = {_string(bitmap.state)}",
                ]
                if bitmap.granularity is not None:
                    lines.append(f"granularity = {bitmap.granularity}")
                if bitmap.dirty:
                    lines.append(f"dirty = {_extents(bitmap.dirty)}")
        lines.append("")
    return "\n".join(lines)


def write_file(path, scenarios):
    """Write scenarios to path atomically; a reader never sees half a file."""
    partial = f"{path}.partial-{os.getpid()}"
    with open(partial, "w", encoding="utf-8", newline="\n") as f:
        f.write(to_toml(scenarios))
    os.replace(partial, path)


def _string(text):
    if text.isprintable() and '"' not in text and "\\" not in text:
        # Nothing to escape: a long name is not looked at character by character.
        return f'"{text}"'
    out = []
    for char in text:
        if char in _ESCAPES:
            out.append(_ESCAPES[char])
        elif char.isprintable():
            out.append(char)
        else:
            code = ord(char)
            out.append(f"\\u{code:04X}" if code <= 0xFFFF else f"\\U{code:08X}")
    return '"' + "".join(out) + '"'


def _extents(extents):
    return "[" + ", ".join(f"[{off}, {length}]" for off, length in extents) + "]"
