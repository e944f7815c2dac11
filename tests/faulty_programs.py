"""The faulty programs of tests/faulty/ and what each must trip: the tables tests share.

test_faulty_implementations runs every program of SNAPSHOT_PROGRAMS (and
test_commit those of COMMIT_PROGRAMS) and checks that it trips exactly its
rules, and those of DAMAGE_PROGRAMS, which damage the chain's files;
test_hardening does the same for HARDENING_PROGRAMS' checks;
test_generated_runs checks that drawn scenarios catch them too.
"""

# (program in tests/faulty, scenario it runs on, the rules it must trip, no more)
SNAPSHOT_PROGRAMS = [
    ("grows_overlay.py", "recording-alone", {"overlay-backing"}),
    (
        "drops_last_bitmap.py",
        "two-recording",
        {"carry-recording", "chain-top", "chain-contiguous", "backup-ready"},
    ),
    (
        "stops_at_first_skip.py",
        "mixed-skipped-between",
        {"carry-recording", "chain-top", "chain-contiguous", "backup-ready"},
    ),
    ("omits_granularity.py", "granularity-128k", {"same-granularity"}),
    ("omits_granularity.py", "granularity-2g", {"same-granularity"}),
    (
        "adds_disabled.py",
        "recording-alone",
        {"overlay-recording", "chain-recording", "backup-ready"},
    ),
    (
        "dies_holding_overlay.py",
        "recording-alone",
        {"overlay-consistent", "chain-consistent", "backup-ready"},
    ),
    ("carries_disabled.py", "disabled-alone", {"skip-disabled"}),
    ("carries_inconsistent.py", "inconsistent-recording-alone", {"skip-inconsistent"}),
    ("carries_whole_chain.py", "chain-name-only-below", {"no-foreign-bitmaps"}),
    ("writes_overlay.py", "recording-alone", {"overlay-fresh"}),
    ("tidies_active.py", "inconsistent-recording-alone", {"active-untouched"}),
    ("leaks_cluster.py", "recording-alone", {"image-check"}),
    # Only the harness's own reading of dirty bits sees these three.
    ("merges_active_bits.py", "dirty-recording", {"overlay-fresh", "backup-ready"}),
    ("clears_active_bitmaps.py", "dirty-recording", {"active-untouched", "backup-ready"}),
    ("moves_bitmaps.py", "chain-depth-2", {"active-untouched", "chain-contiguous", "backup-ready"}),
    # Advisory, but judged on every run: files left beside OVERLAY.
    ("writes_outside.py", "recording-alone", {"overlay-only"}),
    # Advisory, judged on every run: a process left running when the program returned.
    ("leaves_process.py", "recording-alone", {"no-leftovers"}),
]


# (program in tests/faulty, scenario it runs on, the rules it must trip, no more)
COMMIT_PROGRAMS = [
    ("commit_skips_data.py", "commit-one-intermediate", {"commit-data"}),
    ("commit_keeps_link.py", "commit-one-intermediate", {"commit-relink"}),
    # The checkpoint's only bitmap left is ABOVE's... none: an active commit.
    (
        "commit_drops_last_name.py",
        "commit-created-in-base",
        {"commit-carry", "commit-backup-ready"},
    ),
    ("commit_omits_granularity.py", "commit-granularity-created", {"commit-granularity"}),
    (
        "commit_adds_disabled.py",
        "commit-created-in-base",
        {"commit-recording", "commit-backup-ready"},
    ),
    (
        "commit_merges_top_only.py",
        "commit-granularity-created",
        {"commit-merged", "commit-backup-ready"},
    ),
    ("commit_clears_others.py", "commit-created-in-base", {"commit-others-untouched"}),
    ("commit_carries_everything.py", "commit-active-disabled", {"commit-no-foreign"}),
    ("commit_leaks_cluster.py", "commit-one-active", {"commit-image-check"}),
    ("commit_disables_above.py", "commit-one-intermediate", {"commit-backup-ready"}),
    # Resurrections: a checkpoint the algorithm leaves unusable made valid, missing writes.
    ("commit_heals_gaps.py", "commit-gap-at-top", {"commit-backup-ready"}),
    (
        "commit_merges_gapped.py",
        "commit-active-absent",
        {"commit-no-foreign", "commit-backup-ready"},
    ),
]


