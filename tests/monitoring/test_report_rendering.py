"""The HTML report renders in a real browser (headless Chromium screenshot) and reads right."""

from __future__ import annotations

import shutil
import subprocess
from datetime import timedelta
from pathlib import Path

import numpy as np
import pandas as pd
from fraud_training.monitoring.monitor import MonitorOptions, Reference, run_monitor_pass
from fraud_training.monitoring.report import print_report, render_html
from fraud_training.monitoring.window import AuditWindow
from monitoring_data import NOW, features
from PIL import Image
from rich.console import Console

WINDOW_SIZE = (1200, 1400)
VERDICT_RED = (0xB4, 0x23, 0x18)
MAJOR_RED = (0xD9, 0x2D, 0x20)
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
)


def window(rows: int, amount_shift: float) -> AuditWindow:
    """An in-memory audit window with labels on a third of the rows."""
    rng = np.random.default_rng(5)
    probabilities = rng.beta(0.5, 8.0, rows)
    labels = np.where(np.arange(rows) % 3 == 0, (probabilities > 0.2).astype(float), np.nan)
    values = features(rows, 5, amount_shift)
    frame = pd.DataFrame(
        {
            "scored_at": pd.Timestamp(NOW) - pd.to_timedelta(np.arange(rows), unit="s"),
            "fraud_probability": probabilities,
            "decision": np.where(probabilities >= 0.2, "review", "approve"),
            "model_name": "fraud-detector",
            "model_version": "3",
            "latency_ms": rng.gamma(2.0, 1.5, rows),
            "transaction_amount": values["amount"],
            "label": labels,
            "label_lag_s": np.where(np.isnan(labels), np.nan, 86_400.0),
            "features_degraded": 0.0,
            **values,
        }
    )
    return AuditWindow(NOW - timedelta(hours=1), NOW, frame, tuple(values))


def chromium() -> str:
    binary = shutil.which("chromium")
    if binary is None:
        raise FileNotFoundError("chromium not found: run `make system-deps` (Debian chromium)")
    return binary


def screenshot(html: Path, png: Path, profile: Path) -> Image.Image:
    subprocess.run(
        [
            chromium(),
            *CHROMIUM_FLAGS,
            f"--user-data-dir={profile}",
            f"--window-size={WINDOW_SIZE[0]},{WINDOW_SIZE[1]}",
            f"--screenshot={png}",
            html.as_uri(),
        ],
        check=True,
        capture_output=True,
        timeout=120,
    )
    return Image.open(png).convert("RGB")


def pixels_near(image: Image.Image, colour: tuple[int, int, int], tolerance: int = 12) -> int:
    array = np.asarray(image, dtype=np.int16)
    return int((np.abs(array - np.array(colour)).max(axis=2) <= tolerance).sum())


def test_a_drifting_report_renders_with_its_verdict_banner_and_psi_bars(
    reference: Reference, tmp_path: Path
) -> None:
    report = run_monitor_pass(window(5000, amount_shift=0.8), reference)
    html = tmp_path / "report.html"
    html.write_text(render_html(report), encoding="utf-8")

    image = screenshot(html, tmp_path / "report.png", tmp_path / "chromium-profile")

    assert image.size == WINDOW_SIZE
    assert pixels_near(image, VERDICT_RED) > 1500  # the DRIFTING banner
    assert pixels_near(image, MAJOR_RED) > 1500  # the amount bar, in the major band
    background = pixels_near(image, (0xF9, 0xFA, 0xFB), tolerance=3)
    assert background < 0.95 * image.size[0] * image.size[1]  # more than an empty page


def test_the_report_names_the_drifted_feature_and_the_live_metrics(reference: Reference) -> None:
    report = run_monitor_pass(window(5000, amount_shift=0.8), reference)

    html = render_html(report)

    assert "DRIFTING" in html
    assert "<tr class='drifted'><td>amount</td>" in html
    assert "live precision" in html
    assert "fraud-detector/3" in html


def test_a_small_window_says_not_enough_data(reference: Reference) -> None:
    report = run_monitor_pass(
        window(200, amount_shift=0.8), reference, MonitorOptions(min_rows=1000)
    )
    console = Console(record=True, width=120)

    print_report(report, console)

    assert "Not enough data: 200 audited predictions with online history" in render_html(report)
    assert (
        "drift: not enough data (200 rows with online history, at least 1,000 needed)"
        in console.export_text()
    )


def test_data_values_are_escaped_in_the_page(reference: Reference) -> None:
    data = window(1500, amount_shift=0.0)
    frame = data.frame.assign(model_version="<script>alert(1)</script>")
    report = run_monitor_pass(
        AuditWindow(data.start, data.end, frame, data.feature_names), reference
    )

    html = render_html(report)

    assert "<script>" not in html
    assert "&lt;script&gt;" in html
