"""The one-way flow for one implementation and one scenario:

    scenario -> built chain -> implementation run -> observed images -> verdicts

The implementation runs once per scenario; every rule is judged from the
same Observation. What does not depend on the implementation (the pristine
chain's facts) is read once per scenario. Both are kept on disk for the
whole session, so that every xdist worker of one session sees them.
"""

import hashlib
import os
import re
import traceback
import uuid
from dataclasses import dataclass

from qcow2_conformance.fixtures import chain
from qcow2_conformance.fixtures.cache import once
from qcow2_conformance.observe import baseline, folder, hardening, inspect
from qcow2_conformance.observe.inspect import InspectError
from qcow2_conformance.procedures import for_scenario
from qcow2_conformance.rules import verdict
from qcow2_conformance.rules.outcomes import ERROR
from qcow2_conformance.tools import command, files


class RunError(Exception):
    """The chain could not be built, run or observed; every rule of it is an error.

    Its text is one line saying what failed, then the traceback of where:
    a bug in the harness must not pass for a fault of the tool.
    """


@dataclass(frozen=True)
class Judged:
    verdicts: dict | None  # {(rule id, subject label): Verdict}; None: not judged
    failure: str | None  # why not, with the traceback
    commands: tuple  # the log line of every command run for it


class Pipeline:
    def __init__(self, tools, cache, workdir, timeout, images=None):
        """workdir: a local folder for stored verdicts; images: the runs' folder
        on the target (default: workdir itself, when the target is this machine)."""
        self.tools = tools
        self.cache = cache
        self.workdir = workdir
        self.images = images or workdir
        self.timeout = timeout
        self._made = set()
        self._baselines = {}
        self._verdicts = {}
        self._unavailable = {}

    def unavailable(self, impl, scenario):
        """Why impl cannot run scenario with this qemu (a skip reason), or None."""
        procedure = for_scenario(scenario)
        key = (impl.name, procedure.name)
        if key not in self._unavailable:
            self._unavailable[key] = procedure.unavailable(impl, self.tools)
        reason = chain.missing(self.tools, scenario)
        return self._unavailable[key] or (f"scenario {scenario.name}: {reason}" if reason else None)

    def baseline(self, scenario):
        # Keyed like the chain cache: the baseline depends on the chain alone.
        key = scenario.chain_digest()
        if key not in self._baselines:

            def compute():
                built = self.cache.pristine(scenario)
                scratch = os.path.join(self.images, "baseline", key)
                infos = self.cache.chain_infos(scenario)
                return baseline.baseline(self.tools, scenario, built, scratch, infos)

            self._baselines[key] = self.cache.shared(f"{key}.baseline", compute)
        return self._baselines[key]

    def observe(self, impl, scenario):
        """Run impl on a fresh copy of scenario's chain and observe the result."""
        procedure = for_scenario(scenario)
        facts = self.baseline(scenario)
        built = self._copy(impl, scenario, scenario.name)
        listed = files.listing(self.tools.host, built.folder)
        # Which files the images are, so a deleted, truncated or replaced one is told apart.
        held = inspect.file_ids(self.tools, built.paths)
        result = procedure.run(
            impl, self.tools, scenario, built, cwd=built.folder, timeout=self.timeout
        )
        changes = folder.changes(
            listed,
            files.listing(self.tools.host, built.folder),
            procedure.created,
            result.scratch_files,
            held,
        )
        return procedure.observe(self.tools, scenario, result, facts, built, changes)

    def _impl_folder(self, impl):
        folder = os.path.join(self.workdir, _slug(impl.name))
        os.makedirs(folder, exist_ok=True)
        return folder

    def _copy(self, impl, scenario, name):
        """A fresh copy of scenario's chain in impl's folder of this session, on the target."""
        folder = os.path.join(self.images, _slug(impl.name))
        if folder not in self._made:
            files.mkdir(self.tools.host, folder)
            self._made.add(folder)
        return self.cache.copy(scenario, os.path.join(folder, name))

    def verdicts(self, impl, scenario):
        """{(rule id, subject label): Verdict} for impl on scenario, computed once a session."""
        key = (impl.name, scenario.name)
        if key not in self._verdicts:
            stored = os.path.join(self._impl_folder(impl), f"{scenario.name}.verdicts")
            self._verdicts[key] = once(stored, lambda: self._judge(impl, scenario))
        judged = self._verdicts[key]
        if judged.failure:
            # A new exception each time: re-raising one object grows its traceback.
            raise RunError("\n".join([judged.failure, "harness commands:", *judged.commands]))
        return judged.verdicts

    def commands(self, impl, scenario):
        """The log lines of the commands the harness ran to judge impl on scenario."""
        self.verdicts(impl, scenario)
        return self._verdicts[(impl.name, scenario.name)].commands

    def _judge(self, impl, scenario):
        """Judged: the verdicts, or why the run could not be judged, with the traceback.

        A failure is kept as text, so every rule of the run reports it
        without running the implementation again.
        """
        with command.recorded() as lines:
            try:
                found = verdict.judge_all(self.observe(impl, scenario), scenario)
            except Exception as e:
                return Judged(
                    None, f"{type(e).__name__}: {e}\n{traceback.format_exc()}", tuple(lines)
                )
        return Judged(found, None, tuple(lines))

    def hardening(self, impl, scenario, rule, subject):
        """The Verdict of a hardening check, on a run of its own."""
        label = re.sub(r"\W+", "-", f"{rule.id}-{subject.label}").strip("-")
        # The harness's own tests may run one check twice in a session: a new folder each time.
        built = self._copy(impl, scenario, f"{scenario.name}.{label}.{uuid.uuid4().hex[:8]}")
        fault = (int(subject.name), subject.side) if subject.kind == "fault" else None
        # Only an image that cannot be read is caught (the check is not evaluated);
        # anything else is the harness's failure and shows its traceback.
        try:
            facts = hardening.observe(
                self.tools, impl, rule.id, fault, built, self.baseline(scenario), self.timeout
            )
        except InspectError as e:
            return verdict.Verdict(rule.id, subject.label, ERROR, f"not evaluated: {e}")
        return verdict.judge(rule.id, facts, subject)


def _slug(name):
    """A folder name for an implementation; the hash keeps 'exec:/a b' and 'exec:/a_b' apart."""
    tag = hashlib.sha256(name.encode("utf-8", "surrogatepass")).hexdigest()[:8]
    return f"{re.sub(r'[^A-Za-z0-9._-]+', '_', name).strip('_')[:50] or 'impl'}-{tag}"
