"""Write the dashboards' JSON into the chart (``PYTHONPATH=hack python -m fraudops_dashboards``)."""

from __future__ import annotations

from fraudops_dashboards import rendered_files


def main() -> None:
    """Render every dashboard and write the files that changed."""
    for path, text in rendered_files().items():
        path.parent.mkdir(parents=True, exist_ok=True)
        if not path.exists() or path.read_text() != text:
            path.write_text(text)
            print(f"wrote {path}")


if __name__ == "__main__":
    main()
