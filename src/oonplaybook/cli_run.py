"""``oonplaybook run``: one client's params file, or a folder of them (every client in turn)."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table


def register(app: typer.Typer) -> None:
    """Add the ``run`` command."""

    @app.command("run")
    def run_cmd(
        params: Path = typer.Argument(..., help="params/<client>.yaml, or a folder of them"),
        only: str | None = typer.Option(None, "--only", help="run one stage, e.g. 20_benchmark"),
        prepare_only: bool = typer.Option(
            False, "--prepare-only", help="write parameterized notebooks without running them"
        ),
        out: Path | None = typer.Option(
            None, "--out", help="the run folder (default outputs/<client>/<run-id>)"
        ),
        run_id: str | None = typer.Option(None, "--run-id", help="name the run folder yourself"),
        no_progress: bool = typer.Option(False, "--no-progress", help="no progress bar (CI logs)"),
        scheduler: str | None = typer.Option(
            None,
            "--scheduler",
            help="run the stages' partition work on Dask: tcp://HOST:PORT, or local:N for a "
            "local cluster of N workers (default: params' scale.scheduler, else in-process)",
        ),
    ) -> None:
        """Run the stage notebooks (ingest, benchmark, payers, playbook) into a run folder."""
        from oonplaybook.config import ParamsError
        from oonplaybook.run import RunFailed, run_client, run_many
        from oonplaybook.run_folder import RunFolderError

        console = Console(stderr=True)
        if params.is_dir():
            if out is not None:
                console.print(
                    "[red]--out names one run folder; it cannot be used with a folder of params files[/red]"
                )
                raise typer.Exit(2)
            results = run_many(
                params, only=only, prepare_only=prepare_only, progress=not no_progress
            )
            table = Table(title="oonplaybook runs")
            for col in ("client", "status", "run folder / error"):
                table.add_column(col)
            for r in results:
                table.add_row(
                    escape(r.client),
                    r.status,
                    escape(str(r.run_dir) if r.status != "failed" else r.error),
                )
            Console().print(table)
            raise typer.Exit(1 if any(r.status == "failed" for r in results) else 0)
        try:
            result = run_client(
                params,
                only=only,
                prepare_only=prepare_only,
                out=out,
                run_id=run_id,
                progress=not no_progress,
                scheduler=scheduler,
            )
        except ParamsError as e:
            console.print(f"[red]{escape(str(e))}[/red]", highlight=False)
            raise typer.Exit(2) from None
        except RunFolderError as e:
            console.print(f"[red]{escape(str(e))}[/red]", highlight=False)
            raise typer.Exit(e.exit_code) from None
        except RunFailed as e:
            console.print(f"[red]run failed: {escape(str(e))}[/red]", highlight=False)
            raise typer.Exit(1) from None
        for stage, secs in result.stages.items():
            console.print(f"  {stage}: {secs:.1f} s", highlight=False)
        if result.status == "ok":  # the headline figures and where the report is
            from oonplaybook.executive import headline_lines

            for line in headline_lines(result.run_dir, params):
                console.print(escape(line), highlight=False, soft_wrap=True)
        typer.echo(str(result.run_dir))
