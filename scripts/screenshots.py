"""Regenerate the screenshots in docs/screenshots/ (``make screenshots``).

Runs the demo (or takes an existing run folder), prints its report.html to PDF with headless
Chromium and renders the first two pages to PNG with poppler's ``pdftoppm``, so a reader sees
what the client receives; then ``screenshot_letters.py`` shoots one letter of each type from
the same run. Deterministic file names; the PNGs are committed.

    python scripts/screenshots.py [--run RUN_DIR] [--out docs/screenshots]
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def demo_run(work: Path) -> Path:
    """A fresh run of the demo params into ``work`` (the papermill pipeline, as make demo)."""
    from oonplaybook.run import run_client

    return run_client(REPO / "params" / "demo.yaml", out=work / "demo-run", progress=False).run_dir


def report_pages(run_dir: Path, out_dir: Path, pages: int = 2, dpi: int = 80) -> list[Path]:
    """PNGs of the first ``pages`` printed pages of the run's report (report-page-N.png)."""
    from oonplaybook.report import write_report_pdf

    if shutil.which("pdftoppm") is None:
        sys.exit("pdftoppm not found: install poppler-utils (apt-get install -y poppler-utils)")
    with tempfile.TemporaryDirectory() as tmp:
        pdf = Path(tmp) / "report.pdf"
        note = write_report_pdf(run_dir / "report.html", pdf)
        if not pdf.exists():
            sys.exit(note)
        prefix = Path(tmp) / "page"
        subprocess.run(
            [
                "pdftoppm",
                "-png",
                "-r",
                str(dpi),
                "-f",
                "1",
                "-l",
                str(pages),
                str(pdf),
                str(prefix),
            ],
            check=True,
        )
        written = []
        for i, png in enumerate(sorted(Path(tmp).glob("page-*.png")), start=1):
            target = out_dir / f"report-page-{i}.png"
            shutil.copyfile(png, target)
            written.append(target)
    return written


def main() -> None:
    """Write the report screenshots (and any other section's) into ``--out``."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--run", type=Path, help="an existing run folder (default: run the demo)")
    ap.add_argument("--out", type=Path, default=REPO / "docs" / "screenshots")
    args = ap.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="oonplaybook-shots-") as tmp:
        run_dir = args.run or demo_run(Path(tmp))
        for path in report_pages(run_dir, args.out):
            print(path.relative_to(REPO) if path.is_relative_to(REPO) else path)
        letters = REPO / "scripts" / "screenshot_letters.py"  # one letter of each type, same run
        if letters.exists():
            subprocess.run(
                [
                    sys.executable,
                    str(letters),
                    "--run",
                    str(run_dir),
                    "--out",
                    str(args.out / "letters"),
                ],
                check=True,
            )


if __name__ == "__main__":
    main()
