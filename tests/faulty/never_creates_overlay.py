#!/usr/bin/env python3
"""completes: claims success without creating OVERLAY."""

print("snapshot taken")
