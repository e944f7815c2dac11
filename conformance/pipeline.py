"""The one-way flow for one implementation and one scenario:

    scenario -> built chain -> implementation run -> observed images -> verdicts

The implementation runs once per scenario; every rule is judged from the
same Observation. What does not depend on the implementation (the pristine
chain's facts) is read once per scenario.
"""

import os
import re

from fixtures import chain
from observe import baseline, folder, hardening, run
from rules import verdict
from tools import files


class RunError(Exception):
    """The chain could not be built, run or observed; every rule of it is an error."""


class Pipeline:
    def __init__(self, tools, cache, workdir, timeout):
        self.tools = tools
        self.cache = cache
        self.workdir = workdir
        self.timeout = timeout
        self._baselines = {}
        self._verdicts = {}
        self._unavailable = {}

    def unavailable(self, impl, scenario):
        """Why impl cannot run scenario with this qemu (a skip reason), or None."""
        if impl.name not in self._unavailable:
            self._unavailable[impl.name] = impl.unavailable(self.tools)
        reason = chain.missing(self.tools, scenario)
        return self._unavailable[impl.name] or (f"scenario {scenario.name}: {reason}"
                                                if reason else None)

    def baseline(self, scenario):
        if scenario.name not in self._baselines:
            built = self.cache.pristine(scenario)
            scratch = os.path.join(self.workdir, "baseline", scenario.name)
            self._baselines[scenario.name] = baseline.baseline(self.tools, scenario, built, scratch)
        return self._baselines[scenario.name]

    def observe(self, impl, scenario):
        """Run impl on a fresh copy of scenario's chain and observe the result."""
        facts = self.baseline(scenario)
        built = self._copy(impl, scenario, scenario.name)
        overlay = os.path.join(built.folder, "overlay.qcow2")
        listed = files.listing(self.tools.host, built.folder)
        result = impl.run(self.tools, built.active, overlay, cwd=built.folder,
                          timeout=self.timeout)
        changes = folder.changes(listed, files.listing(self.tools.host, built.folder),
                                 os.path.basename(overlay), result.scratch_files)
        return run.observe(self.tools, result, facts, built.paths, overlay,
                           folder_changes=changes)

    def _copy(self, impl, scenario, name):
        """A fresh copy of scenario's chain in impl's folder of this session."""
        folder = os.path.join(self.workdir, _slug(impl.name), name)
        os.makedirs(os.path.dirname(folder), exist_ok=True)
        return self.cache.copy(scenario, folder)

    def verdicts(self, impl, scenario):
        """{(rule id, subject label): Verdict} for impl on scenario, computed once."""
        key = (impl.name, scenario.name)
        if key not in self._verdicts:
            try:
                self._verdicts[key] = verdict.judge_all(self.observe(impl, scenario), scenario)
            except Exception as e:
                # Remembered, so the other rules report it without a rerun.
                self._verdicts[key] = RunError(f"{type(e).__name__}: {e}")
        if isinstance(self._verdicts[key], RunError):
            # A new exception each time: re-raising one object grows its traceback.
            raise RunError(str(self._verdicts[key]))
        return self._verdicts[key]

    def hardening(self, impl, scenario, rule, subject):
        """The Verdict of a hardening check, on a run of its own."""
        label = re.sub(r"\W+", "-", f"{rule.id}-{subject.label}").strip("-")
        built = self._copy(impl, scenario, f"{scenario.name}.{label}")
        fault = (int(subject.name), subject.side) if subject.kind == "fault" else None
        try:
            facts = hardening.observe(self.tools, impl, rule.id, fault, built,
                                      self.baseline(scenario), self.timeout)
        except Exception as e:
            raise RunError(f"{type(e).__name__}: {e}") from None
        return verdict.judge_hardening(rule.id, facts, subject)


def _slug(name):
    return re.sub(r"[^A-Za-z0-9._-]+", "_", name).strip("_")[:60] or "impl"
