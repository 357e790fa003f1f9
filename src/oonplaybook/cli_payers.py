"""``oonplaybook payers``: fit the payer behaviour models and write effects and scorecard."""

from __future__ import annotations

from pathlib import Path

import typer


def register(app: typer.Typer) -> None:
    """Add the ``payers`` command to the CLI."""

    @app.command("payers")
    def payers_cmd(
        claim_lines: Path = typer.Argument(..., help="canonical claim lines (.parquet or .csv)"),
        out: Path = typer.Option(
            ..., "--out", help="folder for payer_effects.csv, scorecard.csv, payer_models.json"
        ),
        locality: str | None = typer.Option(
            None,
            "--locality",
            help="default Medicare MAC-locality (e.g. 13202-01) for lines without one",
        ),
        year: int = typer.Option(2025, "--year", help="Medicare PFS year for pricing lines"),
        appeals: Path | None = typer.Option(
            None,
            "--appeals",
            help="appeal history (.parquet/.csv); default: appeals.parquet beside the claim lines",
        ),
        benchmarks: Path | None = typer.Option(
            None,
            "--benchmarks",
            help="benchmark table; default: benchmarks.parquet beside the claim lines",
        ),
        cutoff: str | None = typer.Option(
            None, "--cutoff", help="data cut-off date YYYY-MM-DD (default: latest remit)"
        ),
        seed: int = typer.Option(0, "--seed", help="seed for the simulated null distributions"),
    ) -> None:
        """Denials, payment level, time to pay, appeals, drift and repricing per payer, with CIs."""
        import re

        import pandas as pd

        from oonplaybook.payers import fit_all
        from oonplaybook.payers.io import (
            PayerInputError,
            attach_medicare,
            check_columns,
            read_table,
            write_outputs,
        )

        def fail(msg: str) -> None:
            typer.echo(f"error: {msg}", err=True)
            raise typer.Exit(code=2)

        if locality is not None and not re.match(r"^\d{5}-\d{1,2}$", locality):
            fail(f"--locality {locality!r} must look like 13202-01 (MAC-locality)")
        if cutoff is not None:
            try:
                pd.Timestamp(cutoff)
            except ValueError:
                fail(f"--cutoff {cutoff!r} is not a date; use YYYY-MM-DD")
        try:
            lines = read_table(claim_lines)
            check_columns(lines, str(claim_lines))
            bpath = benchmarks or claim_lines.with_name("benchmarks.parquet")
            bench = read_table(bpath) if (benchmarks or bpath.exists()) else None
            apath = appeals or claim_lines.with_name("appeals.parquet")
            app = read_table(apath) if (appeals or apath.is_file()) else None
        except PayerInputError as e:
            fail(str(e))
        try:
            lines, source = attach_medicare(lines, bench, year=year, locality=locality)
        except PayerInputError as e:
            fail(str(e))
        except Exception as e:  # noqa: BLE001 - pricing failed: the other models still run
            source = (
                f"no Medicare benchmark ({type(e).__name__}: {e}); payment models skipped: "
                "run the benchmark stage or pass --locality/--year"
            )
            typer.echo(f"warning: {source}", err=True)
        try:
            pm = fit_all(lines, app, cutoff_date=cutoff, seed=seed)
        except ValueError as e:
            fail(f"{claim_lines}: {e}")
        paths = write_outputs(pm, out)

        from rich.console import Console
        from rich.table import Table

        sc = pm.scorecard().sort_values("rank")
        t = Table(title=f"Payer scorecard ({source})")
        for c in (
            "rank",
            "payer",
            "claims",
            "denial OR",
            "x Medicare",
            "median days from service"
            if pm.time_to_pay is not None and pm.time_to_pay.clock == "service"
            else "median days",
            "drift",
            "repricer",
        ):
            t.add_column(c)
        for _, r in sc.iterrows():
            t.add_row(
                str(r["rank"]),
                r["payer"],
                f"{r['claims']:,}",
                "n/a" if pd.isna(r["denial_odds_ratio"]) else f"{r['denial_odds_ratio']:.2f}",
                "n/a"
                if pd.isna(r["paid_multiple_of_medicare"])
                else f"{r['paid_multiple_of_medicare']:.2f}",
                "n/a" if pd.isna(r.get("median_days_to_pay")) else f"{r['median_days_to_pay']:.0f}",
                f"{r['drift_month']} x{r['drift_size']:.2f}" if r["drift_flag"] else "-",
                "yes" if r["repricer_flag"] else "-",
            )
        con = Console()
        con.print(t)
        for k, v in sorted(pm.errors.items()):
            con.print(f"[yellow]not fit[/yellow] {k}: {v}")
        for p in paths.values():
            con.print(f"wrote {p}")
