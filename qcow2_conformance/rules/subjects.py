"""What each rule is judged on, for one scenario: its subjects.

Snapshot and commit rules are judged once per scenario; chain rules per checkpoint,
on the chain before and after the snapshot; the cross-check per image
inspected, and per checkpoint whose dirty bits qemu merged.
"""

from dataclasses import dataclass

from qcow2_conformance.rules import CHECKPOINT, HARDENING, IMAGE
from qcow2_conformance.scenarios.model import FAULT_CALLS, FAULT_MODES

BEFORE, AFTER, WRITTEN = "before", "after", "written"


@dataclass(frozen=True)
class Subject:
    kind: str = ""  # "", checkpoint, image or merged
    name: str = ""  # checkpoint name or image role
    side: str = ""  # before, after or written

    @property
    def label(self):
        if self.kind == "checkpoint":
            return f"checkpoint {self.name!r} {self.side}"
        if self.kind == "image":
            return f"{self.name} {self.side}"
        if self.kind == "merged":
            return f"dirty bits of {self.name!r}"
        if self.kind == "fault":
            return f"call {self.name} {self.side}"
        return ""

    @property
    def independent(self):
        """True when the verdict does not depend on the implementation."""
        return self.side == BEFORE or self.kind == "merged"


SCENARIO_WIDE = Subject()


def checkpoint_names(scenario):
    """Every bitmap name in the chain, from the top image down."""
    return list(dict.fromkeys(b.name for image in reversed(scenario.images) for b in image.bitmaps))


def subjects(rule, scenario):
    if rule.judged_on == CHECKPOINT:
        return [
            Subject("checkpoint", name, side)
            for name in checkpoint_names(scenario)
            for side in (BEFORE, AFTER)
        ]
    if rule.judged_on == IMAGE:
        chain = scenario.roles()
        return (
            [Subject("image", r, BEFORE) for r in chain]
            + [Subject("image", r, AFTER) for r in chain + ["OVERLAY"]]
            + [Subject("image", "OVERLAY", WRITTEN)]
            + [Subject("merged", name) for name in scenario.dirty_checkpoints()]
        )
    if rule.judged_on == HARDENING:
        if rule.id not in scenario.hardening:
            return []
        if rule.id == "clean-failure":
            return [Subject("fault", str(k), mode) for k in FAULT_CALLS for mode in FAULT_MODES]
        return [SCENARIO_WIDE]
    return [SCENARIO_WIDE]
