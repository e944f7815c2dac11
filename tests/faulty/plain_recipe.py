#!/usr/bin/env python3
"""no-clobber, clean-failure: the procedure right, but qemu-img create overwrites
an existing OVERLAY, and a failure half-way leaves the half-made OVERLAY."""

import recipe

recipe.main(recipe.snapshot)
