# Copyright 2026 mec_coop maintainers
# SPDX-License-Identifier: AGPL-3.0-or-later
"""
Handing a model's freed buffers back to the operating system.

A torch CPU forward pass allocates its activations through glibc's ``malloc`` and frees them at
the end. glibc keeps freed memory in its heaps for reuse instead of unmapping it, so a process
stays at the resident size of its largest pass: the edge runs one batch of crops per offloaded
frame, one crop per person the camera reported, and every batch larger than any before raised
its RSS for good, in steps, as the edge's did in the 30-minute soak. ``malloc_trim(0)`` returns
the free pages of every heap; ``benchmarks/edge_memory.py`` (``docs/figures/edge_memory.json``)
measures both with and without it.
"""

import ctypes
import functools
from typing import Callable, Optional


@functools.lru_cache(maxsize=1)
def _malloc_trim() -> Optional[Callable[[int], int]]:
    # The process's own symbols: glibc's malloc_trim where the C library is glibc.
    return getattr(ctypes.CDLL(None), 'malloc_trim', None)


def release_free_heap() -> bool:
    """
    Return the C heap's free pages to the operating system (glibc ``malloc_trim(0)``).

    Returns False where the C library has no ``malloc_trim`` (not glibc): nothing is done there.
    """
    trim = _malloc_trim()
    if trim is None:
        return False
    trim(0)
    return True
