"""Memory checks made before large allocations (search-space graphs of millions of nodes)."""
from __future__ import annotations

import os
import resource


def available_memory_gb() -> float:
    """Memory the process may still use, in GiB: ``MemAvailable`` of ``/proc/meminfo`` on Linux,
    else free physical pages."""
    try:
        with open("/proc/meminfo") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) / 2 ** 20  # kB -> GiB
    except OSError:
        pass
    return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE") / 2 ** 30


def peak_rss_gb() -> float:
    """Peak resident memory of this process so far, in GiB (``ru_maxrss`` is in kB on Linux)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2 ** 20


def check_memory(estimate_gb: float, max_memory_gb: float | None, what: str) -> float:
    """Raise ``MemoryError`` *before* allocating when ``estimate_gb`` exceeds the budget.

    Args:
        estimate_gb: estimated peak memory of the allocation, GiB.
        max_memory_gb: budget in GiB; ``None`` means 90% of :func:`available_memory_gb`.
        what: what would be allocated (for the message).

    Returns:
        The budget used.
    """
    budget = 0.9 * available_memory_gb() if max_memory_gb is None else float(max_memory_gb)
    if estimate_gb > budget:
        raise MemoryError(f"{what} needs an estimated {estimate_gb:.2f} GiB, more than the "
                          f"'max_memory_gb' budget of {budget:.2f} GiB; nothing was allocated. "
                          f"Use a smaller (sub)space, the implicit graph form, fewer hidden "
                          f"units, or raise 'max_memory_gb'.")
    return budget
