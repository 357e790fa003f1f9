"""``oonplaybook letters``: write a run's letters (``--all`` for every open row) and merge fields.

- ``oonplaybook letters RUN_DIR [--all]`` rewrites ``artifacts/letters/`` from the frames the
  playbook stage saved (``artifacts/letter_inputs/``), with the params' per-type limits or, with
  ``--all``, a letter for every open worklist row that needs one; the ``letter`` column of
  ``worklist.csv`` and ``playbook.xlsx`` is updated to the files written.
- ``oonplaybook letters merge RUN_DIR --crosswalk FILE --out DIR`` fills the merge fields from a
  practice-held CSV into a folder outside the run folder (PHI never enters the run).
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import click
import typer
from typer.core import TyperGroup


class _WriteByDefault(TyperGroup):
    """``letters RUN_DIR`` runs the ``write`` subcommand; ``letters merge ...`` runs ``merge``."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        """Insert ``write`` when the first argument is not a subcommand (nor help)."""
        if args and args[0] not in self.commands and args[0] not in ("--help", "-h"):
            args = ["write", *args]
        return super().parse_args(ctx, args)


def _fail(message: str) -> None:
    """Print an error and exit 2 (bad input), never a traceback."""
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code=2)


def _run_config(run_dir: Path) -> dict:
    """The params the run used, from its manifest."""
    m = run_dir / "manifest.json"
    if not m.exists():
        _fail(
            f"{m}: not a run folder (no manifest.json); pass the folder `oonplaybook run` printed"
        )
    return json.loads(m.read_text(encoding="utf-8")).get("params", {})


def write_run(run_dir: Path, *, every: bool, docx: bool = True) -> tuple[int, object]:
    """Rewrite a run's letters from its saved inputs; update worklist.csv's letter column."""
    import pandas as pd

    from oonplaybook import letters, partitions
    from oonplaybook import playbook as pb
    from oonplaybook.config import PlaybookSettings
    from oonplaybook.specialties import load_profiles

    params = _run_config(run_dir)
    settings = PlaybookSettings(**params.get("playbook", {}))
    art = run_dir / "artifacts"
    frames = letters.load_inputs(run_dir)
    lines = partitions.read_all(art / "claim_lines.parquet")
    bench = (
        pb.read_benchmarks(art / "benchmarks.parquet")
        if (art / "benchmarks.parquet").exists()
        else None
    )
    appeals = (
        pd.read_parquet(art / "appeals.parquet") if (art / "appeals.parquet").exists() else None
    )
    wl = frames["worklist"]
    as_of = letters.load_as_of(run_dir) or (
        date.fromisoformat(settings.as_of_date) if settings.as_of_date else None
    )
    if as_of is None:
        _fail(f"{art / 'letter_inputs'}: no as-of date saved; rerun the playbook stage")
    run = letters.write_letters(
        wl,
        claim_lines=lines,
        targets=frames["targets"],
        out_dir=art / "letters",
        as_of=as_of,
        client_name=params.get("client_name") or params.get("client", ""),
        limit=None if every else settings.letter_limit,
        limits={} if every else settings.letter_limits,
        due_days=settings.letter_due_days,
        profiles=load_profiles(params.get("specialties", ["generic"])),
        disputes=frames["disputes"],
        batches=frames["batches"],
        protections=frames["protections"],
        appeals=appeals,
        benchmarks=bench,
        contact=settings.contact,
        practice_size=settings.practice_size,
        docx=docx,
    )
    wl = letters.with_letter_files(wl, run.index)
    pb.write_csv(wl, art / "worklist.csv")
    letters.save_inputs(run_dir, worklist=wl)
    letters.update_workbook_letters(art / "playbook.xlsx", wl)
    return len(run.index), run


def register(app: typer.Typer) -> None:
    """Add the ``letters`` command group to the CLI."""
    group = typer.Typer(
        cls=_WriteByDefault,
        help="Write a run's letters (RUN_DIR [--all]) or fill their merge fields (merge).",
        no_args_is_help=True,
    )

    @group.command("write")
    def write_cmd(
        run_dir: Path = typer.Argument(..., help="run folder printed by `oonplaybook run`"),
        every: bool = typer.Option(
            False, "--all", help="a letter for every open row that needs one"
        ),
        no_docx: bool = typer.Option(False, "--no-docx", help="Markdown only (faster)"),
    ) -> None:
        """Rewrite RUN_DIR/artifacts/letters (and the worklist's letter column)."""
        if not run_dir.is_dir():
            _fail(f"{run_dir}: no such run folder")
        try:
            n, run = write_run(run_dir, every=every, docx=not no_docx)
        except (FileNotFoundError, ValueError) as e:
            _fail(str(e))
        typer.echo(f"wrote {n:,} letters under {run_dir / 'artifacts' / 'letters'}")
        for row in run.coverage.to_dict("records"):  # type: ignore[attr-defined]
            typer.echo(f"  {row['Letter']}: {row['Written']:,} of {row['Needed']:,}")
        for w in run.warnings:  # type: ignore[attr-defined]
            typer.echo(f"warning: {w}", err=True)

    @group.command("merge")
    def merge_cmd(
        run_dir: Path = typer.Argument(..., help="run folder printed by `oonplaybook run`"),
        crosswalk: Path = typer.Option(
            ..., "--crosswalk", help="practice CSV: claim_id, member_id, patient_name, ..."
        ),
        out: Path = typer.Option(
            ..., "--out", help="folder for the filled letters, outside the run folder"
        ),
        sent_on: str | None = typer.Option(
            None, "--sent-on", help="date the letters are sent (YYYY-MM-DD; default today)"
        ),
        values: list[str] = typer.Option(
            [], "--set", help="FIELD=value for every letter, e.g. SIGNER_NAME='Jane Roe'"
        ),
        no_docx: bool = typer.Option(False, "--no-docx", help="Markdown only"),
        only_listed: bool = typer.Option(
            False, "--only-listed", help="only the letters of claims (or IDR batches) listed"
        ),
    ) -> None:
        """Fill the letters' «FIELDS» from CROSSWALK into OUT (refused inside the run folder)."""
        from oonplaybook.letters import MergeError, merge_letters

        try:
            sent = date.fromisoformat(sent_on) if sent_on else date.today()
        except ValueError:
            _fail(f"--sent-on {sent_on!r} is not a date; use YYYY-MM-DD")
        pairs = {}
        for v in values:
            if "=" not in v:
                _fail(f"--set {v!r}: use FIELD=value, e.g. --set SIGNER_NAME='Jane Roe'")
            k, _, val = v.partition("=")
            pairs[k] = val
        try:
            res = merge_letters(
                run_dir,
                crosswalk,
                out,
                sent_on=sent,
                values=pairs,
                docx=not no_docx,
                only_listed=only_listed,
            )
        except MergeError as e:
            _fail(str(e))
        n = sum(1 for p in res.written if p.suffix == ".md")
        typer.echo(f"merged {n:,} letters into {out} (sent on {sent.isoformat()})")
        if res.unfilled:
            typer.echo(f"{len(res.unfilled):,} letters still have fields to fill:", err=True)
            for name, fields in list(res.unfilled.items())[:20]:
                typer.echo(f"  {name}: {', '.join(fields)}", err=True)
        if res.unknown_claims:
            typer.echo(
                f"{len(res.unknown_claims):,} crosswalk rows match no letter (claim ids: {', '.join(res.unknown_claims[:10])})",
                err=True,
            )

    app.add_typer(group, name="letters")
