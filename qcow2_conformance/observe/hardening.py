"""Runs under adverse conditions, for the advisory hardening checks.

Each check sets up its own condition on a fresh copy of a scenario's chain,
runs the implementation once, and records what it did to the user's files:

- no-clobber: OVERLAY already exists and holds known bytes;
- clean-failure: qemu-img (or qemu-storage-daemon) fails or dies at its k-th call;
- locked-active: a qemu-io holds ACTIVE open for writing during the run;
- hostile-names: names a shell would run create a canary file if run.
"""

import os
import time
from dataclasses import dataclass

from qcow2_conformance.observe import inspect, snapshot_run
from qcow2_conformance.tools import faults, files, qemu_io

CANARY = "HARNESS-CANARY-"
KNOWN_BYTES = "harness: these bytes were here before the snapshot\n" * 64


@dataclass(frozen=True)
class HardeningFacts:
    run: object  # RunFacts
    setup: str  # what the condition was, for messages
    chain_before: tuple  # ImageFacts right before the run, bottom to top
    chain_after: tuple
    overlay_digest_before: str | None  # sha256 of a pre-existing OVERLAY
    overlay_digest_after: str | None
    overlay: object  # Observation of a new OVERLAY (no probe), or None
    canaries: tuple  # canary files found in the run's folder
    fault_calls: dict | None  # calls the fault wrappers watched


@dataclass(frozen=True)
class Condition:
    """The adverse condition of one run, as set up before it."""

    setup: str  # what it is, for messages
    tools: object  # the Toolset the implementation is given
    holder: object = None  # a qemu-io holding ACTIVE, released after the run
    overlay_digest: str | None = None  # of the file placed at OVERLAY's path
    fault_folder: str | None = None  # where the fault wrappers count their calls


def _existing_overlay(tools, built, overlay, subject):
    files.write_text(tools.host, overlay, KNOWN_BYTES)
    return Condition(
        "OVERLAY existed, holding known bytes",
        tools,
        overlay_digest=inspect.file_digest(tools, overlay),
    )


def _failing_step(tools, built, overlay, subject):
    k, mode = subject
    folder = os.path.join(built.folder, "qemu-fault")
    return Condition(
        f"call {k} of qemu-img bitmap (or qemu-storage-daemon) {mode}",
        faults.faulty_tools(tools, folder, k, mode),
        fault_folder=folder,
    )


def _held_active(tools, built, overlay, subject):
    holder = qemu_io.hold(tools, built.active, os.path.join(built.folder, "holder.log"))
    return Condition("a qemu-io held ACTIVE open for writing", tools, holder=holder)


def _hostile_names(tools, built, overlay, subject):
    # The names are the scenario's own; a shell that runs one leaves a canary.
    return Condition("bitmap names a shell would run", tools)


# Each hardening check of the rule registry, by id, and how its condition is made.
CONDITIONS = {
    "no-clobber": _existing_overlay,
    "clean-failure": _failing_step,
    "locked-active": _held_active,
    "hostile-names": _hostile_names,
}


def observe(tools, impl, check, subject, built, baseline, timeout):
    folder, overlay = built.folder, os.path.join(built.folder, "overlay.qcow2")
    condition = CONDITIONS[check](tools, built, overlay, subject)
    holder = condition.holder
    # From here on, even an interrupt must not leave the holder running.
    try:
        chain_before = (
            _settled(tools, built.paths) if holder else inspect.chain_facts(tools, built.paths)
        )
        # The checks are the snapshot procedure's: impl runs it (procedures/snapshot.py).
        result = impl.snapshot(condition.tools, built.active, overlay, cwd=folder, timeout=timeout)
        chain_after = inspect.chain_facts(tools, built.paths)
    finally:
        if holder:
            qemu_io.release(tools, holder)
    after_digest = inspect.file_digest(tools, overlay)
    observed = None
    if after_digest is not None and after_digest != condition.overlay_digest:
        observed = snapshot_run.observe(tools, result, baseline, built.paths, overlay, probe=False)
    canaries = tuple(
        sorted(
            p for p in files.listing(tools.host, folder) if os.path.basename(p).startswith(CANARY)
        )
    )
    calls = faults.calls(tools.host, condition.fault_folder) if condition.fault_folder else None
    return HardeningFacts(
        result,
        condition.setup,
        chain_before,
        chain_after,
        condition.overlay_digest,
        after_digest,
        observed,
        canaries,
        calls,
    )


def _settled(tools, paths, tries=50, pause=0.1):
    """The chain's facts once the holder has finished opening ACTIVE.

    qemu takes the image's lock before it marks ACTIVE's bitmaps in use and
    rewrites their directory, so a read may come in between: wait for two
    equal reads with every bitmap in use. Facts that never settle would judge
    the check on a condition that was not set: that is an InspectError.
    """
    facts, previous = inspect.chain_facts(tools, paths), None
    for _ in range(tries):
        if facts == previous and all(b.in_use for b in facts[-1].bitmaps):
            return facts
        time.sleep(pause)
        previous, facts = facts, inspect.chain_facts(tools, paths)
    raise inspect.InspectError(
        f"ACTIVE's bitmaps were not all marked in use {tries * pause:g} s after another"
        " process opened it for writing: the condition of the check could not be set up"
    )
