"""`python -m devcluster up|down|status`: one long-lived devcluster for a person (`make demo`).

Its working directory is `<repo>/.fraudops/devcluster` (git-ignored), so the kubeconfig path is
always the same; `up` leaves the processes running in the background and returns.
"""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path

from .cluster import STATE_FILE, DevCluster, start, stop

DEFAULT_WORKDIR = Path(__file__).resolve().parents[2] / ".fraudops" / "devcluster"


def _running(workdir: Path) -> DevCluster | None:
    if not (workdir / STATE_FILE).exists():
        return None
    return DevCluster.load(workdir)


def up(workdir: Path) -> int:
    cluster = _running(workdir)
    if cluster is not None and cluster.alive():
        print(f"devcluster already running: {cluster.api_url}")
    else:
        if cluster is not None:
            stop(cluster, keep_workdir=False)
        shutil.rmtree(workdir, ignore_errors=True)
        cluster = start(workdir, keep_workdir=False)
        print(
            f"devcluster up in {cluster.start_seconds}s "
            f"(API server ready after {cluster.api_ready_seconds}s): {cluster.api_url}"
        )
    print(f"kubeconfig: {cluster.kubeconfig}")
    print(f"  export KUBECONFIG={cluster.kubeconfig}")
    print(f"  export PATH={cluster.bin_dir}:$PATH   # kubectl and helm of this release")
    print(f"logs: {cluster.log_dir}")
    return 0


def down(workdir: Path) -> int:
    cluster = _running(workdir)
    if cluster is None:
        print("devcluster is not running")
        return 0
    stop(cluster, keep_workdir=False)
    print("devcluster stopped")
    return 0


def status(workdir: Path) -> int:
    cluster = _running(workdir)
    if cluster is None or not cluster.alive():
        print("devcluster is not running")
        return 1
    print(f"devcluster running: {cluster.api_url}\nkubeconfig: {cluster.kubeconfig}")
    for name, pid in cluster.pids.items():
        print(f"  {name}: pid {pid}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m devcluster", description=__doc__)
    parser.add_argument("command", choices=("up", "down", "status"))
    parser.add_argument("--workdir", type=Path, default=DEFAULT_WORKDIR)
    args = parser.parse_args(argv)
    return {"up": up, "down": down, "status": status}[args.command](args.workdir)


if __name__ == "__main__":
    sys.exit(main())
