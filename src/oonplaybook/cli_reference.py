"""``oonplaybook price``, ``oonplaybook reference import|show`` and ``oonplaybook benchmark``."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table


def _fail(msg: str) -> None:
    Console(stderr=True, soft_wrap=True).print(f"[red]{msg}[/red]", highlight=False)
    raise typer.Exit(2)


def register(app: typer.Typer) -> None:
    """Add the price, reference and benchmark commands."""
    reference_app = typer.Typer(help="Medicare PFS reference tables (packaged and imported).")
    app.add_typer(reference_app, name="reference")

    @app.command("price")
    def price_cmd(
        code: str = typer.Argument(..., help="CPT/HCPCS code, e.g. 99285 (quote 00790)"),
        modifier: str = typer.Option("", "--modifier", "-m", help="e.g. 26, TC, 50, 80, QK"),
        locality: str = typer.Option(..., "--locality", "-l", help="MAC-locality, e.g. 13202-01"),
        year: int = typer.Option(2025, "--year", "-y", help="fee schedule year (2024-2026)"),
        facility: bool = typer.Option(
            False, "--facility", help="facility setting (facility PE RVU)"
        ),
        units: float = typer.Option(1.0, "--units", "-u", help="units of service"),
        minutes: float | None = typer.Option(
            None, "--minutes", help="anesthesia minutes (00100-01999)"
        ),
        qp: bool = typer.Option(False, "--qp", help="qualifying APM participant CF (2026+)"),
        present_at_induction: bool = typer.Option(
            False,
            "--present-at-induction",
            help="modifier AD: the physician was present at induction (adds 1 time unit)",
        ),
        as_json: bool = typer.Option(False, "--json", help="print one JSON object"),
    ) -> None:
        """Print the Medicare allowed amount of a service and every component of the formula."""
        import warnings

        from oonplaybook.reference import pfs

        try:
            with warnings.catch_warnings(record=True):
                warnings.simplefilter("always")
                r = pfs.price(
                    code,
                    modifier=modifier,
                    locality=locality,
                    year=year,
                    facility=facility,
                    units=units,
                    minutes=minutes,
                    qp=qp,
                    ad_present_at_induction=present_at_induction,
                )
        except pfs.ReferenceError as e:
            _fail(f"price: {e}")
            return
        stand_in = pfs.pricing_note(year)
        if as_json:
            typer.echo(json.dumps({**r.to_dict(), "pricing_note": stand_in}, sort_keys=True))
            return
        t = Table(
            title=f"Medicare PFS {r.year}: {r.code}{(' ' + r.modifier) if r.modifier else ''} in {r.locality} ({r.locality_name})"
        )
        t.add_column("component")
        t.add_column("value", justify="right")
        rows = [
            ("allowed", "not priced" if r.allowed is None else f"${r.allowed:,.2f}"),
            ("status", r.status),
            ("reason", r.reason or "-"),
            ("facility", "yes" if r.facility else "no"),
            ("work RVU x GPCI", f"{r.work_rvu} x {r.gpci_work}"),
            ("PE RVU x GPCI", f"{r.pe_rvu} x {r.gpci_pe}"),
            ("MP RVU x GPCI", f"{r.mp_rvu} x {r.gpci_mp}"),
            ("conversion factor", f"{r.conversion_factor}"),
            ("fee per unit", "-" if r.fee_per_unit is None else f"${r.fee_per_unit:,.2f}"),
            ("units", f"{r.units:g}"),
            ("payment fraction", f"{r.payment_fraction:g}"),
        ]
        if r.anesthesia_cf is not None:
            rows += [
                ("anesthesia base units", f"{r.anesthesia_base_units}"),
                ("anesthesia time units", f"{r.anesthesia_time_units}"),
                ("locality anesthesia CF", f"{r.anesthesia_cf}"),
            ]
        rows += [("note", r.note or "-"), ("vintage", r.vintage)]
        for k, v in rows:
            t.add_row(k, str(v))
        c = Console(soft_wrap=True)
        c.print(t)
        if stand_in:
            c.print(f"[yellow]{stand_in}[/yellow]", highlight=False)

    @reference_app.command("import")
    def import_cmd(
        path: Path = typer.Argument(..., help="CMS RVU zip (rvuYYx.zip) or a folder of its CSVs"),
        cache: Path | None = typer.Option(
            None, "--cache", help="cache root (default $OONPLAYBOOK_CACHE or ~/.cache/oonplaybook)"
        ),
    ) -> None:
        """Validate a newer CMS release and load it into the user cache; report what changed.

        CMS's NCCI PTP/MUE downloads go the same way (recognised by name or content) into the
        store the coding check reads."""
        from oonplaybook.reference import ncci, pfs

        if ncci.is_ncci_release(path):
            try:
                folder, nrep = ncci.import_release([path], dest=cache)
            except (ncci.ReferenceError, OSError) as e:
                _fail(f"reference import: {e}")
                return
            c = Console(soft_wrap=True)
            c.print(f"imported NCCI into {folder}: {ncci.load_imported(folder.parent).vintage}")
            c.print(
                f"  {nrep.rows_read:,} records read, {nrep.rows_accepted:,} kept, {nrep.duplicates:,} "
                f"duplicates across files, {len(nrep.rejects):,} rejected"
            )
            for w in nrep.warnings:
                c.print(f"  [yellow]warning: {w}[/yellow]", highlight=False)
            return
        try:
            rep = pfs.import_release(path, dest=cache)
        except pfs.ReferenceError as e:
            _fail(f"reference import: {e}")
            return
        c = Console(soft_wrap=True)
        c.print(f"imported PFS {rep.year} {rep.release} release ({rep.released}) into {rep.folder}")
        c.print(
            f"  {rep.codes:,} codes ({rep.columns}-column layout), {rep.localities} localities"
            f" (GPCIs: {rep.gpci_source})"
        )
        c.print(
            f"  CF in file: {', '.join(rep.conversion_factor_file)} (was {', '.join(rep.previous_conversion_factor) or '-'}; {rep.previous_vintage or 'no earlier tables'})"
        )
        if rep.locco_localities:
            c.print(f"  LOCCO: {rep.locco_localities} localities with counties")
            if rep.localities_without_counties:
                c.print(
                    f"  [yellow]GPCI localities missing from LOCCO: {', '.join(rep.localities_without_counties)}[/yellow]"
                )
        for w in rep.warnings:
            c.print(f"  [yellow]warning: {w}[/yellow]", highlight=False)
        for label, codes in (("added", rep.codes_added), ("removed", rep.codes_removed)):
            shown = ", ".join(codes[:20]) + (" ..." if len(codes) > 20 else "")
            c.print(f"  codes {label}: {len(codes)}{': ' + shown if codes else ''}")

    @reference_app.command("show")
    def show_cmd() -> None:
        """List the PFS years available (packaged and imported) and their CMS release."""
        from oonplaybook.reference import pfs

        t = Table(title="Medicare PFS tables")
        for col in ("year", "release", "origin", "codes", "localities", "anesthesia CF"):
            t.add_column(col)
        notes = []
        for y in pfs.available_years():
            tb = pfs.load_tables(y)
            t.add_row(
                str(y),
                tb.vintage,
                tb.origin
                if tb.origin == tb.gpci_origin
                else f"{tb.origin}; GPCIs {tb.gpci_origin}",
                f"{tb.rvu['hcpcs'].nunique():,}",
                str(len(tb.gpci)),
                "CMS ANES file" if tb.anesthesia_cf is not None else "fitted GPCI shares",
            )
            if note := pfs.pricing_note(y):
                notes.append(note)
        c = Console(soft_wrap=True)
        c.print(t)
        for note in notes:
            c.print(f"[yellow]{note}[/yellow]", highlight=False)

    @reference_app.command("status")
    def status_cmd(
        claims: Path | None = typer.Option(
            None, "--claims", help="claim_lines.parquet (or .csv): flag what is stale for them"
        ),
        as_json: bool = typer.Option(False, "--json", help="print one JSON list of tables"),
    ) -> None:
        """List every packaged or imported reference table with its vintage; flag stale ones."""
        import pandas as pd

        from oonplaybook import partitions
        from oonplaybook.reference import pfs, status

        lines = None
        if claims is not None:
            if not claims.is_file():
                _fail(
                    f"reference status: {claims} not found; pass the claim_lines.parquet ingest wrote"
                )
            try:
                lines = (
                    partitions.read_all(claims)
                    if claims.suffix.lower() == ".parquet"
                    else pd.read_csv(claims, dtype=str, keep_default_na=False)
                )
            except (OSError, ValueError) as e:
                _fail(f"reference status: {claims}: cannot read it as claim lines ({e})")
        try:
            rows = status.reference_status(lines)
        except pfs.ReferenceError as e:
            _fail(f"reference status: {e}")
            return
        if as_json:
            typer.echo(json.dumps([r.to_dict() for r in rows], sort_keys=True))
            return
        t = Table(title="Reference tables" + (f" for {claims.name}" if claims else ""))
        for col in ("table", "key", "vintage", "source", "stale", "detail"):
            t.add_column(col, overflow="fold")
        for r in rows:
            t.add_row(
                r.table,
                r.key,
                r.vintage,
                r.source,
                "[red]STALE[/red]" if r.stale else "ok",
                r.detail,
            )
        c = Console()
        c.print(t)
        n = sum(r.stale for r in rows)
        c.print(
            f"{n} stale table(s)"
            if n
            else "nothing stale" + ("" if claims else " (no claims given)")
        )

    @app.command("benchmark")
    def benchmark_cmd(
        claim_lines: Path = typer.Argument(..., help="claim_lines.parquet written by ingest"),
        out: Path = typer.Option(..., "--out", "-o", help="output .parquet or .csv"),
        year: int = typer.Option(2025, "--year", "-y", help="Medicare fee schedule year"),
        locality: str = typer.Option(
            "", "--locality", "-l", help="default MAC-locality for lines without one"
        ),
        fair_health: Path | None = typer.Option(
            None, "--fair-health", help="bring-your-own FAIR Health CSV"
        ),
        allowed_amounts: list[Path] = typer.Option(
            [], "--allowed-amounts", help="TiC allowed-amounts JSON (repeatable)"
        ),
        min_count: int = typer.Option(20, "--min-count", help="fewest charges for a UCR cell"),
        qp: bool = typer.Option(False, "--qp", help="qualifying APM participant CFs (2026+)"),
    ) -> None:
        """Build the benchmark ladder (Medicare, UCR, FAIR Health, QPA, TiC) for every line."""
        import warnings

        import pandas as pd

        from oonplaybook import benchmark, partitions, tic
        from oonplaybook.reference import pfs

        if not claim_lines.exists():
            _fail(f"benchmark: {claim_lines} not found; run `oonplaybook ingest` first")
        try:
            lines = (
                partitions.read_all(claim_lines)
                if claim_lines.suffix == ".parquet"
                else pd.read_csv(
                    claim_lines,
                    dtype={
                        "cpt": str,
                        "modifiers": str,
                        "locality": str,
                        "pos": str,
                        "claim_id": str,
                    },
                    keep_default_na=False,
                    na_values={"billed": [""], "allowed": [""], "paid": [""], "qpa": [""]},
                )
            )
            fh = benchmark.read_fair_health(fair_health) if fair_health else None
            codes = sorted(set(lines["cpt"].astype("str"))) if "cpt" in lines.columns else None
            aa = tic.read_allowed_amounts(allowed_amounts, codes=codes) if allowed_amounts else None
            with warnings.catch_warnings(record=True) as w:
                warnings.simplefilter("always")
                bench = benchmark.build_benchmarks(
                    lines,
                    year=year,
                    default_locality=locality or None,
                    ucr_min_count=min_count,
                    fair_health=fh,
                    allowed_amounts=aa,
                    qp=qp,
                )
        except (
            pfs.ReferenceError,
            benchmark.BenchmarkInputError,
            tic.TicFormatError,
            KeyError,
        ) as e:
            _fail(f"benchmark: {e}")
            return
        out.parent.mkdir(parents=True, exist_ok=True)
        if out.suffix == ".csv":
            bench.to_csv(out, index=False)
        else:
            bench.to_parquet(out, index=False)
        c = Console()
        for warning in w:
            c.print(f"[yellow]warning: {warning.message}[/yellow]")
        priced = bench["medicare_allowed"].notna()
        c.print(f"wrote {out}: {len(bench):,} lines, {int(priced.sum()):,} with a Medicare price")
        reasons = bench.loc[~priced, "medicare_reason"].value_counts().head(5)
        for reason, k in reasons.items():
            c.print(f"  not priced ({k:,}): {reason}")
        c.print(f"  UCR levels: {bench['ucr_level'].value_counts().to_dict()}")
