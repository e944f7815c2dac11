"""Collect one record per conformance test, write the results, set the exit status.

Runs on the xdist controller (or the only process): workers send their test
reports there. A report names its case by its test id (conformance/cases.py),
as in the scheduler's table: the case itself does not travel with each of a
test's three reports (it was a sixth of what they carried, as JSON).

Exit status: 0 when every conformance rule (snapshot and chain, or commit) held (advisory findings
are reported, with a warning line), 1 when one failed or could not be
evaluated, when the implementation refused a scenario (exited non-zero,
changing nothing: safe, but not conformant; the last line counts refusals
apart), or when results are missing; --strict-advisory makes advisory findings
fail the run too. Bad input ends the run earlier with 2 (fixtures.session).
"""

import datetime
import os

import pytest

from qcow2_conformance import __version__
from qcow2_conformance.conformance.cases import cases, param_id
from qcow2_conformance.conformance.generated_summary import Shrinker, exercised
from qcow2_conformance.conformance.generated_summary import summary as generated_summary
from qcow2_conformance.fixtures.session import is_active, is_worker, settings
from qcow2_conformance.implementations.sweep import uses_libvirt
from qcow2_conformance.reports import html, markdown, results
from qcow2_conformance.reports.terminal import Terminal
from qcow2_conformance.rules.outcomes import ERROR, FAILED, PASSED, REFUSED, SKIPPED
from qcow2_conformance.statuses import USAGE
from qcow2_conformance.tools import toolset, virsh


def companions(results_path):
    """The report and Markdown summary beside a results file.

    Beside the default results.json they are report.html and summary.md;
    beside NAME.json, NAME.report.html and NAME.summary.md, so runs that
    share a folder keep their own.
    """
    folder, name = os.path.split(results_path)
    stem = os.path.splitext(name)[0]
    prefix = "" if stem == "results" else stem + "."
    return {
        "html": os.path.join(folder, f"{prefix}report.html"),
        "markdown": os.path.join(folder, f"{prefix}summary.md"),
    }


# How a lifecycle verdict's message gives the command that replays it (conformance/lifecycles.py).
REPLAY = "qcow2-conformance --lifecycle-replay "


def _now():
    return datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds")


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config):
    if not is_active(config) or is_worker(config):
        return
    harness = settings(config)
    # Every input is checked here, before xdist starts workers, so bad input
    # stops the run at once with one line.
    harness.check_results_path()
    harness.tools()
    harness.target.folder()
    harness.implementations()
    harness.scenarios()
    if not config.option.xmlpath:
        config.option.xmlpath = os.path.splitext(settings(config).results)[0] + ".junit.xml"
    labels = config.getoption("label")
    if labels and len(labels) != len(harness.impl_specs):
        pytest.exit(
            f"harness: --label given {len(labels)} times for {len(harness.impl_specs)} --impl;"
            " give one --label per --impl, in the same order",
            returncode=USAGE,
        )
    collector = Collector(config)
    config.pluginmanager.register(collector, "harness-results")
    config.pluginmanager.register(Terminal(config, collector), "harness-terminal")


