"""Screenshots of one letter of each type, as its recipient reads it (``make screenshots``).

Takes a run folder (or runs the demo), picks the first letter of each type from
``artifacts/letters/index.csv`` (plus one staff cover note), renders its Markdown to a styled
HTML page with markdown-it and screenshots it with headless Chromium into
``docs/screenshots/letters/<type>.png``. Deterministic file names; the PNGs are committed.

    python scripts/screenshot_letters.py [--run RUN_DIR] [--out docs/screenshots/letters]
"""

from __future__ import annotations

import argparse
import csv
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
CHROMIUM = ("chromium", "chromium-browser", "google-chrome")

CSS = """
body { font-family: 'DejaVu Sans', Arial, sans-serif; font-size: 13px; line-height: 1.45;
       max-width: 780px; margin: 28px auto; color: #111; }
h1 { font-size: 20px; border-bottom: 2px solid #333; padding-bottom: 4px; }
h2 { font-size: 15px; margin-top: 18px; } h3 { font-size: 13px; }
table { border-collapse: collapse; margin: 8px 0; }
td, th { border: 1px solid #999; padding: 3px 7px; vertical-align: top; }
th { background: #eee; }
"""


def _chromium() -> str:
    """The headless browser's path, or exit naming the package to install."""
    for name in CHROMIUM:
        path = shutil.which(name)
        if path:
            return path
    sys.exit("chromium not found: install it (apt-get install -y chromium)")


def to_html(markdown: str, title: str) -> str:
    """One letter's Markdown as a printable HTML page (tables enabled, merge fields visible)."""
    from markdown_it import MarkdownIt

    body = MarkdownIt("commonmark").enable("table").render(markdown)
    body = body.replace("«", '<mark style="background:#fff3b0">«').replace("»", "»</mark>")
    return f"<!doctype html><html><head><meta charset='utf-8'><title>{title}</title><style>{CSS}</style></head><body>{body}</body></html>"


def screenshot(html: Path, png: Path, *, width: int = 900, height: int = 1400) -> None:
    """Screenshot ``html`` with headless Chromium (fresh profile, no network services)."""
    with tempfile.TemporaryDirectory() as profile:
        from oonplaybook.report import chromium_command

        subprocess.run(
            [
                *chromium_command(_chromium(), profile),
                "--hide-scrollbars",
                f"--screenshot={png}",
                f"--window-size={width},{height}",
                html.as_uri(),
            ],
            check=True,
            capture_output=True,
            timeout=120,
        )


def pick_letters(run_dir: Path) -> dict[str, Path]:
    """The first letter of each type in the run's index, plus the first staff cover note."""
    letters = run_dir / "artifacts" / "letters"
    index = letters / "index.csv"
    if not index.exists():
        sys.exit(f"{index}: no letter index; run the demo first (oonplaybook run params/demo.yaml)")
    picked: dict[str, Path] = {}
    with index.open(encoding="utf-8") as f:
        for row in csv.DictReader(f):
            picked.setdefault(row["letter_type"], letters / row["file"])
            picked.setdefault("staff_cover_note", letters / row["internal_note"])
    return picked


def main() -> None:
    """Write docs/screenshots/letters/<type>.png for a run (the demo when none is given)."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--run", type=Path, help="an existing run folder (default: run the demo)")
    ap.add_argument("--out", type=Path, default=REPO / "docs" / "screenshots" / "letters")
    args = ap.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        run = args.run
        if run is None:
            from oonplaybook.run import run_client

            run = run_client(
                REPO / "params" / "demo.yaml", out=Path(tmp) / "demo-run", progress=False
            ).run_dir
        for kind, md in sorted(pick_letters(run).items()):
            html = Path(tmp) / f"{kind}.html"
            html.write_text(to_html(md.read_text(encoding="utf-8"), kind), encoding="utf-8")
            png = args.out / f"{kind}.png"
            screenshot(html, png)
            print(png.relative_to(REPO) if png.is_relative_to(REPO) else png)


if __name__ == "__main__":
    main()
