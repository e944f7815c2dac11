"""What a run on generated scenarios adds to the results: run.generated.

    {"seed", "count", "hypothesis", "folder", "filtered": {reason: count},
     "rules_exercised", "rules_not_exercised",
     "smallest_failing": [{"rule", "implementation", "scenario", "chain", "file",
                           and when --shrink found a smaller one "shrunk_from": the
                           smallest drawn scenario that failed the rule}]}

A rule is exercised by a scenario when it has at least one verdict there that
was judged (passed or failed), not skipped or in error. The smallest failing
scenario of a rule is the smallest drawn one (conformance.shrink.size_key),
or, with --shrink, a smaller one hypothesis found, written beside the drawn
ones as shrunk-RULE.toml.
"""

import os
import shutil
import tempfile
from dataclasses import replace

from qcow2_conformance.rules import load_rules
from qcow2_conformance.rules.outcomes import FAILED, PASSED
from qcow2_conformance.scenarios.writer import write_file

JUDGED = (PASSED, FAILED)


def exercised(records):
    """{scenario name: [rule ids it exercised]}, rules in the registry's order."""
    order = {rule_id: i for i, rule_id in enumerate(load_rules())}
    found = {}
    for r in records:
        rules = found.setdefault(r["scenario"], set())
        if r["outcome"] in JUDGED:
            rules.add(r["rule"])
    return {name: sorted(rules, key=order.get) for name, rules in found.items()}


def summary(harness, records, shrinker=None):
    """run.generated for this run; shrinker(impl, rule_id, failing) -> smaller Scenario or None."""
    drawing = harness.drawing
    by_scenario = exercised(records)
    used = set().union(*by_scenario.values()) if by_scenario else set()
    return {
        "seed": harness.seed,
        "count": len(harness.scenarios()),
        "hypothesis": drawing.hypothesis_version,
        "folder": harness.scenario_dir,
        "filtered": dict(drawing.filtered.most_common()),
        # Drawn scenarios are the run's procedure's: only its rules could be exercised.
        "rules_exercised": [r.id for r in harness.procedure.rules() if r.id in used],
        "rules_not_exercised": [r.id for r in harness.procedure.rules() if r.id not in used],
        "smallest_failing": _smallest_failing(harness, records, shrinker),
    }


def _smallest_failing(harness, records, shrinker):
    from qcow2_conformance.conformance.shrink import (
        size_key,  # hypothesis: only runs that drew pay its import
    )

    scenarios = {s.name: s for s in harness.scenarios()}
    impls = {impl.name: impl for impl in harness.implementations()}
    failing = {}
    for r in records:
        if r["outcome"] == FAILED and r["scenario"] in scenarios:
            failing.setdefault((r["implementation"], r["rule"]), set()).add(r["scenario"])
    order = {rule_id: i for i, rule_id in enumerate(load_rules())}
    found = []
    for (impl_name, rule_id), names in sorted(
        failing.items(), key=lambda item: (order[item[0][1]], item[0][0])
    ):
        smallest = min((scenarios[n] for n in names), key=lambda s: (size_key(s), s.name))
        entry = {
            "rule": rule_id,
            "implementation": impl_name,
            "scenario": smallest.name,
            "chain": smallest.summary(),
            "file": os.path.join(harness.scenario_dir, f"{smallest.name}.toml"),
        }
        shrunk = shrinker(impls[impl_name], rule_id, smallest) if shrinker else None
        if shrunk is not None and size_key(shrunk) < size_key(smallest):
            name = _shrunk_name(rule_id, impl_name, list(impls))
            shrunk = replace(
                shrunk,
                name=name,
                description=f"{rule_id} failed by {impl_name};"
                f" found by shrinking, smaller than {smallest.name}",
            )
            path = os.path.join(harness.scenario_dir, f"{name}.toml")
            write_file(path, [shrunk])
            entry.update(
                scenario=name, chain=shrunk.summary(), file=path, shrunk_from=smallest.name
            )
        found.append(entry)
    return found


def _shrunk_name(rule_id, impl_name, impl_names):
    """shrunk-RULE; with several implementations, shrunk-RULE-N for the Nth."""
    if len(impl_names) == 1:
        return f"shrunk-{rule_id}"
    return f"shrunk-{rule_id}-{impl_names.index(impl_name) + 1}"


class Shrinker:
    """Runs conformance.shrink on a pipeline of its own, in a scratch folder it removes."""

    def __init__(self, harness, records, budget):
        from qcow2_conformance.conformance.pipeline import Pipeline
        from qcow2_conformance.fixtures.cache import ChainCache

        self.harness = harness
        self.records = records
        self.budget = budget
        self.root = tempfile.mkdtemp(prefix="harness-shrink-")
        tools = harness.tools()
        os.makedirs(os.path.join(self.root, "runs"))
        # On the target, in the run's folder there (removed with it), if it has one.
        self.pipeline = Pipeline(
            tools,
            ChainCache(
                tools,
                os.path.join(self.root, "chains"),
                images=harness.target.subfolder("shrink", "chains"),
            ),
            os.path.join(self.root, "runs"),
            harness.timeout,
            images=harness.target.subfolder("shrink", "runs"),
        )

    def __call__(self, impl, rule_id, failing):
        from qcow2_conformance.conformance.shrink import shrink

        scenarios = {s.name: s for s in self.harness.scenarios()}
        known = {}
        for r in self.records:
            if r["implementation"] == impl.name and r["scenario"] in scenarios:
                key = scenarios[r["scenario"]].chain_digest()
                known[key] = known.get(key, False) or (
                    r["rule"] == rule_id and r["outcome"] == FAILED
                )
        round_ = self.harness.drawing.rounds[failing.name]
        return shrink(
            self.pipeline,
            impl,
            rule_id,
            self.harness.seed,
            round_,
            known,
            self.budget,
            self.harness.procedure,
        )

    def close(self):
        shutil.rmtree(self.root, ignore_errors=True)
