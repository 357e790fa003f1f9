"""``oonplaybook deadlines``: the NSA open negotiation / IDR / cooling-off / ERISA clocks."""

from __future__ import annotations

import json
from datetime import date

import typer


def parse_date_option(value: str | None, option: str) -> date | None:
    """Parse an ISO date option; exit 2 naming the option and the fix when it is not one."""
    if value is None:
        return None
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        typer.echo(
            f"error: {option} {value!r} is not a date; use YYYY-MM-DD (e.g. 2025-03-03)",
            err=True,
        )
        raise typer.Exit(code=2) from None


def register(app: typer.Typer) -> None:
    """Add the ``deadlines`` command to the CLI."""

    @app.command("deadlines")
    def deadlines_cmd(
        initial_payment_date: str = typer.Option(
            ..., "--initial-payment-date", help="date the initial payment or denial was received"
        ),
        notice_date: str | None = typer.Option(
            None, "--notice-date", help="date the open negotiation notice was sent"
        ),
        determination_date: str | None = typer.Option(
            None, "--determination-date", help="date of a prior IDR payment determination"
        ),
        denial_date: str | None = typer.Option(
            None, "--denial-date", help="date the adverse benefit determination was received"
        ),
        as_json: bool = typer.Option(False, "--json", help="print one JSON object"),
    ) -> None:
        """Compute the NSA clocks on the federal business-day calendar."""
        from oonplaybook import nsa

        ipd = parse_date_option(initial_payment_date, "--initial-payment-date")
        nd = parse_date_option(notice_date, "--notice-date")
        dd = parse_date_option(determination_date, "--determination-date")
        den = parse_date_option(denial_date, "--denial-date")
        try:
            result = nsa.deadlines(ipd, notice_date=nd, determination_date=dd, denial_date=den)
        except ValueError as e:
            typer.echo(f"error: {e}", err=True)
            raise typer.Exit(code=2) from None
        data = result.to_dict()
        if as_json:
            typer.echo(json.dumps(data, sort_keys=False))
            return
        from rich.console import Console
        from rich.table import Table

        table = Table(title="No Surprises Act clocks (federal business days)")
        table.add_column("clock")
        table.add_column("date")
        for k, v in data.items():
            table.add_row(k, v)
        Console().print(table)
        if result.notice_date_assumed:
            Console().print(
                "no --notice-date: the negotiation period assumes the notice is sent on the "
                "last allowed day (the latest possible IDR window)"
            )
