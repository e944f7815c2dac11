"""The reference implementation of the offline commit procedure.

    commit the data of COMMIT_TOP .. I1 into COMMIT_BASE
    carried: every NAME whose chain is valid at COMMIT_TOP
    for each carried NAME:
        if COMMIT_BASE lacks NAME, add a recording NAME there, with COMMIT_TOP's granularity
        merge NAME of COMMIT_TOP, I_k, ... into COMMIT_BASE's NAME, walking down
        and stopping at COMMIT_BASE or at the first image without NAME
    re-point ABOVE (the image above COMMIT_TOP, if any) at COMMIT_BASE

It uses qemu's own tools only. Everything it can check is checked before any
file changes, and it refuses what it cannot do safely. The data commit
leaves COMMIT_TOP as it was (-d), so until ABOVE is re-pointed the old chain
still shows the guest the same data, and the merge reads bitmaps nothing
has touched. All bitmap work is one qemu-storage-daemon transaction (one
qemu-img bitmap call per added bitmap and per source, when there is no
daemon).

Usable on its own:  qcow2-commit COMMIT_TOP COMMIT_BASE [ABOVE]
"""

import os
import sys
from dataclasses import dataclass

from qcow2_conformance.tools import command, qemu_img, storage_daemon, toolset


class CommitError(Exception):
    """The commit was refused or failed; the message says which and why."""


@dataclass(frozen=True)
class Layer:
    """One image of the chain, as qemu-img info --backing-chain describes it."""

    path: str  # resolved: symbolic links and relative names followed
    info: dict

    @property
    def format(self):
        return self.info["format"]

    @property
    def stores_bitmaps(self):
        """qcow2 v3: raw and qcow2 v2 (compat 0.10) images cannot hold bitmaps."""
        data = self.info.get("format-specific", {}).get("data", {})
        return self.format == "qcow2" and data.get("compat") != "0.10"

    @property
    def size(self):
        return self.info["virtual-size"]

    def bitmap(self, name):
        """qemu-img's dict of bitmap name ({"name", "flags", "granularity"}), or None."""
        return next((b for b in qemu_img.bitmaps(self.info) if b["name"] == name), None)


def _usable(bitmap):
    return "auto" in bitmap["flags"] and "in-use" not in bitmap["flags"]


def valid_at_top(chain, name):
    """The chain rules with chain[0] as TOP, as the knowledge base's "valid
    bitmap chains" and libvirt's check read them: TOP holds name; the images
    holding it form one unbroken run from TOP down, with no image below the
    run holding it again (a gap); each is recording and consistent.
    """
    held = [layer.bitmap(name) is not None for layer in chain]
    run = held.index(False) if False in held else len(held)
    if run == 0 or any(held[run:]):
        return False
    return all(_usable(layer.bitmap(name)) for layer in chain[:run])


@dataclass(frozen=True)
class Plan:
    above: Layer | None
    subchain: tuple  # COMMIT_TOP first, down to the image right above COMMIT_BASE
    base: Layer
    carried: tuple  # (name, granularity in COMMIT_TOP), in COMMIT_TOP's order

    @property
    def top(self):
        return self.subchain[0]

    def walked(self, name):
        """The images whose name is merged: from COMMIT_TOP down, while they hold it."""
        walked = []
        for layer in self.subchain:
            if layer.bitmap(name) is None:
                break
            walked.append(layer)
        return walked


def plan(tools, top, base, above=None, *, timeout=300):
    """Read the chain and decide everything; raise CommitError for what must be refused."""
    start = os.path.abspath(above or top)
    try:
        # Without -U qemu refuses to open an image another process holds for
        # writing: a commit behind a running VM's back would lose its writes.
        infos = qemu_img.info(tools, start, backing_chain=True, timeout=timeout)
    except command.CommandError as e:
        raise CommitError(f"cannot read the backing chain of {start}: {e}") from None
    chain = [Layer(os.path.realpath(i["filename"]), i) for i in infos]
    top_path, base_path = os.path.realpath(top), os.path.realpath(base)
    if above is not None:
        backing = chain[1].path if len(chain) > 1 else None
        if backing != top_path:
            raise CommitError(
                f"ABOVE {above} is backed by {backing or 'no image'}, not by COMMIT_TOP {top}"
            )
        chain = chain[1:]
    if base_path == top_path:
        raise CommitError(f"COMMIT_BASE {base} is COMMIT_TOP itself; name an image below it")
    paths = [layer.path for layer in chain]
    if base_path not in paths:
        raise CommitError(
            f"COMMIT_BASE {base} is not in the backing chain of COMMIT_TOP {top}"
            f" ({' -> '.join(paths)})"
        )
    at = paths.index(base_path)
    subchain, base_layer = tuple(chain[:at]), chain[at]
    carried = tuple(
        (b["name"], b["granularity"])
        for b in qemu_img.bitmaps(chain[0].info)
        if valid_at_top(chain, b["name"])
    )
    above_layer = None if above is None else Layer(os.path.realpath(start), infos[0])
    result = Plan(above_layer, subchain, base_layer, carried)
    _refuse_unsafe(result)
    return result


