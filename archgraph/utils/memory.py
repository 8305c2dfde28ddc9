"""Memory checks made before large allocations (search-space graphs of millions of nodes)."""
from __future__ import annotations

import os
import resource

_GIB = 2 ** 30


def _meminfo_gb() -> float:
    """``MemAvailable`` of ``/proc/meminfo`` on Linux, else free physical pages, in GiB."""
    try:
        with open("/proc/meminfo") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) / 2 ** 20  # kB -> GiB
    except OSError:
        pass
    return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE") / _GIB


def _status_kb(field: str) -> int | None:
    """A ``kB`` field of ``/proc/self/status`` (``VmSize``, ``VmRSS``), or ``None``."""
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        pass
    return None


def _rlimit_as_gb() -> float | None:
    """Address space the process may still map under ``RLIMIT_AS`` (``ulimit -v``), GiB."""
    soft, _ = resource.getrlimit(resource.RLIMIT_AS)
    if soft == resource.RLIM_INFINITY:
        return None
    used = _status_kb("VmSize")
    return max(soft / _GIB - (used or 0) / 2 ** 20, 0.0)


def _read_int(path: str) -> int | None:
    try:
        with open(path) as fh:
            text = fh.read().strip()
    except OSError:
        return None
    return int(text) if text.isdigit() else None  # "max" (no limit) -> None


def _cgroup_gb() -> float | None:
    """Memory left under this process's cgroup limit (v2 ``memory.max`` or v1
    ``memory.limit_in_bytes``), GiB, or ``None`` without a limit."""
    try:
        with open("/proc/self/cgroup") as fh:
            lines = fh.read().splitlines()
    except OSError:
        return None
    for line in lines:
        hierarchy, controllers, path = (line.split(":", 2) + ["", ""])[:3]
        if hierarchy == "0" and controllers == "":  # cgroup v2
            base = "/sys/fs/cgroup" + path.rstrip("/")
            limit = _read_int(base + "/memory.max")
            usage = _read_int(base + "/memory.current")
        elif "memory" in controllers.split(","):  # cgroup v1
            base = "/sys/fs/cgroup/memory" + path.rstrip("/")
            limit = _read_int(base + "/memory.limit_in_bytes")
            usage = _read_int(base + "/memory.usage_in_bytes")
            if limit is not None and limit >= 2 ** 60:  # v1 spells "no limit" as ~2^63
                limit = None
        else:
            continue
        if limit is not None:
            return max(limit - (usage or 0), 0) / _GIB
    return None


def available_memory_gb() -> float:
    """Memory the process may still use, in GiB: the least of ``MemAvailable`` (free physical
    memory), what ``RLIMIT_AS`` (``ulimit -v``) still lets it map, and what its cgroup's memory
    limit still allows (containers, batch schedulers)."""
    limits = [_meminfo_gb(), _rlimit_as_gb(), _cgroup_gb()]
    return min(v for v in limits if v is not None)


def peak_rss_gb() -> float:
    """Peak resident memory of this process so far, in GiB (``ru_maxrss`` is in kB on Linux)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2 ** 20


_HINT = ("Use a smaller (sub)space, the implicit graph form, fewer hidden units, or raise "
         "'max_memory_gb'.")


def check_memory(estimate_gb: float, max_memory_gb: float | None, what: str,
                 hint: str = _HINT) -> float:
    """Raise ``MemoryError`` *before* allocating when ``estimate_gb`` exceeds the budget.

    Args:
        estimate_gb: estimated peak memory of the allocation, GiB.
        max_memory_gb: budget in GiB; ``None`` means 90% of :func:`available_memory_gb`.
        what: what would be allocated (for the message).
        hint: what the user can do instead (for the message).

    Returns:
        The budget used.
    """
    budget = 0.9 * available_memory_gb() if max_memory_gb is None else float(max_memory_gb)
    if estimate_gb > budget:
        raise MemoryError(f"{what} needs an estimated {estimate_gb:.2f} GiB, more than the "
                          f"'max_memory_gb' budget of {budget:.2f} GiB; nothing was allocated. "
                          f"{hint}")
    return budget
