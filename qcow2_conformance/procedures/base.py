"""What a procedure is: the one object that holds everything that differs between procedures.

A procedure (procedures/snapshot.py, procedures/commit.py: one module each)
says how an implementation is called for it, which files a run may create
beside the chain, how a run is observed, which rules judge it, how its
scenarios are drawn for --generate and which drawn ones are not kept, and
what the verdict line calls its conformance rules. Chains, copies, the
pipeline, verdicts and reports are the same for every procedure: they are
handed the object, and never branch on its name.

An implementation runs a procedure when it has the procedure's method (the
Protocol in the procedure's module: `snapshot(...)`, `commit(...)`); the
procedure calls that method with the paths its scenario marks.
"""

from qcow2_conformance.rules import rules_of
from qcow2_conformance.rules.families import CONFORMANCE, order
from qcow2_conformance.scenarios import filters


class Procedure:
    name = ""  # the catalog's `procedure` field, --procedure, run.procedure in results
    implemented_by = None  # the Protocol of the method an implementation runs it with
    created = ()  # file names a run may create in the chain's folder (not litter)
    drawn_prefix = ""  # drawn scenarios are named PREFIX-SEED-NNNN

    def unavailable(self, impl, tools):
        """Why impl cannot run this procedure here (a skip reason), or None."""
        if not isinstance(impl, self.implemented_by):
            note = getattr(impl, "scope_note", "")
            return f"{impl.name}: does not run the {self.name} procedure" + (
                f": {note}" if note else ""
            )
        return impl.unavailable(tools)

    def run(self, impl, tools, scenario, built, *, cwd, timeout):
        """Call impl's method for this procedure on built, scenario's chain: RunFacts."""
        raise NotImplementedError

    def observe(self, tools, scenario, result, baseline, built, changes):
        """The facts this procedure's rules judge, after result (RunFacts) on built.

        baseline: the pristine chain's facts; changes: the folder's changes
        (observe/folder.py), beside the files `created` names."""
        raise NotImplementedError

    def rules(self):
        """The rules that judge a run of this procedure, in report order."""
        return rules_of(self.name)

    def conformance_families(self):
        """The families of its rules that make conformance, in report order: what the
        verdict line calls them ('every snapshot and chain rule held')."""
        found = {r.family for r in self.rules() if r.family in CONFORMANCE}
        return tuple(sorted(found, key=order))

    # --generate: how scenarios of this procedure are drawn (scenarios/strategies.py).

    def chains(self):
        """The hypothesis strategy of its chains (hypothesis is imported only by a run that
        draws): a tuple of Images, bottom to top, marked as its scenarios need."""
        raise NotImplementedError

    def refusal(self, scenario):
        """Why a drawn scenario is not kept (qemu refuses it, it costs too much), or None."""
        return filters.refusal(scenario)
