"""What a run on generated scenarios says first: the smallest failing scenario of each rule.

One list of lines, from the results file's run.generated, shown by the
terminal summary, summary.md and report.html alike.
"""


def lines(doc):
    """Text lines about doc's generated scenarios; [] for a run on the catalog."""
    gen = doc["run"].get("generated")
    if not gen:
        return []
    out = []
    for found in gen["smallest_failing"]:
        shrunk = (
            f", found by shrinking (the smallest drawn one: {found['shrunk_from']})"
            if found.get("shrunk_from")
            else ""
        )
        out.append(
            f"smallest failing scenario of {found['rule']} for {found['implementation']}:"
            f" {found['scenario']}{shrunk}: {found['chain']}"
        )
        out.append(
            f"  rerun it: bin/conformance --scenarios {gen['folder']} --scenario"
            f" {found['scenario']} --impl {found['implementation']}"
        )
    filtered = sum(gen["filtered"].values())
    reasons = "; ".join(f"{count} {reason}" for reason, count in gen["filtered"].items())
    out.append(
        f"generated: {gen['count']} scenarios drawn with seed {gen['seed']} (hypothesis"
        f" {gen['hypothesis']}), in {gen['folder']}; {filtered} filtered"
        + (f" ({reasons})" if reasons else "")
    )
    out.append(
        "rules no generated scenario exercised: "
        + (", ".join(gen["rules_not_exercised"]) or "none")
    )
    return out
