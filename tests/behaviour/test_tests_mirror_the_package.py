"""The test of a module is found from its name (docs/development.md, "Where a test is").

The test of qcow2_conformance/PKG/MOD.py is tests/PKG/test_MOD.py, of a top
module qcow2_conformance/MOD.py tests/test_MOD.py (or of a test helper
tests/MOD.py); tests of what spans the harness are in tests/behaviour/, named
for the behaviour. A module without a test file of its own is in ELSEWHERE
with where it is tested, so a new module without a test fails here, and so
does a test file whose module was renamed or removed.
"""

import os
import re

from support import ROOT

PACKAGE = os.path.join(ROOT, "qcow2_conformance")
TESTS = os.path.join(ROOT, "tests")
BEHAVIOUR = "behaviour"

# Module (from qcow2_conformance/) -> why it has no test file of its own: where it is tested.
ELSEWHERE = {
    "cli.py": "the console scripts, run as users run them: behaviour/test_end_to_end.py,"
    " behaviour/test_exit_status.py, behaviour/test_install.py",
    "plugin.py": "the pytest plugin: behaviour/test_install.py (inert elsewhere),"
    " behaviour/test_ci_doc.py (its options)",
    "statuses.py": "a table of exit statuses: behaviour/test_exit_status.py",
    "conformance/generated_summary.py": "runs on drawn scenarios: behaviour/test_generated_runs.py",
    "conformance/pipeline.py": "the flow of one run: behaviour/test_faulty_implementations.py,"
    " rules/test_crosscheck.py, tools/test_toolset.py",
    "conformance/lifecycle_machine.py": "drawing and shrinking lifecycles:"
    " conformance/test_lifecycles.py",
    "conformance/lifecycle_run.py": "the executor of lifecycle events:"
    " conformance/test_lifecycles.py",
    "fixtures/lifecycle_options.py": "the lifecycle options and their one-line errors:"
    " conformance/test_lifecycles.py",
    "observe/chain_state.py": "a Disk's links and bitmaps: conformance/test_lifecycle_disk.py",
    "observe/damage.py": "deleted, truncated and replaced images, by the faulty programs of"
    " DAMAGE_PROGRAMS: behaviour/test_faulty_implementations.py",
    "observe/lifecycle_facts.py": "plain data the lifecycle rules judge:"
    " scenarios/test_lifecycle_model.py",
    "procedures/lifecycle.py": "who is judged on lifecycles: conformance/test_lifecycles.py",
    "rules/lifecycle.py": "the two lifecycle rules on hand-made facts:"
    " scenarios/test_lifecycle_model.py",
    "scenarios/lifecycle.py": "events and replay files: scenarios/test_lifecycle_model.py",
    "tools/nbd.py": "nbdinfo and nbdcopy, in real backups: conformance/test_lifecycle_disk.py",
    "procedures/base.py": "what a procedure is, by its two: behaviour/test_procedures.py",
    "procedures/snapshot.py": "behaviour/test_procedures.py, behaviour/test_end_to_end.py",
    "procedures/commit.py": "behaviour/test_procedures.py, behaviour/test_commit_procedure.py",
    "conformance/shrink.py": "behaviour/test_generated_runs.py",
    "conformance/suite.py": "the suite's fixtures and hooks, in every conformance run:"
    " behaviour/test_end_to_end.py, behaviour/test_parallel.py",
    "conformance/test_rules.py": "the conformance suite itself, run by every behaviour test"
    " that runs qcow2-conformance: behaviour/test_end_to_end.py",
    "fixtures/bitmap_groups.py": "the order bitmaps are built in, both ways of building:"
    " fixtures/test_chain.py, fixtures/test_chain_daemon.py",
    "fixtures/cache.py": "behaviour/test_parallel.py (computed once), tools/test_locks.py",
    "fixtures/inputs.py": "bad input, one line each: behaviour/test_end_to_end.py,"
    " behaviour/test_exit_status.py",
    "fixtures/interrupts.py": "behaviour/test_interrupt.py",
    "fixtures/target.py": "behaviour/test_remote.py",
    "implementations/base.py": "what every implementation is: implementations/test_reference.py,"
    " rules/test_verdict.py",
    "implementations/libvirt_domain.py": "against a real libvirtd: behaviour/test_libvirt.py,"
    " behaviour/test_interrupt.py",
    "implementations/libvirt_live.py": "behaviour/test_libvirt.py",
    "implementations/libvirt_offline.py": "behaviour/test_libvirt.py",
    "implementations/registry.py": "resolving names: implementations/test_reference.py,"
    " implementations/test_commit_reference.py, behaviour/test_libvirt.py",
    "implementations/sweep.py": "behaviour/test_interrupt.py, behaviour/test_libvirt.py",
    "observe/baseline.py": "rules/test_crosscheck.py, behaviour/test_parallel.py",
    "observe/commit_run.py": "behaviour/test_commit_procedure.py",
    "observe/extents.py": "fixtures/test_chain.py, implementations/test_commit_reference.py",
    "observe/facts.py": "plain data: rules/test_verdict.py builds it by hand",
    "observe/folder.py": "behaviour/test_runaway_programs.py, implementations/test_external.py",
    "observe/reader.py": "tools/test_agent.py, behaviour/test_remote.py",
    "qcow2/dirty.py": "qcow2/test_bitmaps.py, qcow2/test_image.py",
    "qcow2/errors.py": "every reader test expects its errors: qcow2/test_header.py,"
    " behaviour/test_reader_fuzz.py",
    "qcow2/fileio.py": "qcow2/test_image.py",
    "qcow2/layout.py": "checked as a header is read: qcow2/test_header.py (bad headers)",
    "reports/collector.py": "the results file and exit status of real runs:"
    " behaviour/test_end_to_end.py, behaviour/test_exit_status.py",
    "reports/findings.py": "reports/test_terminal.py",
    "reports/generated_lines.py": "behaviour/test_generated_runs.py",
    "reports/markdown.py": "reports/test_html.py, behaviour/test_table_views.py",
    "reports/results.py": "reports/test_compare.py, behaviour/test_end_to_end.py",
    "reports/summary.py": "the terminal table: behaviour/test_table_views.py",
    "rules/backup.py": "on hand-made facts: rules/test_verdict.py",
    "rules/chain.py": "on hand-made facts: rules/test_verdict.py",
    "rules/commit.py": "a faulty program per rule: behaviour/test_commit_procedure.py",
    "rules/exit_status.py": "behaviour/test_faulty_implementations.py",
    "rules/families.py": "rules/test_registry.py, reports/test_table.py",
    "rules/hardening.py": "observe/test_hardening.py",
    "rules/outcomes.py": "a table of outcomes: behaviour/test_table_views.py",
    "rules/snapshot.py": "on hand-made facts: rules/test_verdict.py",
    "rules/subjects.py": "rules/test_verdict.py, observe/test_hardening.py",
    "scenarios/checkpoints.py": "rules/test_verdict.py (the chain rules agree with it)",
    "scenarios/commit_shapes.py": "scenarios/test_strategies.py",
    "scenarios/drawn.py": "behaviour/test_generated_runs.py",
    "scenarios/errors.py": "one line per broken file: scenarios/test_loader.py",
    "scenarios/filters.py": "scenarios/test_strategies.py",
    "scenarios/isolation.py": "scenarios/test_strategies.py",
    "scenarios/model.py": "plain data: scenarios/test_loader.py, scenarios/test_writer.py",
    "tools/apt.py": "tools/test_releases.py",
    "tools/bundle.py": "tools/test_agent.py",
    "tools/faults.py": "observe/test_hardening.py",
    "tools/files.py": "tools/test_command.py (in-process operations),"
    " implementations/test_external.py,"
    " observe/test_inspect.py",
    "tools/hosts.py": "behaviour/test_remote.py",
    "tools/processes.py": "behaviour/test_faulty_implementations.py, behaviour/test_interrupt.py",
    "tools/qemu_img.py": "every test that builds a chain; behaviour/test_reader_on_qemu_images.py",
    "tools/qemu_nbd.py": "tools/test_toolset.py, implementations/test_reference.py",
    "tools/storage_daemon.py": "implementations/test_reference.py,"
    " implementations/test_commit_reference.py",
    "tools/virsh.py": "behaviour/test_libvirt.py",
}


