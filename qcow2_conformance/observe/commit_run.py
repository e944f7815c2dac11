"""Observe a run of the commit procedure: the images after it, then probe the new top.

The pristine chain is the Baseline. After the run every image of the chain
is read again (those the commit took out may be gone), qemu-img compares
what a guest sees through the new chain with what it saw through the old
one, qemu-img check looks at COMMIT_BASE and ABOVE, and last a probe writes
through the new top, as a guest would after the commit, so
commit-backup-ready can see whether the chain's bitmaps track it.
"""

import os

from qcow2_conformance.observe import damage, inspect
from qcow2_conformance.observe.facts import CommitObservation, ProbeFacts
from qcow2_conformance.observe.snapshot_run import probe_writes, write_probe
from qcow2_conformance.tools import command, qemu_img


def observe(tools, scenario, run, baseline, chain_paths, folder_changes=None):
    top, base, above = scenario.commit_top, scenario.commit_base, scenario.above
    reads = inspect.read_images(
        tools, [(path, before.role) for path, before in zip(chain_paths, baseline.images)]
    )
    # The images that stay in the chain: COMMIT_BASE, those below it, ABOVE and above.
    # The commit takes the others out; what becomes of their files is the tool's choice.
    marks = {base: "COMMIT_BASE", above: "ABOVE"}
    names = [marks.get(i, image.role) for i, image in enumerate(baseline.images)]
    found = {
        i: hurt
        for i, hurt in damage.of_chain(chain_paths, names, reads, folder_changes).items()
        if i <= base or i > top
    }
    after = [None if i in found and found[i].lost else r.facts for i, r in enumerate(reads)]
    unreadable = {}
    for i, (read, path, before) in enumerate(zip(reads, chain_paths, baseline.images)):
        if i in found and found[i].lost:
            unreadable[i] = found[i].line
        elif read.error:
            gone = f"{before.role} ({os.path.basename(path)}) no longer exists"
            unreadable[i] = read.error if read.exists else gone

    def intact(index):
        """No image from index down is lost: qemu can open the chain there."""
        return not any(d.lost for i, d in found.items() if i <= index)

    checks, same, probe = {}, None, None
    for index in (base, above):
        image = after[index] if index is not None else None
        if image is not None and image.format == "qcow2" and intact(index):
            checks[index] = inspect.qemu_check(tools, image.path)
    base_after = after[base]
    if run.exit_status == 0 and base_after and base_after.format == baseline.images[base].format:
        # Compared through ABOVE (or COMMIT_BASE): the images above it did not change.
        old = baseline.images[above if above is not None else top]
        new = after[above] if above is not None else base_after
        if new is not None and intact(above if above is not None else base):
            try:
                same = qemu_img.compare(
                    tools, old.path, new.path, fmt=old.format, second_fmt=new.format
                )
            except command.CommandError as e:
                # qemu cannot open the new chain: the guest would see nothing of it.
                same = (False, str(e))
        new_top = after[-1] if above is not None else base_after
        if new_top is not None and intact(len(after) - 1):
            probe = _probe(tools, new_top, {i.path: i.role for i in after if i})
    return CommitObservation(
        run,
        baseline,
        top,
        base,
        above,
        tuple(after),
        unreadable,
        same,
        checks,
        probe,
        folder_changes,
        found,
    )


def _probe(tools, new_top, roles):
    """Write through the new top, then read the chain its backing links make, top first."""
    writes = probe_writes(new_top.virtual_size)
    try:
        write_probe(tools, new_top.path, writes, new_top.format)
        return ProbeFacts(writes, linked_chain(tools, new_top.path, roles), None, None)
    except (command.CommandError, inspect.InspectError) as e:
        return ProbeFacts(writes, (), None, str(e))


def linked_chain(tools, path, roles):
    """ImageFacts from path down its backing links, top first; roles: path -> role.

    Paths are the reader's, resolved on the target (ImageFacts.path, backing_path).
    """
    chain = []
    while path and len(chain) <= len(roles):
        facts = inspect.image_facts(tools, path, roles.get(path, path))
        chain.append(facts)
        path = facts.backing_path
    return tuple(chain)
