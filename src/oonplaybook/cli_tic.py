"""``oonplaybook tic extract``: regional in-network rates from TiC files into a Parquet dataset."""

from __future__ import annotations

from pathlib import Path

import typer


def _fail(msg: str) -> None:
    typer.echo(f"error: {msg}", err=True)
    raise typer.Exit(code=2)


def _id_set(path: Path | None, what: str) -> frozenset[str] | None:
    if path is None:
        return None
    if not path.is_file():
        _fail(f"--{what}-file {path}: not found")
    import re

    ids = {re.sub(r"\D", "", t) for t in re.split(r"[\s,]+", path.read_text()) if t.strip()}
    ids.discard("")
    if not ids:
        _fail(f"--{what}-file {path}: no {what.upper()} in it (one per line)")
    return frozenset(ids)


def register(app: typer.Typer) -> None:
    """Add the ``tic`` command group."""
    tic_app = typer.Typer(help="Transparency-in-Coverage in-network rate files.")
    app.add_typer(tic_app, name="tic")

    @tic_app.command("extract")
    def extract_cmd(
        paths: list[Path] = typer.Argument(
            ..., help="in-network .json/.json.gz files, folders, or a table-of-contents file"
        ),
        codes: str = typer.Option(
            ..., "--codes", help="comma-separated codes, a file of codes, or a claim_lines.parquet"
        ),
        out: Path = typer.Option(
            ..., "--out", help="dataset folder (rates partitioned by payer and month)"
        ),
        npi_file: Path | None = typer.Option(None, "--npi-file", help="NPIs to keep, one per line"),
        tin_file: Path | None = typer.Option(None, "--tin-file", help="TINs to keep, one per line"),
        nppes: Path | None = typer.Option(
            None, "--nppes", help="NPPES data file (npidata_pfile*.csv) for an area filter"
        ),
        locality: list[str] = typer.Option(
            [],
            "--locality",
            help="with --nppes: MAC-localities to keep (NPI practice ZIP via CMS ZIP5)",
        ),
        taxonomy: list[str] = typer.Option(
            [],
            "--taxonomy",
            help="with --nppes: primary taxonomy codes to keep (same-specialty peers)",
        ),
        provider_refs: Path | None = typer.Option(
            None, "--provider-refs", help="folder of downloaded v1 remote provider-reference files"
        ),
        workers: int = typer.Option(
            1, "--workers", min=1, help="local Dask workers (one file per task)"
        ),
        scheduler: str | None = typer.Option(
            None, "--scheduler", help="Dask scheduler address (a cluster)"
        ),
        progress: bool = typer.Option(True, "--progress/--no-progress"),
    ) -> None:
        """Keep the rates of the codes the client bills, for the providers that are "my region"."""
        from oonplaybook import tic_in_network as tin

        wanted = tin.codes_from(codes)
        if not wanted:
            _fail(f"--codes {codes!r}: no codes")
        npis = _id_set(npi_file, "npi")
        if nppes is not None:
            if not nppes.is_file():
                _fail(f"--nppes {nppes}: not found")
            if not locality and not taxonomy:
                _fail("--nppes needs --locality and/or --taxonomy to say which providers to keep")
            area = tin.npi_filter_from_nppes(
                nppes, localities=set(locality) or None, taxonomies=set(taxonomy) or None
            )
            npis = frozenset(str(n) for n in area) | (npis or frozenset())
        pfilter = tin.ProviderFilter(
            npis=frozenset(int(n) for n in npis) if npis is not None else None,
            tins=_id_set(tin_file, "tin"),
        )
        stats = tin.extract(
            paths, wanted, out, pfilter=pfilter, remote_dir=provider_refs,
            workers=workers, scheduler=scheduler, progress=progress,
        )  # fmt: skip
        report = out / "extract_report.csv"
        stats.to_csv(report, index=False, lineterminator="\n")
        bad = stats[stats["problems"].map(lambda p: bool(p) if isinstance(p, list) else False)]
        for _, r in bad.iterrows():
            for p in r["problems"]:
                typer.echo(f"warning: {p}", err=True)
        typer.echo(
            f"{len(stats):,} files, {int(stats['rows'].sum()):,} rate rows for {len(wanted):,} codes "
            f"-> {out} (per-file report: {report})"
        )
        if "error" in stats and stats["error"].fillna(False).astype(bool).any():
            raise typer.Exit(code=1)
