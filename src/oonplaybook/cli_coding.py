"""``oonplaybook coding``: import CMS's NCCI files and check claim lines against them."""

from __future__ import annotations

from pathlib import Path

import typer


def _fail(msg: str) -> None:
    typer.echo(f"error: {msg}", err=True)
    raise typer.Exit(code=2)


def register(app: typer.Typer) -> None:
    """Add the ``coding import`` and ``coding check`` commands."""
    coding_app = typer.Typer(help="Coding compliance: NCCI PTP edits, MUEs, PFS policy indicators.")
    app.add_typer(coding_app, name="coding")

    @coding_app.command("import")
    def import_cmd(
        paths: list[Path] = typer.Argument(
            ..., help="CMS NCCI PTP zips/.txt files and MUE zips/.csv files (your download)"
        ),
    ) -> None:
        """Store your NCCI download in the reference cache, with its vintage and rejects."""
        from oonplaybook.reference import ncci

        try:
            folder, rep = ncci.import_release(list(paths))
        except (ncci.ReferenceError, OSError) as e:
            _fail(str(e))
        typer.echo(f"imported into {folder}: {ncci.load_imported(folder.parent).vintage}")
        typer.echo(
            f"{rep.rows_read:,} records read, {rep.rows_accepted:,} kept, "
            f"{rep.duplicates:,} duplicates across files, {len(rep.rejects):,} rejected"
            + (f" (see {folder / 'rejects.csv'})" if rep.rejects else "")
        )
        for w in rep.warnings:
            typer.echo(f"warning: {w}", err=True)

    @coding_app.command("check")
    def check_cmd(
        claim_lines: Path = typer.Argument(..., help="claim lines (.parquet or .csv)"),
        out: Path = typer.Option(..., "--out", help="folder for coding_edits.csv"),
        ptp: list[Path] = typer.Option(
            [], "--ptp", help="NCCI PTP file(s); default: the imported release"
        ),
        mue: list[Path] = typer.Option([], "--mue", help="MUE file(s); default: the imported one"),
        year: int = typer.Option(2025, "--year", help="PFS year for the policy indicators"),
    ) -> None:
        """Every NCCI/MUE/PFS-indicator edit on the lines, with verdict, route and evidence."""
        import pandas as pd

        from oonplaybook import coding, partitions
        from oonplaybook.reference import ncci, pfs

        if not claim_lines.exists():
            _fail(f"{claim_lines}: not found")
        try:
            lines = (
                partitions.read_all(claim_lines)
                if claim_lines.suffix.lower() == ".parquet"
                else pd.read_csv(claim_lines, dtype=str, keep_default_na=False)
            )
        except Exception as e:  # noqa: BLE001 - any reader error becomes one message
            _fail(f"{claim_lines}: cannot read ({e}); pass the claim_lines.parquet from ingest")
        if claim_lines.suffix.lower() != ".parquet" and "units" in lines:
            lines["units"] = pd.to_numeric(lines["units"].replace("", "1"), errors="coerce")
        try:
            if ptp or mue:
                tables, rep = ncci.read_release([*ptp, *mue])
                for w in rep.warnings:
                    typer.echo(f"warning: {w}", err=True)
            else:
                tables = ncci.load_imported()
                if tables is None:
                    _fail(
                        "no NCCI tables: pass --ptp/--mue files, or import CMS's download once "
                        "with `oonplaybook coding import PATH...`"
                    )
            ind = coding.PolicyIndicators.from_rvu(pfs.load_tables(year).rvu)
            edits = coding.check_claims(lines, tables.ptp, tables.mue, ind)
        except (coding.CodingInputError, ncci.ReferenceError, ValueError) as e:
            _fail(f"{claim_lines}: {e}")
        out.mkdir(parents=True, exist_ok=True)
        path = out / "coding_edits.csv"
        edits.to_csv(path, index=False, lineterminator="\n", date_format="%Y-%m-%d")
        counts = edits["verdict"].value_counts().to_dict() if len(edits) else {}
        typer.echo(
            f"wrote {path}: {len(edits):,} edits on {lines.shape[0]:,} lines ("
            + ", ".join(f"{k} {v:,}" for k, v in sorted(counts.items()))
            + f"); NCCI {tables.vintage}"
        )