def modules():
    """Every module of the package, from qcow2_conformance/; a package's __init__.py
    and __main__.py are tested through what they import."""
    found = set()
    for folder, _, names in os.walk(PACKAGE):
        for name in names:
            if name.endswith(".py") and name not in ("__init__.py", "__main__.py"):
                found.add(os.path.relpath(os.path.join(folder, name), PACKAGE))
    return found


def own_test_files():
    """Every test file but the behaviour tests, from tests/."""
    found = set()
    for folder, _, names in os.walk(TESTS):
        for name in names:
            if re.fullmatch(r"test_\w+\.py", name):
                found.add(os.path.relpath(os.path.join(folder, name), TESTS))
    return {f for f in found if not f.startswith(BEHAVIOUR + os.sep)}


def module_of(test_file):
    folder, name = os.path.split(test_file)
    return os.path.join(folder, name.removeprefix("test_"))


def test_every_test_file_names_a_module():
    stale = sorted(
        f
        for f in own_test_files()
        if module_of(f) not in modules()
        and not (os.sep not in f and os.path.exists(os.path.join(TESTS, module_of(f))))
    )
    assert not stale, f"tests of no module, move them to tests/{BEHAVIOUR}/ or rename: {stale}"


def test_every_module_has_a_test_file_or_says_where_it_is_tested():
    untested = modules() - {module_of(f) for f in own_test_files()}
    missing = sorted(untested - ELSEWHERE.keys())
    assert not missing, (
        f"add tests/PKG/test_MOD.py, or say in ELSEWHERE where it is tested: {missing}"
    )
    stale = sorted(ELSEWHERE.keys() - untested)
    assert not stale, f"in ELSEWHERE, but no such module, or it has a test file: {stale}"


def test_where_a_module_is_tested_names_test_files_that_exist():
    named = {f for why in ELSEWHERE.values() for f in re.findall(r"[\w/]*test_\w+\.py", why)}
    gone = sorted(f for f in named if not os.path.exists(os.path.join(TESTS, f)))
    assert not gone, f"ELSEWHERE names test files that are not in tests/: {gone}"
