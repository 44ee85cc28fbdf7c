"""Reading samples out of the Prometheus text format in tests."""

from __future__ import annotations


def sample(text: str, metric: str, /, **labels: str) -> float:
    """The value of one sample in Prometheus text format (labels in any order)."""
    for line in text.splitlines():
        series, _, value = line.rpartition(" ")
        name, _, label_text = series.partition("{")
        if name == metric and all(f'{k}="{v}"' in label_text for k, v in labels.items()):
            return float(value)
    raise AssertionError(f"no sample {metric} {labels} in /metrics")
