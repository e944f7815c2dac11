"""What a run did to its folder, beside OVERLAY: from listings before and after."""

from dataclasses import dataclass


@dataclass(frozen=True)
class FolderChanges:
    created: tuple  # (relative path, size in bytes), sorted
    removed: tuple  # relative paths, sorted
    scratch: tuple = ()  # (path, size) left in the program's HOME/TMPDIR folder, sorted
    # Relative paths whose size or modification time differ after the run, or that are
    # new (the procedure's own files too), sorted: empty when the run wrote nothing.
    modified: tuple = ()
    held: tuple = ()  # (inode, size) of each image of the chain before the run, bottom up

    def image_before(self, index):
        """(inode, size) of image index before the run; None when not known."""
        return self.held[index] if index < len(self.held) else None


def changes(before, after, created, scratch=(), held=()):
    """The files (not folders) created or removed, except those the procedure creates.

    before and after are files.listing() results; created are the paths,
    relative to the listed folder, the procedure itself makes (OVERLAY).
    Changes to the chain's images are active-untouched's business, judged on
    their contents. scratch is
    RunFacts.scratch_files: the folder that held HOME and TMPDIR was new and
    is gone, so what was listed there before its removal was left by the run.
    held is inspect.file_ids() of the chain's images before the run.
    """
    created = tuple(
        sorted(
            (path, after[path][0]) for path in after.keys() - before.keys() if path not in created
        )
    )
    removed = tuple(sorted(before.keys() - after.keys()))
    modified = tuple(sorted(path for path, seen in after.items() if before.get(path) != seen))
    return FolderChanges(created, removed, tuple(sorted(scratch)), modified, tuple(held))
