"""Observed images: facts read from the image files after a run."""
