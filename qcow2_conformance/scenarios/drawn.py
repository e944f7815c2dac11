"""The folder of generated scenarios beside a results file: NAME.scenarios/ for NAME.json.

The process that draws (the xdist controller, or the only process) empties
it of scenario files and writes one file per scenario; xdist workers only
read it back, so every process judges the same scenarios, byte for byte.
"""

import os

from qcow2_conformance.scenarios.writer import write_file

DEFAULT_SEED = 11


def folder_for(results_path):
    """NAME.scenarios beside NAME.json."""
    return os.path.splitext(results_path)[0] + ".scenarios"


def write_drawing(folder, drawing):
    """Replace the scenario files in folder with one file per drawn scenario."""
    os.makedirs(folder, exist_ok=True)
    for name in os.listdir(folder):
        if name.endswith(".toml"):
            os.remove(os.path.join(folder, name))
    for scenario in drawing.scenarios:
        write_file(os.path.join(folder, f"{scenario.name}.toml"), [scenario])


def draw_into(folder, count, seed, procedure):
    """Draw count scenarios of procedure (a procedures/ object) from seed, write them
    into folder; the Drawing."""
    from qcow2_conformance.scenarios.strategies import (
        draw,  # hypothesis: only a drawing process pays its import
    )

    drawing = draw(count, seed, procedure)
    write_drawing(folder, drawing)
    return drawing
