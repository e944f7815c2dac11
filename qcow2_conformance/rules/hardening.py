"""The hardening checks: advisory, reported apart from conformance.

The first four each take the HardeningFacts of a run of its own, under an
adverse condition. overlay-only and no-leftovers take the Observation of
every ordinary run.
"""

from qcow2_conformance.rules import NotEvaluated
from qcow2_conformance.rules.snapshot import (
    carry_recording,
    chain_changes,
    image_check,
    no_foreign_bitmaps,
    overlay_backing,
    overlay_consistent,
    overlay_fresh,
    overlay_recording,
    same_granularity,
    skip_disabled,
    skip_inconsistent,
)

# What makes a left-behind OVERLAY "fully conformant".
OVERLAY_RULES = (
    overlay_backing,
    carry_recording,
    same_granularity,
    overlay_recording,
    overlay_consistent,
    skip_disabled,
    skip_inconsistent,
    no_foreign_bitmaps,
    overlay_fresh,
    image_check,
)


def overlay_problems(facts):
    obs = facts.overlay
    if obs is None:
        return []
    if obs.overlay is None:
        return [obs.overlay_error]
    problems = []
    for check in OVERLAY_RULES:
        try:
            problems += check(obs)
        except NotEvaluated as e:
            # An OVERLAY too broken to judge is no conformant one either.
            problems.append(str(e).removeprefix("not evaluated: "))
    return problems


def no_clobber(facts):
    """no-clobber: given an existing OVERLAY, exit non-zero and leave its bytes as they were."""
    problems = []
    if facts.run.exit_status == 0:
        problems.append("exit status 0 although OVERLAY already existed")
    if facts.overlay_digest_after != facts.overlay_digest_before:
        problems.append(
            "the existing OVERLAY was "
            + ("removed" if facts.overlay_digest_after is None else "overwritten")
        )
    return problems


def clean_failure(facts):
    """clean-failure: a step failing part-way leaves no OVERLAY or a conformant one.

    ACTIVE stays untouched.
    """
    calls = sum((facts.fault_calls or {}).values())
    problems = [
        f"after the failure, {c}" for c in chain_changes(facts.chain_before, facts.chain_after)
    ]
    left = overlay_problems(facts)
    if facts.run.exit_status == 0 and left:
        problems.append(f"exit status 0 with a broken OVERLAY ({facts.setup}): {left[0]}")
    elif left:
        problems.append(f"a half-made OVERLAY was left behind ({facts.setup}): {left[0]}")
    if facts.run.exit_status == 0 and facts.overlay is None:
        problems.append(f"exit status 0 but no OVERLAY ({facts.setup}, {calls} calls made)")
    return problems


def locked_active(facts):
    """locked-active: while another process holds ACTIVE for writing, refuse and change nothing."""
    problems = []
    if facts.run.exit_status == 0:
        problems.append("exit status 0 while a qemu-io held ACTIVE open for writing")
    if facts.overlay_digest_after is not None:
        problems.append("an OVERLAY was created behind the running VM's back")
    return problems + chain_changes(facts.chain_before, facts.chain_after)


def hostile_names(facts):
    """hostile-names: names a shell would expand are carried byte-exactly; none of them runs."""
    problems = [f"a bitmap name was run by a shell: {c} exists" for c in facts.canaries]
    obs = facts.overlay
    if obs is None or obs.overlay is None:
        return problems + ["no OVERLAY to carry the names to"]
    return problems + carry_recording(obs) + no_foreign_bitmaps(obs)


def overlay_only(obs):
    """overlay-only: the run leaves no file but OVERLAY behind in the folders it was given.

    Judged on every run, killed and timed-out ones too: what a failed run
    leaves behind is what a user has to find and clean up.
    """
    changes = obs.folder_changes
    if changes is None:
        raise NotEvaluated("not evaluated: the run's folder was not listed")
    return (
        [f"left {path} ({_size(size)}) beside OVERLAY" for path, size in changes.created]
        + [f"removed {path}" for path in changes.removed]
        + [
            f"left {path} ({_size(size)}) in the folder of its HOME and TMPDIR"
            for path, size in changes.scratch
        ]
    )


def no_leftovers(obs):
    """no-leftovers: when the implementation returns, no process it started is still running.

    Judged on every run, like overlay-only: a timed-out run is cut off, and
    what it left running counts too. The harness has killed them already.
    """
    return [
        f"process {process} was still running after the implementation returned"
        for process in obs.run.leftovers
    ]


def _size(size):
    for unit in ("bytes", "KiB", "MiB", "GiB"):
        if size < 1024 or unit == "GiB":
            return f"{size:g} {unit}" if unit == "bytes" else f"{size:.1f} {unit}"
        size /= 1024
