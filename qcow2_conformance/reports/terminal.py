"""What a conformance run prints: a header naming what is judged, a verdict read in seconds.

pytest's own output is made for a suite's tests, and a conformance test is a
rule judged on a scenario: an advisory finding is no failure, a rule that
could not be judged is no crash. So each conformance test's report gets a
category of its own (pytest_report_teststatus), which the summary line counts
('13 nonconformant, 7 advisory, 2 not evaluated, 18 refused') and which pytest's
FAILURES and ERRORS sections leave out. Only a bug (a test that raised
without verdicts, a failed teardown) stays pytest's error, with its traceback.

By default the progress is one character per implementation run (a group,
conformance/cases.py), and the end is the verdict (reports/findings.py): one
line per failed rule and scenario, per cause of rules not evaluated, per
advisory finding. -v gives pytest's line per test, every finding's detail
(its assertion and the commands the harness ran) and the rules-by-implementations table.
"""

from collections import Counter

import pytest

from qcow2_conformance.fixtures.session import settings
from qcow2_conformance.reports import findings, generated_lines, summary
from qcow2_conformance.rules.families import CONFORMANCE
from qcow2_conformance.rules.outcomes import FAILED, REFUSED

# What a conformance test's report stands for: (category, letter, verbose word).
# The category is what pytest's summary line counts.
PASSED = ("passed", ".", "PASSED")
SKIPPED = ("skipped", "s", "SKIPPED")
RULE_FAILED = ("nonconformant", "F", "NONCONFORMANT")
NOT_EVALUATED = ("not evaluated", "N", "NOT-EVALUATED")
# Exited non-zero and changed nothing: not conformant, but safe.
REFUSED_RUN = ("refused", "R", "REFUSED")
ADVISORY = ("advisory", "A", "ADVISORY")
HARNESS_ERROR = ("error", "E", "ERROR")
# A group's character in the progress is its worst test's.
WORST_FIRST = (HARNESS_ERROR, RULE_FAILED, NOT_EVALUATED, REFUSED_RUN, ADVISORY, PASSED, SKIPPED)
FINDINGS = (RULE_FAILED, NOT_EVALUATED, REFUSED_RUN, ADVISORY)
MARKUP = {".": "green", "s": "yellow", "A": "yellow", "R": "yellow"}
# pytest's summary line counts the categories it does not know in the order
# their first reports reached it: under xdist, the workers' race decided it.
SUMMARY_ORDER = tuple(
    category for category, _, _ in (RULE_FAILED, ADVISORY, NOT_EVALUATED, REFUSED_RUN)
)

# Lines are cut here at least, however narrow the terminal says it is.
NARROWEST = 100


def status(report, case):
    """The status of one report of a conformance test, or None (a passed setup or teardown)."""
    if report.when == "teardown":
        return HARNESS_ERROR if report.failed else None
    if report.skipped:
        return SKIPPED
    if report.passed:
        return PASSED if report.when == "call" else None
    verdicts = dict(report.user_properties).get("verdicts")
    if verdicts is None:
        return HARNESS_ERROR
    if any(v["outcome"] == FAILED for v in verdicts):
        return RULE_FAILED if case.rule.family in CONFORMANCE else ADVISORY
    if any(v["outcome"] == REFUSED for v in verdicts):
        return REFUSED_RUN
    return NOT_EVALUATED


def qemu_source(config, tools):
    """Where the qemu under test came from, as the user chose it."""
    qemu, qemu_img = config.getoption("qemu"), config.getoption("qemu_img")
    if qemu:
        return f"--qemu {qemu}"
    if qemu_img:
        return f"--qemu-img {qemu_img}"
    return "PATH"


