"""The one-way flow for one implementation and one scenario:

    scenario -> built chain -> implementation run -> observed images -> verdicts

The implementation runs once per scenario; every rule is judged from the
same Observation.
"""

import os
import re

from observe import inspect
from rules import verdict


class Pipeline:
    def __init__(self, tools, cache, workdir, timeout):
        self.tools = tools
        self.cache = cache
        self.workdir = workdir
        self.timeout = timeout
        self._before = {}
        self._verdicts = {}

    def before(self, scenario):
        """Facts of the pristine chain, read once per scenario."""
        if scenario.name not in self._before:
            built = self.cache.pristine(scenario)
            self._before[scenario.name] = inspect.chain_facts(built.paths)
        return self._before[scenario.name]

    def observe(self, impl, scenario):
        """Run impl on a fresh copy of scenario's chain and observe the result."""
        folder = os.path.join(self.workdir, _slug(impl.name), scenario.name)
        os.makedirs(os.path.dirname(folder), exist_ok=True)
        built = self.cache.copy(scenario, folder)
        overlay = os.path.join(folder, "overlay.qcow2")
        run = impl.run(self.tools, built.active, overlay, cwd=folder, timeout=self.timeout)
        return inspect.observe(self.tools, run, self.before(scenario), built.paths, overlay)

    def verdicts(self, impl, scenario):
        """{rule id: Verdict} for impl on scenario, computed once."""
        key = (impl.name, scenario.name)
        if key not in self._verdicts:
            try:
                self._verdicts[key] = verdict.judge_all(self.observe(impl, scenario))
            except Exception as e:
                # Remembered, so the other rules report it without a rerun.
                self._verdicts[key] = e
        if isinstance(self._verdicts[key], Exception):
            raise self._verdicts[key]
        return self._verdicts[key]


def _slug(name):
    return re.sub(r"[^A-Za-z0-9._-]+", "_", name).strip("_")[:60] or "impl"
