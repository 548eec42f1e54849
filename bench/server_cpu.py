"""Where the server's CPU goes under `make bench`'s load: per process and per thread.

`python -m bench.server_cpu [--profile me] [--seconds 20] [--runs 2]` starts `clearway up`
as `make bench` does (fresh data directory, workers, lifted rate limits), warms up, then runs
wrk on the profile and prints, for each run: the throughput; the CPU of every process of the
server per request answered, user and system (the workers, and the background process where
the monitor ingests the request records); and, for one worker, each busy thread's CPU and its
context switches per second (voluntary: it waited, on the GIL or a lock or I/O; involuntary: it
was preempted).

`bench.request_path` measures one request's path in isolation; this measures what a request
costs when every core is shared, which is what `make bench`'s ratio depends on.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from bench.__main__ import PROFILES, clearway_env, customer_token, free_port, serve, wrk
from bench.loadtest import process_tree
from bench.request_path import cpu_times, proc_stat


@dataclass(frozen=True)
class Thread:
    cpu: float
    voluntary: int
    involuntary: int


def threads(pid: int) -> dict[int, Thread]:
    """Each thread of a process: its CPU seconds and context switches so far."""
    found = {}
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            status = dict(line.split(":", 1) for line in (task / "status").read_text().splitlines())
            user, system = cpu_times(pid, int(task.name))
        except (OSError, ValueError):
            continue  # the thread ended meanwhile
        found[int(task.name)] = Thread(
            user + system,
            int(status["voluntary_ctxt_switches"]),
            int(status["nonvoluntary_ctxt_switches"]),
        )
    return found


def role(pid: int) -> str:
    """What a process of `clearway up --workers N` is: the supervisor, a worker, or the
    background process (the one started niced: jobs, relays, the monitor's ingest)."""
    command = Path(f"/proc/{pid}/cmdline").read_bytes()
    if b"resource_tracker" in command:
        return "multiprocessing's resource tracker"
    if b"multiprocessing" not in command:
        return "supervisor"
    niceness = int(proc_stat(pid)[16])  # field 19 of proc(5)
    return f"background (nice {niceness})" if niceness > 0 else "worker"


def measure(pid: int, url: str, token: str | None, seconds: int) -> None:
    members = sorted(process_tree(pid))
    before = {member: cpu_times(member) for member in members}
    # With `--workers 1` there are none: the one process serves, and runs everything else too.
    worker = next((member for member in members if role(member) == "worker"), pid)
    threads_before = threads(worker)
    started = time.monotonic()
    result = wrk(url, seconds, 100, token)
    elapsed = time.monotonic() - started
    requests = int(result["requests"])
    rate, errors = requests / elapsed, int(result["errors"])
    print(f"{rate:,.0f} req/s, p99 {result['p99']:.1f} ms, errors {errors}")
    total = 0.0
    for member in members:
        user0, system0 = before[member]
        try:
            user, system = cpu_times(member)
        except OSError:
            continue
        spent = user + system - user0 - system0
        total += spent
        if spent > 0.01 * elapsed:
            print(
                f"  pid {member:>7} {spent / elapsed:5.2f} cores"
                f"  {1e6 * spent / requests:6.1f} µs/request"
                f" (system {1e6 * (system - system0) / requests:4.1f})"
                f"  {'the one process' if member == worker == pid else role(member)}"
            )
    print(
        f"  the server in all: {total / elapsed:.2f} cores, {1e6 * total / requests:.1f} µs/request"
    )
    print(f"  threads of worker {worker} (CPU; context switches per second):")
    for tid, thread in threads(worker).items():
        was = threads_before.get(tid)
        if was is None or thread.cpu - was.cpu < 0.01 * elapsed:
            continue
        # Python names no thread for the system; the one whose id is the process's runs the loop.
        name = "event loop" if tid == worker else f"thread {tid}"
        print(
            f"    {name:<16} {(thread.cpu - was.cpu) / elapsed:5.2f} cores"
            f"  voluntary {(thread.voluntary - was.voluntary) / elapsed:7,.0f}"
            f"  involuntary {(thread.involuntary - was.involuntary) / elapsed:7,.0f}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--profile", choices=["me", "lookup"], default="me")
    parser.add_argument("--seconds", type=int, default=20)
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    args = parser.parse_args()
    profile = PROFILES[args.profile]
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryDirectory(prefix="clearway-bench-") as tmp:
        env = clearway_env(Path(tmp), port) | {"CLEARWAY_WORKERS": str(args.workers)}
        command = [sys.executable, "-c", "from clearway.cli import main; main()", "up"]
        ready = f"({args.workers} workers)" if args.workers > 1 else ""
        with serve(command, env, f"{base}/readyz", ready) as server:
            token = customer_token(base) if profile.authenticated else None
            wrk(base + profile.path, 3, 100, token)  # warm-up
            for run in range(1, args.runs + 1):
                print(f"{profile.name}, run {run}: ", end="")
                measure(server.pid, base + profile.path, token, args.seconds)


if __name__ == "__main__":
    main()
