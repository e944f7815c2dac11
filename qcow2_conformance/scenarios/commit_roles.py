"""The catalog's fields for commit scenarios, and their checks.

A file whose top says procedure = "commit" holds commit scenarios. Each marks
two images of its chain with `role`: "commit-top", the top of the subchain to
commit, and "commit-base", the image it is committed into, below it. An image
above commit-top makes it an intermediate commit; none, an active commit.
"""

from qcow2_conformance.scenarios.errors import CatalogError
from qcow2_conformance.scenarios.model import (
    COMMIT,
    COMMIT_BASE,
    COMMIT_ROLES,
    COMMIT_TOP,
)


def commit_role(role, where):
    """An image's `role`, checked: COMMIT_TOP, COMMIT_BASE or None."""
    if isinstance(role, list) and set(role) == set(COMMIT_ROLES):
        raise CatalogError(
            f"{where}: field 'role': one image cannot be both commit-top and commit-base;"
            " the base must lie below the top"
        )
    if role is not None and role not in COMMIT_ROLES:
        raise CatalogError(
            f"{where}: field 'role' is {role!r}; use {COMMIT_TOP!r} or {COMMIT_BASE!r}"
        )
    return role


def check_procedure(scenario, where):
    """A commit scenario marks one COMMIT_TOP above one COMMIT_BASE; a snapshot one neither."""
    marked = [(i, image.commit_role) for i, image in enumerate(scenario.images, 1)]
    if scenario.procedure != COMMIT:
        for i, role in marked:
            if role:
                raise CatalogError(
                    f"{where}: image {i}: field 'role' is for commit scenarios; put"
                    f' procedure = "commit" at the top of the file'
                )
        return
    if scenario.hardening:
        raise CatalogError(
            f"{where}: field 'hardening': the commit procedure has no hardening checks; remove it"
        )
    for role in COMMIT_ROLES:
        found = [i for i, r in marked if r == role]
        if not found:
            raise CatalogError(
                f"{where}: no image has role = {role!r}; mark the image"
                + (" to commit" if role == COMMIT_TOP else " to commit into")
            )
        if len(found) > 1:
            raise CatalogError(
                f"{where}: images {found[0]} and {found[1]} both have role = {role!r}; mark one"
            )
    top, base = scenario.commit_top, scenario.commit_base
    if base > top:
        raise CatalogError(
            f"{where}: image {base + 1} (commit-base) is above image {top + 1} (commit-top);"
            " the base must lie below the top"
        )
    image = scenario.images[base]
    carried = scenario.carried_at_commit_top()
    if image.format != "qcow2" and carried:
        raise CatalogError(
            f"{where}: image {base + 1} (commit-base) is {image.format}, but the commit must"
            f" create bitmap {carried[0][:40]!r} in it (its chain is valid at the commit-top);"
            " make the base qcow2 or break that chain"
        )