def _refuse_unsafe(plan):
    base = plan.base
    # What lies in COMMIT_BASE past COMMIT_TOP's end is hidden from the guest
    # now (reads past a backing file's end are zeros); after the commit it
    # would show. qemu cannot shrink an image that holds bitmaps.
    if base.size > plan.top.size:
        raise CommitError(
            f"COMMIT_BASE {base.path} ({base.size} bytes) is larger than COMMIT_TOP"
            f" {plan.top.path} ({plan.top.size} bytes): the commit would show the guest"
            " what lies past COMMIT_TOP's end"
        )
    if not plan.carried:
        return
    names = ", ".join(repr(n) for n, _ in plan.carried)
    if not base.stores_bitmaps:
        kind = "a raw image" if base.format == "raw" else "a qcow2 v2 (compat 0.10) image"
        raise CommitError(
            f"COMMIT_BASE {base.path} is {kind}, which cannot hold bitmaps,"
            f" and COMMIT_TOP's checkpoints must be carried into it: {names}"
        )
    # A carried name's bitmap in COMMIT_BASE, if any, belongs to its valid
    # chain: recording and consistent, so qemu can merge into it.
    for name, _ in plan.carried:
        for layer in plan.walked(name):
            if layer.size != base.size:
                raise CommitError(
                    f"{layer.path} ({layer.size} bytes) and COMMIT_BASE ({base.size} bytes)"
                    f" differ in virtual size; their bitmaps {name!r} cannot be merged"
                )


def commit(tools, top, base, above=None, *, timeout=300):
    """Commit COMMIT_TOP down into COMMIT_BASE, carry the checkpoints, re-point ABOVE.

    Returns the carried (name, granularity) pairs.
    """
    decided = plan(tools, top, base, above, timeout=timeout)
    qemu_img.commit(
        tools, decided.top.path, decided.base.path, fmt=decided.top.format, timeout=timeout
    )
    _carry(tools, decided, timeout)
    if decided.above is not None:
        _relink(tools, decided, timeout)
    _confirm(tools, decided, timeout)
    return list(decided.carried)


def _carry(tools, plan, timeout):
    base = plan.base
    missing = [(n, g) for n, g in plan.carried if base.bitmap(n) is None]
    if tools.qemu_storage_daemon:
        _carry_in_one_transaction(tools, plan, missing, timeout)
        return
    for name, granularity in plan.carried:
        operations = []
        if (name, granularity) in missing:
            operations += ["--add", "-g", str(granularity)]
        for layer in plan.walked(name):
            operations += ["--merge", name, "-b", layer.path, "-F", layer.format]
            qemu_img.bitmap(tools, base.path, name, *operations, timeout=timeout)
            operations = []


def _carry_in_one_transaction(tools, plan, missing, timeout):
    sources = {}  # path -> node name, for every image some merge reads
    for name, _ in plan.carried:
        for layer in plan.walked(name):
            # Short node names: tools/storage_daemon.py says why.
            sources.setdefault(layer.path, f"s{len(sources)}")
    # qemu stores the bitmaps one transaction adds in reverse order: reversed,
    # COMMIT_BASE lists them in COMMIT_TOP's order.
    actions = [storage_daemon.add_action("b", n, g) for n, g in reversed(missing)]
    actions += [
        storage_daemon.merge_action(
            "b", name, [(sources[layer.path], name) for layer in plan.walked(name)]
        )
        for name, _ in plan.carried
    ]
    # The sources are opened read-only: their files stay byte for byte as they were.
    images = [("b", plan.base.path, False)] + [(n, p, True) for p, n in sources.items()]
    storage_daemon.transaction(
        tools, images, actions, script=f"{plan.base.path}.commit-qmp", timeout=timeout
    )


def _relink(tools, plan, timeout):
    """Point ABOVE at COMMIT_BASE, by a relative name if its old one was (a moved folder works)."""
    above = plan.above
    stored = above.info.get("backing-filename", "")
    backing = plan.base.path
    if not os.path.isabs(stored) and ":" not in stored:
        backing = os.path.relpath(plan.base.path, os.path.dirname(above.path))
    qemu_img.rebase_unsafe(
        tools, above.path, backing, plan.base.format, fmt=above.format, timeout=timeout
    )


def _confirm(tools, plan, timeout):
    """Read the result back: what the procedure promises must be on disk."""
    after = Layer(plan.base.path, qemu_img.info(tools, plan.base.path, timeout=timeout))
    for name, _ in plan.carried:
        bitmap, before = after.bitmap(name), plan.base.bitmap(name)
        if bitmap is None:
            raise CommitError(f"{plan.base.path}: bitmap {name!r} is missing after the merge")
        if "in-use" in bitmap["flags"]:
            raise CommitError(f"{plan.base.path}: bitmap {name!r} is inconsistent after the merge")
        # One COMMIT_BASE held disabled stays so: the algorithm merges into it as it is.
        if (before is None or "auto" in before["flags"]) and "auto" not in bitmap["flags"]:
            raise CommitError(f"{plan.base.path}: bitmap {name!r} is not recording")
    if plan.above is not None:
        info = qemu_img.info(tools, plan.above.path, timeout=timeout)
        backing = info.get("full-backing-filename")
        if backing is None or os.path.realpath(backing) != plan.base.path:
            raise CommitError(f"{plan.above.path} is backed by {backing}, not by COMMIT_BASE")
        if info.get("backing-filename-format") != plan.base.format:
            raise CommitError(
                f"{plan.above.path} records backing format"
                f" {info.get('backing-filename-format')}, not {plan.base.format}"
            )


def main(argv=None):
    args = sys.argv[1:] if argv is None else argv
    if len(args) not in (2, 3):
        print(
            "usage: qcow2-commit COMMIT_TOP COMMIT_BASE [ABOVE]",
            file=sys.stderr,
        )
        return 2
    try:
        tools = toolset.find(toolset.get_host(), os.environ.get("QEMU_IMG"))
        carried = commit(tools, *args)
    except (CommitError, toolset.ToolError, command.CommandError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    print(f"{args[1]}: {args[0]} committed into it, {len(carried)} bitmaps carried")
    return 0


if __name__ == "__main__":
    sys.exit(main())
