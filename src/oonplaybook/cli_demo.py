"""``oonplaybook demo-data``: write the synthetic demo portfolio and its planted truth."""

from __future__ import annotations

import time
from datetime import date
from pathlib import Path

import typer

#: demo.DEFAULT_START (kept literal so the CLI starts without importing pandas; a test checks)
DEMO_START = "2025-05-01"
#: demo.CHUNK_LINES (kept literal for the same reason; tests/test_demo_streaming.py checks)
DEMO_CHUNK_LINES = 250_000


def register(app: typer.Typer) -> None:
    """Add the ``demo-data`` command to the CLI."""

    @app.command("demo-data")
    def demo_data_cmd(
        out: Path = typer.Option(..., "--out", help="folder to write the demo data into"),
        lines: int = typer.Option(20000, "--lines", help="number of claim lines (>= 1)"),
        seed: int = typer.Option(0, "--seed", help="random seed (same seed, same bytes)"),
        start: str = typer.Option(DEMO_START, "--start", help="first service date (ISO)"),
        months: int = typer.Option(18, "--months", help="months of service dates (>= 12)"),
        remits: bool = typer.Option(
            True, "--remits/--no-remits", help="also write the 835 remittances (remits/*.835)"
        ),
        chunk_lines: int = typer.Option(
            DEMO_CHUNK_LINES,
            "--chunk-lines",
            help="lines generated and written per chunk (bounds memory; a demo up to this "
            "size is one chunk)",
        ),
    ) -> None:
        """Generate the demo OON portfolio: claims_export.csv, remits/*.835, appeals.csv, truth.json.

        Demos larger than --chunk-lines are generated and written chunk by chunk (memory stays
        that of one chunk, about 1.5 GB at the default 250,000 lines): see demo.write_streaming.
        """
        from rich.console import Console
        from rich.table import Table

        from oonplaybook import demo

        if lines < 1:
            typer.echo(
                f"error: --lines {lines}: give at least 1 line (e.g. --lines 20000)", err=True
            )
            raise typer.Exit(code=2)
        if seed < 0:
            typer.echo(
                f"error: --seed {seed}: use a non-negative integer (e.g. --seed 0)", err=True
            )
            raise typer.Exit(code=2)
        if months < 12:
            typer.echo(
                f"error: --months {months}: use at least 12 (the cut payer cuts at month 10)",
                err=True,
            )
            raise typer.Exit(code=2)
        try:
            date.fromisoformat(start)
        except ValueError:
            typer.echo(f"error: --start {start!r} is not a date; use YYYY-MM-DD", err=True)
            raise typer.Exit(code=2) from None
        if chunk_lines < 1:
            typer.echo(f"error: --chunk-lines {chunk_lines}: give at least 1", err=True)
            raise typer.Exit(code=2)
        if out.exists() and not out.is_dir():
            typer.echo(f"error: --out {out} is a file; give a folder", err=True)
            raise typer.Exit(code=2)

        console = Console(stderr=True)
        t0 = time.perf_counter()
        n_chunks = len(demo.chunk_sizes(lines, chunk_lines))

        def progress(k: int, n: int, done: int) -> None:
            if n > 1:
                console.print(
                    f"chunk {k}/{n}: {done:,} of {lines:,} lines in {time.perf_counter() - t0:.1f} s"
                )

        truth, paths = demo.write_streaming(
            out, lines, seed, start=start, months=months, remits=remits,
            chunk_lines=chunk_lines, progress=progress,
        )  # fmt: skip
        t2 = time.perf_counter()

        table = Table(
            title=f"demo portfolio: {lines:,} lines, {truth['claims']:,} claims, seed {seed}"
        )
        for col in ("payer", "behaviour", "denial OR", "x Medicare", "pay HR", "planted"):
            table.add_column(col)
        for name, p in sorted(truth["payers"].items()):
            planted = []
            if p["repricer"]:
                planted.append(f"repriced by {p['repricer']}")
            if p["cut_month"]:
                planted.append(f"cut x{p['cut_factor']} from {p['cut_month']}")
            if p["er_prior_auth_denial_rate"]:
                planted.append(f"CO-197 on {p['er_prior_auth_denial_rate']:.0%} of ER claims")
            table.add_row(
                name,
                p["behaviour"],
                f"{p['denial_odds_ratio']:.2f}",
                f"{p['paid_multiple_of_medicare']:.2f}",
                f"{p['payment_hazard_ratio']:.2f}",
                "; ".join(planted),
            )
        console.print(table)
        console.print(
            f"generated and written in {t2 - t0:.1f} s ({n_chunks} chunk"
            f"{'s' if n_chunks > 1 else ''}); "
            f"service {truth['start_date']} to {truth['end_date']}, cut-off {truth['cutoff_date']}"
        )
        for key, path in paths.items():
            console.print(f"  {key:14s} {path}")
        typer.echo(str(out))
