"""Virtual environments of the reference systems the benchmarks compare against (MLServer,
Evidently): kept out of the project's own venv, since their pins conflict with ours, and made once
in the cache with uv from binary wheels only."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
CACHE = Path(os.environ.get("FRAUDOPS_CACHE", Path.home() / ".cache/fraudops"))


def ensure_venv(
    venv: Path, requirements: Sequence[str], what: str, ready: Callable[[Path], bool]
) -> Path:
    """``venv`` with ``requirements`` installed, created on first use; ``ready`` says whether an
    existing one is usable (so a half-made one is completed rather than trusted)."""
    if ready(venv):
        return venv
    uv = REPO / ".venv" / "bin" / "uv"
    print(f"creating {venv} ({what})...", flush=True)
    subprocess.run([str(uv), "venv", "-q", "--python", sys.executable, str(venv)], check=True)
    subprocess.run(
        [
            str(uv),
            *("pip", "install", "-q", "--python", str(venv / "bin" / "python")),
            *("--only-binary", ":all:"),
            *requirements,
        ],
        check=True,
    )
    return venv
