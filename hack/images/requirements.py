"""Print the requirements of one of pyproject.toml's component groups, one per line.

The image build installs a component's third-party stack in a layer of its own, before the
project's code is copied in, so editing code never reinstalls dependencies. This resolves the
group (the shared `dependencies` plus the group, following `fraudops[...]` references) straight
from pyproject.toml, the one place they are defined.

    python3 requirements.py pyproject.toml serving
"""

from __future__ import annotations

import re
import sys
import tomllib
from pathlib import Path

_SELF = re.compile(r"^(?P<name>[A-Za-z0-9_.-]+)\[(?P<extras>[^\]]+)\]$")


def requirements(pyproject: dict, group: str) -> list[str]:
    """The shared dependencies plus `group`'s, self-references expanded, in a stable order."""
    project = pyproject["project"]
    groups = project.get("optional-dependencies", {})
    if group not in groups:
        raise SystemExit(f"no optional-dependencies group {group!r} in pyproject.toml")
    seen: list[str] = list(project.get("dependencies", []))
    pending, visited = [group], set()
    while pending:
        name = pending.pop(0)
        if name in visited:
            continue
        visited.add(name)
        for requirement in groups[name]:
            match = _SELF.match(requirement)
            if match and match["name"] == project["name"]:
                pending.extend(e.strip() for e in match["extras"].split(","))
            elif requirement not in seen:
                seen.append(requirement)
    return seen


def main(argv: list[str]) -> int:
    if len(argv) != 3:
        raise SystemExit("usage: requirements.py PYPROJECT GROUP")
    data = tomllib.loads(Path(argv[1]).read_text())
    print("\n".join(requirements(data, argv[2])))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
