"""Where a single-connection run puts the server and the load generator.

At one connection every request is two wake-ups across processes: wrk wakes the server, the
server wakes wrk. When the two sit on different vCPUs of this virtual machine, a wake-up now and
then waits for the hypervisor: a 10-line uvloop server answering a constant measured p50 0.06 ms,
p99.5 0.4-1.0 ms and p99.9 2-7 ms that way, against p50 0.016 ms, p99.5 0.04 ms and p99.9
0.09 ms with wrk on its CPU. Those stalls hit about 1 % of requests whatever the server, which
puts a fast server's p99 on the edge of them. So the benchmark measures each server twice:
``free`` (the scheduler decides, as a deployment would) and ``one-cpu`` (every thread of the
server and wrk on the last CPU; PostgreSQL and Redis stay free), and reports both.
"""

from __future__ import annotations

import os

import psutil

FREE = "free"
ONE_CPU = "one-cpu"
PLACEMENTS = (FREE, ONE_CPU)


def cpus_of(placement: str) -> set[int]:
    """The CPUs a placement allows: all of this process's, or the last one of them."""
    allowed = os.sched_getaffinity(0)
    if placement == FREE:
        return set(allowed)
    if placement == ONE_CPU:
        return {max(allowed)}
    raise ValueError(f"unknown placement {placement!r}; expected one of {PLACEMENTS}")


def place_process_tree(pid: int, cpus: set[int]) -> int:
    """Restrict every thread of ``pid`` and of its descendants to ``cpus``; how many threads.

    Threads started later inherit their creator's affinity, so the whole server follows.
    """
    root = psutil.Process(pid)
    threads = 0
    for process in (root, *root.children(recursive=True)):
        for thread in process.threads():
            os.sched_setaffinity(thread.id, cpus)
            threads += 1
    return threads
