"""``oonplaybook ingest PATH... --out DIR``: read 835/837P/CSV/XLSX inputs into the canonical tables."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import typer


def summary_rows(report: dict[str, Any]) -> list[tuple[str, str]]:
    """The summary the CLI prints, as (measure, value) rows (also used by tests)."""

    def money(k: str) -> str:
        return f"${report.get(k, 0):,.2f}"

    rows = [
        ("files", f"{len(report.get('files', [])):,}"),
        ("claims", f"{report.get('claims', 0):,}"),
        ("lines read", f"{report.get('lines', 0):,}"),
        ("accepted lines", f"{report.get('accepted_lines', 0):,}"),
        ("pending lines (no remit yet)", f"{report.get('pending_lines', 0):,}"),
        ("rejected records", f"{report.get('rejected', 0):,}"),
        ("unbalanced claims", f"{report.get('unbalanced_claims', 0):,}"),
        ("recoded lines", f"{report.get('recoded_lines', 0):,}"),
        ("billed", money("billed")),
        ("allowed", money("allowed")),
        ("paid (cash on claims, ΣCLP04)", money("paid")),
        ("patient responsibility", money("patient_resp")),
        ("adjustments (all CAS)", money("adjustments")),
        ("provider-level adjustments (PLB)", money("plb")),
        ("payments (ΣBPR02)", money("bpr_total")),
        (
            "payments reconcile (BPR = paid − PLB)",
            "yes" if report.get("payments_reconcile") else "no",
        ),
    ]
    if report.get("duplicate_deliveries"):
        rows.append(
            ("835 deliveries read once (re-sent)", f"{len(report['duplicate_deliveries']):,}")
        )
    if report.get("duplicate_claim_copies"):
        rows.append(("duplicate claim copies not read", f"{report['duplicate_claim_copies']:,}"))
    if report.get("claims_disambiguated"):
        rows.append(
            (
                "claims sharing a claim number, kept apart (#k)",
                f"{report['claims_disambiguated']:,}",
            )
        )
    for f in report.get("files", []):
        if f.get("encoding") not in (None, "ascii", "utf-8", "xlsx"):
            rows.append((f"encoding of {f['file']}", str(f["encoding"])))
        if f.get("claim_key"):
            rows.append((f"claim key of {f['file']}", "account + DOS + payer + NPI (hashed)"))
    for f, m in sorted(report.get("mappings_used", {}).items()):
        rows.append((f"mapping for {f}", m))
    for f, cols in sorted(report.get("ignored_columns", {}).items()):
        if cols:
            rows.append((f"ignored columns in {f}", ", ".join(cols)))
    for reason, n in sorted(report.get("rejected_by_reason", {}).items(), key=lambda kv: -kv[1])[
        :10
    ]:
        rows.append((f"rejected: {reason}", f"{n:,}"))
    return rows


def register(app: typer.Typer) -> None:
    """Add the ``ingest`` and ``mapping suggest`` commands to the CLI."""
    mapping_app = typer.Typer(help="Tabular mapping profiles for practice-management exports.")
    app.add_typer(mapping_app, name="mapping")

    @mapping_app.command("suggest")
    def mapping_suggest_cmd(
        file: Path = typer.Argument(..., help="a CSV/XLSX export"),
    ) -> None:
        """Print a mapping YAML drafted from FILE's headers (unmatched ones as comments)."""
        from oonplaybook.ingest import IngestError, classify
        from oonplaybook.ingest.suggest import suggest_mapping

        try:
            data = file.read_bytes()
            kind = classify(data, file.name)
            if kind not in ("csv", "xlsx"):
                raise IngestError(
                    f"{file.name}: an X12 {kind} file needs no mapping; mappings are for "
                    "CSV/XLSX exports"
                )
            typer.echo(suggest_mapping(data, file.name, kind), nl=False)
        except OSError as e:
            typer.echo(f"error: {file}: cannot read the file ({e.strerror})", err=True)
            raise typer.Exit(code=2) from None
        except (IngestError, ValueError) as e:
            typer.echo(f"error: {e}", err=True)
            raise typer.Exit(code=2) from None

    @app.command("ingest")
    def ingest_cmd(
        paths: list[str] = typer.Argument(
            ..., help="835/837P files, CSV/XLSX exports, folders, globs"
        ),
        out: Path = typer.Option(..., "--out", help="folder for the tables and ingest_report.json"),
        mapping: str = typer.Option(
            "auto", "--mapping", help="tabular mapping profile name or YAML file (default: auto)"
        ),
        salt_env: str = typer.Option(
            "OONPLAYBOOK_PHI_SALT", "--salt-env", help="environment variable holding the PHI salt"
        ),
    ) -> None:
        """Read remittances, claims and exports; write claim_lines/adjustments/PLB/rejects + report."""
        from rich.console import Console
        from rich.table import Table

        from oonplaybook.ingest import IngestError, ingest_paths

        salt = os.environ.get(salt_env, "")
        if not salt:
            typer.echo(
                f"error: no PHI salt: set the {salt_env} environment variable to a secret string "
                "(kept out of the repository); patient identities are hashed with it",
                err=True,
            )
            raise typer.Exit(code=2)
        try:
            result = ingest_paths(paths, salt=salt, mapping=mapping, base=Path.cwd())
        except IngestError as e:
            typer.echo(f"error: {e}", err=True)
            raise typer.Exit(code=2) from None
        result.write(out)
        table = Table(title=f"ingest -> {out}")
        table.add_column("measure")
        table.add_column("value", justify="right")
        for k, v in summary_rows(result.report):
            table.add_row(k, v)
        Console().print(table)
