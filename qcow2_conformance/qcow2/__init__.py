"""A small, read-only, pure-Python qcow2 reader.

It reads the header, header extensions, persistent dirty bitmaps and the
active L1/L2 mapping of one image file, and rejects damaged or hostile
files with Qcow2Error instead of trusting them.
"""

from .bitmaps import Bitmap
from .clusters import Extent
from .errors import Qcow2Error
from .header import Header
from .image import Qcow2Image, open_image, probe_format

__all__ = [
    "Bitmap",
    "Extent",
    "Header",
    "Qcow2Error",
    "Qcow2Image",
    "open_image",
    "probe_format",
]