class Terminal:
    """The run's header, progress and verdict, on the xdist controller."""

    def __init__(self, config, collector):
        self.config = config
        self.collector = collector
        self.verbose = config.get_verbosity() > 0
        self.group_sizes = None  # {group: tests}
        self.done = Counter()  # group: tests finished
        self.worst = {}  # group: the worst status of its tests so far
        self.tests_done = 0
        self.column = 0  # characters of progress on the current line (0: none open)
        self.details = []  # the reports of findings, for -v
        self.summarizing = False  # pytest_terminal_summary has begun

    def pytest_report_header(self, config):
        harness = settings(config)
        tools = harness.tools()
        impls = ", ".join(impl.name for impl in harness.implementations())
        labels = config.getoption("label")
        if labels:
            impls += f" (label {', '.join(labels)})"
        scenarios = harness.scenarios()
        judged = f"{harness.procedure.name} procedure, {len(scenarios)} scenarios"
        if harness.lifecycles:
            judged = f"{len(scenarios)} lifecycles of one disk (docs/lifecycles.md)"
        return [
            f"qemu judged: {tools.release} at {tools.qemu_img}, from {qemu_source(config, tools)}",
            f"judging: {impls}, {judged}",
        ]

    @pytest.hookimpl(tryfirst=True)
    def pytest_report_teststatus(self, report, config):
        case = self.collector.case_of(report.nodeid)
        if case is None:
            return None
        found = status(report, case)
        if found is None:
            return "", "", ""
        # By default the progress shows implementation runs, not tests (_progress);
        # the short summary at the end still needs the word.
        return found if self.verbose or self.summarizing else (found[0], "", "")

    def pytest_runtest_logreport(self, report):
        case = self.collector.case_of(report.nodeid)
        if case is None:
            return
        found = status(report, case)
        if found in FINDINGS and self.verbose:
            self.details.append(report)
        if found is not None:
            known = self.worst.get(case.group, SKIPPED)
            self.worst[case.group] = min(known, found, key=WORST_FIRST.index)
        if report.when == "teardown" and not self.verbose:
            self._progress(case.group)

    def _progress(self, group):
        """One character when a group's last test is done; the share done at each line's end."""
        if self.group_sizes is None:
            self.group_sizes = Counter(
                self.collector.case_of(nodeid).group for nodeid in self.collector.expected
            )
        reporter = self.config.pluginmanager.get_plugin("terminalreporter")
        self.tests_done += 1
        self.done[group] += 1
        if self.done[group] != self.group_sizes.get(group):
            if self.column and self.tests_done == len(self.collector.expected):
                self._end_line(reporter)
            return
        _, letter, _ = self.worst.get(group, PASSED)
        reporter.write(letter, **{MARKUP.get(letter, "red"): True})
        self.column += 1
        last = self.tests_done == len(self.collector.expected)
        if last or _used(reporter) >= _width(reporter) - len(" [100%]") - 1:
            self._end_line(reporter)

    def _end_line(self, reporter):
        total = max(len(self.collector.expected), 1)
        share = f"[{100 * self.tests_done // total:3d}%]"
        reporter.write(share.rjust(_width(reporter) - _used(reporter) - 1) + "\n")
        self.column = 0

    def pytest_terminal_summary(self, terminalreporter):
        reporter = terminalreporter
        self.summarizing = True
        for category in SUMMARY_ORDER:
            if category in reporter.stats:
                reporter.stats[category] = reporter.stats.pop(category)
        if self.column:
            self._end_line(reporter)
        document = getattr(self.collector, "document", None)
        if document is None:
            return
        drawn = generated_lines.lines(document)
        if drawn:
            reporter.section("generated scenarios")
            for line in drawn:
                reporter.write_line(line)
        if self.details:
            reporter.section("details of each finding")
            for report in self.details:
                _detail(reporter, report)
        reporter.section("rule verdicts")
        records = document["results"]
        procedure = settings(self.config).procedure
        if self.verbose:
            for line in summary.table(records, procedure.name):
                reporter.write_line(line)
        width = max(_width(reporter), NARROWEST)
        found = findings.sections(records, width)
        for heading, lines in (
            ("rules that failed: rule, scenario: why", found.failed),
            (
                "refused, changing nothing (not conformant): implementation: what it said",
                found.refused,
            ),
            ("rules not evaluated: scenario, rules: why", found.not_evaluated),
            ("advisory findings, not part of conformance: rule, scenario: why", found.advisory),
        ):
            if lines:
                reporter.write_sep("-", heading)
                for line in lines:
                    reporter.write_line(line)
        for line, colour in self.collector.verdict_lines():
            reporter.write_line(line, **{colour: True})
        if self.collector.exit_status() != pytest.ExitCode.OK:
            # pytest colours its summary line red only for categories of its own,
            # and chose the colour already: it counts no progress of ours.
            reporter.stats.setdefault("failed", [])
        if hasattr(reporter, "_set_main_color"):
            reporter._set_main_color()


def _width(reporter):
    return reporter._tw.fullwidth


def _used(reporter):
    """Characters on the terminal's current line (without xdist, the test file's path)."""
    return reporter._tw.width_of_current_line


def _detail(reporter, report):
    """A finding's detail, as pytest shows a failure's: its text, then its captured sections."""
    reporter.write_sep("_", report.head_line or report.nodeid)
    for line in report.longreprtext.splitlines():
        reporter.write_line(line)
    for title, content in report.sections:
        reporter.write_sep("-", title)
        for line in content.splitlines():
            reporter.write_line(line)