class Collector:
    def __init__(self, config):
        self.config = config
        self.started = _now()
        self.records = {}
        self.expected = set()  # node ids of every conformance test collected
        self.cases = None  # {test id: Case}
        self.others_failed = False
        self.labels = None  # {implementation name: --label}

    def label_of(self, impl):
        """{"label": NAME} for an implementation --label names, else {}."""
        if self.labels is None:
            harness = settings(self.config)
            given = self.config.getoption("label") or []
            self.labels = {i.name: label for i, label in zip(harness.implementations(), given)}
        return {"label": self.labels[impl.name]} if impl.name in self.labels else {}

    def case_of(self, nodeid):
        """The Case of a conformance test, None for any other test."""
        if self.cases is None:
            harness = settings(self.config)
            found = cases(harness.implementations(), harness.scenarios())
            self.cases = {case.id: case for case in found}
        return self.cases.get(param_id(nodeid))

    @pytest.hookimpl(trylast=True)
    def pytest_collection_modifyitems(self, items):
        # Last: after -k and -m have deselected theirs, which are not missing.
        self.expected.update(i.nodeid for i in items if self.case_of(i.nodeid))

    def pytest_xdist_node_collection_finished(self, node, ids):
        # Under xdist the workers collect; each reports the same ids.
        self.expected.update(i for i in ids if self.case_of(i))

    @pytest.hookimpl
    def pytest_runtest_logreport(self, report):
        """One record per subject of the test's rule, from its verdicts or its outcome."""
        case = self.case_of(report.nodeid)
        if case is None:
            # Another test of the session (a suite embedding test_rule): it fails the run as usual.
            self.others_failed = self.others_failed or report.failed
            return
        props = dict(report.user_properties)
        found = _verdicts(report, [s.label for s in case.subjects], props.get("verdicts"))
        if found is None:
            return
        head = {
            **self.label_of(case.impl),
            "implementation": case.impl.name,
            "scenario": case.scenario.name,
            "rule": case.rule.id,
            "family": case.rule.family,
        }
        for subject, outcome, message in found:
            key = (report.nodeid, subject)
            known = self.records.get(key)
            # A failed teardown outranks an earlier pass.
            if known is None or known["outcome"] == PASSED:
                self.records[key] = {
                    **head,
                    "subject": subject,
                    "outcome": outcome,
                    "message": message,
                    "host": props.get("host"),
                }

    @pytest.hookimpl(trylast=True)
    def pytest_sessionfinish(self, session):
        if not self.records:
            return
        harness = settings(self.config)
        tools = harness.tools()
        run = {
            "implementation": ", ".join(harness.impl_specs),
            "procedure": harness.procedure.name,
            "qemu_img": tools.qemu_img,
            "qemu_version": tools.release,
            "qemu": self.config.getoption("qemu") or "PATH",
            "qemu_versions": toolset.versions(tools),
            "host": harness.target.spec,
            "host_name": harness.target.name(),
            "started": self.started,
            "finished": _now(),
            "harness_version": __version__,
        }
        if self.config.getoption("label"):
            run["labels"] = {
                impl.name: self.label_of(impl)["label"] for impl in harness.implementations()
            }
        missing = sorted(self.expected - {nodeid for nodeid, _ in self.records})
        if missing:
            # A worker that died takes its tests' results with it: say which.
            run["missing"] = missing
        if uses_libvirt(harness):
            run["libvirt_uri"] = harness.libvirt_uri
            run["libvirt_version"] = virsh.version(tools.host, harness.libvirt_uri)
        if harness.drawing is not None:
            run["generated"] = self._generated(harness)
        self.document = results.document(run, list(self.records.values()))
        self.document["scenarios"] = {
            s.name: {"family": s.family, "description": s.description, "chain": s.summary()}
            for s in harness.scenarios()
        }
        if harness.drawing is not None:
            for name, rules in exercised(self.records.values()).items():
                self.document["scenarios"][name]["exercised"] = rules
        results.write(harness.results, self.document)
        self.pages = companions(harness.results)
        html.write(self.pages["html"], [self.document])
        markdown.write_summary(self.pages["markdown"], [self.document])
        if session.exitstatus in (pytest.ExitCode.OK, pytest.ExitCode.TESTS_FAILED):
            session.exitstatus = self.exit_status()

    def _generated(self, harness):
        """run.generated, after shrinking each failing rule's scenario with --shrink."""
        records = list(self.records.values())
        shrinker = None
        if self.config.getoption("shrink"):
            shrinker = Shrinker(harness, records, self.config.getoption("shrink_budget"))
        try:
            return generated_summary(harness, records, shrinker)
        finally:
            if shrinker:
                shrinker.close()

    def exit_status(self):
        """1 for a conformance finding, a missing result, nothing judged at all, or a
        failed test that is not the harness's; advisory findings only if strict."""
        conformance, advisory = results.findings(self.document["results"])
        failed = (
            conformance
            or not results.judged(self.document["results"])
            or self.document["run"].get("missing")
            or self.others_failed
            or (advisory and self.config.getoption("strict_advisory"))
        )
        return pytest.ExitCode.TESTS_FAILED if failed else pytest.ExitCode.OK

    def verdict_lines(self):
        """[(line, colour)]: the lines that end the run's verdict in the terminal."""
        lines = []
        missing = self.document["run"].get("missing", [])
        if missing:
            lines.append(
                (
                    f"no result for {len(missing)} tests (listed under"
                    " run.missing in the results file)",
                    "red",
                )
            )
        conformance, advisory = results.findings(self.document["results"])
        if advisory:
            families = sorted({r["family"] for r in advisory})
            consequence = (
                "--strict-advisory: they fail the run"
                if self.config.getoption("strict_advisory")
                else "not part of conformance; --strict-advisory makes them fail the run"
            )
            lines.append(
                (
                    f"warning: {len(advisory)} advisory findings ({', '.join(families)});"
                    f" {consequence}",
                    "yellow",
                )
            )
        lines += [(line, "red") for line in replay_lines(self.document["results"])]
        # 'snapshot and chain', 'commit': the families of the procedure's rules that count.
        kinds = " and ".join(settings(self.config).procedure.conformance_families())
        refused = [r for r in conformance if r["outcome"] == REFUSED]
        bad = len(conformance) - len(refused)
        if conformance:
            line = "conformance: " + "; ".join(
                ([f"{bad} {kinds} verdicts failed or not evaluated"] if bad else [])
                + (
                    [
                        f"{len(refused)} scenario{'s' if len(refused) > 1 else ''} refused,"
                        " changing nothing (safe, not conformant)"
                    ]
                    if refused
                    else []
                )
            )
        elif not results.judged(self.document["results"]):
            line = f"conformance: nothing judged: every {kinds} verdict was skipped (see why)"
        else:
            line = f"conformance: every {kinds} rule held"
        lines.append((line, "green" if line.endswith("held") else "red"))
        lines.append(
            (
                f"results: {settings(self.config).results} (report:"
                f" {os.path.basename(self.pages['html'])}, summary:"
                f" {os.path.basename(self.pages['markdown'])}, beside it)",
                "bold",
            )
        )
        return lines


