"""``oonplaybook rules explain``: which law governs a claim, why, and each step's due date."""

from __future__ import annotations

import json

import typer

from oonplaybook.cli_nsa import parse_date_option

rules_app = typer.Typer(
    help="Which rules govern an out-of-network claim (federal NSA, state law or none).",
    no_args_is_help=True,
)


@rules_app.command("explain")
def explain_cmd(
    state: str = typer.Option(..., "--state", help="2-letter state of the service, e.g. TX"),
    plan_type: str = typer.Option(
        ...,
        "--plan-type",
        help="fully_insured | self_funded_erisa | self_funded_opt_in | government | "
        "medicare_advantage | medicaid",
    ),
    service_date: str = typer.Option(..., "--service-date", help="date of service, YYYY-MM-DD"),
    initial_payment_date: str | None = typer.Option(
        None, "--initial-payment-date", help="date the initial payment or denial was received"
    ),
    notice_date: str | None = typer.Option(
        None, "--notice-date", help="date the open negotiation notice was sent"
    ),
    emergency: bool = typer.Option(False, "--emergency", help="emergency services"),
    facility_in_network: bool = typer.Option(
        False, "--facility-in-network", help="service at an in-network facility"
    ),
    hcpcs: str | None = typer.Option(None, "--hcpcs", help="CPT/HCPCS code, e.g. A0431"),
    plan_year_start: str | None = typer.Option(
        None, "--plan-year-start", help="a plan-year start date (NSA applies by plan year)"
    ),
    as_json: bool = typer.Option(False, "--json", help="print one JSON object"),
) -> None:
    """Explain the governing law, the dispute process and its steps for one claim."""
    from oonplaybook import rules
    from oonplaybook.config import US_STATES

    st = state.strip().upper()
    if st not in US_STATES:
        typer.echo(f"error: --state {state!r} is not a 2-letter US state code (e.g. TX)", err=True)
        raise typer.Exit(code=2)
    if plan_type not in rules.PLAN_TYPES:
        typer.echo(
            f"error: --plan-type {plan_type!r} is not one of {', '.join(rules.PLAN_TYPES)}",
            err=True,
        )
        raise typer.Exit(code=2)
    try:
        ex = rules.explain(
            state=st,
            plan_type=plan_type,
            service_date=parse_date_option(service_date, "--service-date"),  # type: ignore[arg-type]
            initial_payment_date=parse_date_option(initial_payment_date, "--initial-payment-date"),
            notice_date=parse_date_option(notice_date, "--notice-date"),
            emergency=emergency,
            facility_in_network=facility_in_network,
            hcpcs=hcpcs,
            plan_year_start=parse_date_option(plan_year_start, "--plan-year-start"),
        )
    except ValueError as e:
        typer.echo(f"error: {e}", err=True)
        raise typer.Exit(code=2) from None
    data = ex.to_dict()
    if as_json:
        typer.echo(json.dumps(data, sort_keys=False))
        return
    from rich.console import Console
    from rich.markup import escape as esc  # texts carry "[unverified]": not rich markup
    from rich.table import Table

    con = Console()
    con.print(f"[bold]Governing law:[/bold] {esc(data['governing_law'])}  "
              f"[bold]process:[/bold] {esc(data['dispute_process'])}  "
              f"[bold]NSA applies:[/bold] {'yes' if data['nsa_applies'] else 'no'}")  # fmt: skip
    for w in data["why"]:
        con.print(f"  why: {esc(w)}")
    con.print(f"[bold]Rule version:[/bold] {esc(data['rule_version'])} ({esc(data['rule_note'])})")
    table = Table(title="Steps")
    for col in ("step", "due", "citation"):
        table.add_column(col)
    for s in data["steps"]:
        table.add_row(esc(s["step"]), s["due"] or "not computable", esc(s["citation"]))
    con.print(table)
    for n in data["notes"]:
        con.print(f"  note: {esc(n)}")


def register(app: typer.Typer) -> None:
    """Add the ``rules`` command group (``rules explain``) to the CLI."""
    app.add_typer(rules_app, name="rules")
