"""The results file: one record per (implementation, scenario, rule, subject).

Schema:
    {"run": {"implementation", "procedure", "qemu_img", "qemu_version", "qemu", "qemu_versions",
             "host" (--target-host), "host_name" (the target's uname -n), "started",
             "finished", "harness_version",
             and when they apply "missing", "libvirt_uri", "libvirt_version",
             "labels" ({implementation: its --label})},
     "results": [{"implementation", "scenario", "rule", "subject", "family",
                  "outcome", "message", "host" (uname -n of where it was judged),
                  and with --label "label"}],
     "scenarios": {name: {"family", "description", "chain"}}}
"""

import json
import os

from qcow2_conformance.rules.families import CONFORMANCE
from qcow2_conformance.rules.outcomes import FINDINGS, OUTCOMES, SKIPPED


def judged(records):
    """The conformance records that were judged: not skipped."""
    return [r for r in records if r["family"] in CONFORMANCE and r["outcome"] != SKIPPED]


def findings(records):
    """(conformance, advisory): the failed or error records of each kind."""
    bad = [r for r in records if r["outcome"] in FINDINGS]
    return (
        [r for r in bad if r["family"] in CONFORMANCE],
        [r for r in bad if r["family"] not in CONFORMANCE],
    )


def document(run, records):
    order = {o: i for i, o in enumerate(OUTCOMES)}
    records = sorted(
        records,
        key=lambda r: (r["implementation"], r["scenario"], r["rule"], order.get(r["outcome"], 9)),
    )
    return {"run": run, "results": records}


def write(path, doc):
    """Write doc as JSON to path atomically: a reader never sees half a file."""
    partial = f"{path}.partial-{os.getpid()}"
    with open(partial, "w", encoding="utf-8") as f:
        json.dump(doc, f, indent=1, ensure_ascii=False)
        f.write("\n")
    os.replace(partial, path)


def read(path):
    with open(path, encoding="utf-8") as f:
        return json.load(f)