def replay_lines(records):
    """'replay: COMMAND' for each failing lifecycle's shrunk replay file, once each."""
    found = dict.fromkeys(
        "replay: " + r["message"][r["message"].index(REPLAY) :]
        for r in records
        if r["outcome"] == FAILED and REPLAY in r["message"]
    )
    return list(found)


def _verdicts(report, subjects, given):
    """[(subject, outcome, message)] a report stands for, or None.

    A test that got its verdicts carries them (given); one that never did (the
    run could not be judged, the implementation is unavailable, a teardown
    failed) gives its own outcome to every subject of its rule.
    """
    if report.when == "teardown":
        if report.failed:
            message = "teardown: " + _crash_message(report)
            return [(subject, ERROR, message) for subject in subjects]
        return None
    if given is not None and (report.when == "call" or not report.passed):
        return [(v["subject"], v["outcome"], v["message"]) for v in given]
    if report.when == "setup" and report.failed:
        return [(subject, ERROR, _crash_message(report)) for subject in subjects]
    if report.skipped:
        return [(subject, SKIPPED, _skip_reason(report)) for subject in subjects]
    return None


def _crash_message(report):
    crash = getattr(report.longrepr, "reprcrash", None)
    if crash is not None:
        return crash.message.splitlines()[0] if crash.message else ""
    return str(report.longrepr).strip().splitlines()[-1] if report.longrepr else ""


def _skip_reason(report):
    if isinstance(report.longrepr, tuple):
        return report.longrepr[2].removeprefix("Skipped: ")
    return _crash_message(report)
