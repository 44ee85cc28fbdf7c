"""The one check of "given more than once" that every repeatable option shares."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable


def repeated(values: Iterable[str]) -> list[str]:
    """The values that occur more than once, each named once and sorted, for an error message
    that lists every repeat at once rather than the first."""
    return sorted(value for value, count in Counter(values).items() if count > 1)
