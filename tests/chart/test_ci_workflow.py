"""The users' CI workflow (.github/workflows) is valid for GitHub Actions, checked by actionlint
(built by the Makefile from its Go module), and has the jobs the README promises."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import pytest
import yaml
from platform_chart import REPO

WORKFLOWS = REPO / ".github" / "workflows"


def actionlint() -> Path:
    """The Makefile's actionlint: $FRAUDOPS_ACTIONLINT, else the cache path of the version the
    Makefile pins (one definition: ACTIONLINT_VERSION there)."""
    if path := os.environ.get("FRAUDOPS_ACTIONLINT"):
        return Path(path)
    version = re.search(r"^ACTIONLINT_VERSION := (\S+)$", (REPO / "Makefile").read_text(), re.M)
    assert version, "ACTIONLINT_VERSION is not set in the Makefile"
    return Path.home() / ".cache" / "fraudops" / "bin" / f"actionlint-{version.group(1)}"


def lint(*paths: Path) -> subprocess.CompletedProcess[str]:
    binary = actionlint()
    if not binary.exists():
        pytest.fail(f"{binary} is missing: run `make {binary}` (make test builds it)")
    return subprocess.run(
        [str(binary), "-no-color", *map(str, paths)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        cwd=REPO,
    )


def test_the_workflows_are_actionlint_clean() -> None:
    result = lint(*sorted(WORKFLOWS.glob("*.y*ml")))

    assert (result.returncode, result.stdout) == (0, "")


def test_actionlint_refuses_a_job_that_needs_a_missing_job(tmp_path: Path) -> None:
    workflow = tmp_path / ".github" / "workflows" / "broken.yaml"
    workflow.parent.mkdir(parents=True)
    workflow.write_text(
        "on: push\njobs:\n  e2e:\n    needs: [build]\n    runs-on: ubuntu-24.04\n"
        "    steps:\n      - run: echo\n"
    )

    result = lint(workflow)

    assert result.returncode == 1
    assert 'job "e2e" needs job "build" which does not exist' in result.stdout


def test_the_ci_workflow_has_lint_tests_chart_image_and_kind_jobs() -> None:
    workflow = yaml.safe_load((WORKFLOWS / "ci.yaml").read_text())
    kind_steps = "\n".join(step.get("run", "") for step in workflow["jobs"]["kind-e2e"]["steps"])

    assert set(workflow["jobs"]) == {"lint", "unit-tests", "chart", "image", "kind-e2e"}
    assert "-f charts/fraudops/values-kind.yaml" in kind_steps
    assert "manifests/samples/minimal.yaml" in kind_steps
    assert "/predict" in kind_steps
