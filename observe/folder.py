"""What a run did to its folder, beside OVERLAY: from listings before and after."""

from dataclasses import dataclass


@dataclass(frozen=True)
class FolderChanges:
    created: tuple  # (relative path, size in bytes), sorted
    removed: tuple  # relative paths, sorted


def changes(before, after, overlay):
    """The files (not folders) created or removed, except OVERLAY.

    before and after are files.listing() results; overlay is OVERLAY's path
    relative to the listed folder. Changes to the chain's images are
    active-untouched's business, judged on their contents.
    """
    created = tuple(
        sorted((path, after[path][0]) for path in after.keys() - before.keys() if path != overlay)
    )
    removed = tuple(sorted(before.keys() - after.keys()))
    return FolderChanges(created, removed)