# A tool that deletes, truncates, replaces or overwrites an image of the chain: (program,
# scenario, the rules it fails, words of the first failure's message, the rules it leaves
# not evaluated, each saying why in one line; None: every other rule of the run, its
# completes rule failed).
_LOST_ACTIVE = {
    "overlay-backing",
    "image-check",
    "backup-ready",
    "chain-top",
    "chain-contiguous",
    "chain-recording",
    "chain-consistent",
    "qemu-img-agrees",
}
DAMAGE_PROGRAMS = [
    (
        "deletes_active.py",
        "recording-alone",
        {"active-untouched", "overlay-only"},
        "ACTIVE (active.qcow2) was deleted",
        _LOST_ACTIVE,
    ),
    (
        "truncates_active.py",
        "recording-alone",
        {"active-untouched"},
        "ACTIVE (active.qcow2) was truncated from ",
        _LOST_ACTIVE,
    ),
    (
        "replaces_active.py",
        "recording-alone",
        {"active-untouched"},
        "ACTIVE (active.qcow2) was replaced (inode changed)",
        set(),
    ),
    (
        "commit_deletes_above.py",
        "commit-one-intermediate",
        {"commit-relink"},
        "ABOVE (active.qcow2) was deleted",
        {"commit-data", "commit-image-check", "commit-backup-ready"},
    ),
    (
        "commit_truncates_base.py",
        "commit-one-intermediate",
        {"commit-completes"},
        "COMMIT_BASE (layer0.qcow2) was truncated from ",
        None,
    ),
    # Damaged in place: the same file, no longer the image it was.
    (
        "commit_garbles_base.py",
        "commit-one-intermediate",
        {"commit-completes"},
        "COMMIT_BASE is raw after the commit, qcow2 before",
        None,
    ),
    (
        "commit_replaces_base.py",
        "commit-one-intermediate",
        {"commit-relink"},
        "COMMIT_BASE (layer0.qcow2) was replaced (inode changed)",
        set(),
    ),
]


# Refused, not failed: exits non-zero and changes nothing. (program, scenario, words of
# what it said; None: it does not refuse that scenario, and every rule holds)
REFUSING_PROGRAMS = [
    ("refuses.py", "recording-alone", "snapshot: ACTIVE has bitmaps"),
    ("commit_refuses_deep.py", "commit-several-deep", "WrongParentVolume: "),
    ("commit_refuses_deep.py", "commit-one-active", None),
]


# (program, check, scenario, subject label, words the message must hold)
HARDENING_PROGRAMS = [
    (
        "plain_recipe.py",
        "no-clobber",
        "hardening-existing-overlay",
        "",
        "exit status 0 although OVERLAY already existed; the existing OVERLAY was overwritten",
    ),
    (
        "plain_recipe.py",
        "clean-failure",
        "hardening-failing-step",
        "call 2 fails",
        "a half-made OVERLAY was left behind (call 2 of qemu-img bitmap",
    ),
    (
        "plain_recipe.py",
        "clean-failure",
        "hardening-failing-step",
        "call 1 dies",
        "a half-made OVERLAY was left behind",
    ),
    (
        "ignores_locks.py",
        "locked-active",
        "hardening-locked-active",
        "",
        "exit status 0 while a qemu-io held ACTIVE open for writing",
    ),
    (
        "uses_shell.py",
        "hostile-names",
        "names-shell",
        "",
        "a bitmap name was run by a shell: HARNESS-CANARY-",
    ),
    # A leftover too broken to judge is a failure of the check, not an error of the harness.
    (
        "leaves_raw_overlay.py",
        "clean-failure",
        "hardening-failing-step",
        "call 1 fails",
        "a half-made OVERLAY was left behind (call 1 of qemu-img bitmap",
    ),
]


# What an installed harness (the wheel, the image) judges from a folder of its own:
# (implementation: reference or a program of tests/faulty, scenario, exit status)
JUDGED = [
    ("reference", "recording-alone", 0),
    ("plain_recipe.py", "recording-alone", 0),
    # Only advisory findings (a hardening check): still conformant.
    ("plain_recipe.py", "hardening-existing-overlay", 0),
    ("omits_granularity.py", "granularity-128k", 1),
]


# (program in tests/faulty, the lifecycle it is run on as JSON events, the rules it must
# trip, no more): tests/conformance/test_lifecycles.py. K = 64 KiB, the disk's cluster size.
_K = 65536
LIFECYCLE_PROGRAMS = [
    (
        "lifecycle_no_carry.py",
        [
            {"event": "checkpoint", "name": "cp0", "granularity": None},
            {"event": "write", "offset": 0, "length": _K, "pattern": 1},
            {"event": "snapshot"},
            {"event": "write", "offset": _K, "length": _K, "pattern": 2},
            {"event": "backup", "name": "cp0"},
        ],
        {"lifecycle-backup-possible"},
    ),
    # Without -g the carried bitmap is 64 KiB where the checkpoint's was 4 KiB: the
    # backup copies more, and misses nothing.
    (
        "lifecycle_no_granularity.py",
        [
            {"event": "checkpoint", "name": "cp0", "granularity": 4096},
            {"event": "write", "offset": 5000, "length": 100, "pattern": 7},
            {"event": "snapshot"},
            {"event": "write", "offset": 70000, "length": 10, "pattern": 8},
            {"event": "backup", "name": "cp0"},
        ],
        set(),
    ),
    # A gap (another tool's snapshot) with a write in it, then a commit into the gap
    # image: the resurrected cp0 misses what was written at 1 MiB.
    (
        "lifecycle_resurrects.py",
        [
            {"event": "checkpoint", "name": "cp0", "granularity": None},
            {"event": "write", "offset": 0, "length": _K, "pattern": 1},
            {"event": "foreign-snapshot"},
            {"event": "write", "offset": 1 << 20, "length": _K, "pattern": 2},
            {"event": "snapshot"},
            {"event": "write", "offset": 2 << 20, "length": 4096, "pattern": 3},
            {"event": "commit", "top": 2, "base": 1},
            {"event": "backup", "name": "cp0"},
        ],
        {"lifecycle-restore"},
    ),
]
