"""``oonplaybook idr expected-value``: one dispute's IDR expected value with its 90% interval."""

from __future__ import annotations

import json
from datetime import date

import typer

idr_app = typer.Typer(help="Federal IDR economics from CMS's own tables.", no_args_is_help=True)


def expected_value_json(
    specialty: str,
    qpa: float,
    paid: float,
    *,
    offer: float | None = None,
    lines: int = 1,
    quarter: str | None = None,
    initiation_date: date | None = None,
    n_sims: int = 4000,
) -> dict[str, object]:
    """The object ``idr expected-value --json`` prints (priors, fees by who pays, EV and its interval).

    ``lines`` identical lines form one batched dispute; the offer defaults to QPA x the prior's
    award multiple. EV is per dispute (all lines), net of the fees the provider bears, discounted.
    """
    import pandas as pd

    from oonplaybook import idr

    if qpa <= 0 or paid < 0 or lines < 1:
        raise ValueError("--qpa must be > 0, --paid >= 0 and --lines >= 1")
    pr = idr.IdrPriors.default()
    cell = pr.cell(specialty, qpa, quarter)
    award = float(offer) if offer is not None else round(qpa * cell.award_multiple_of_qpa, 2)
    init = initiation_date or date.today()
    f = idr.fees(init, batched=lines > 1, n_lines=lines)
    df = pd.DataFrame(
        {
            "batch_id": ["B"] * lines,
            "offer": [award] * lines,
            "paid": [float(paid)] * lines,
            "win_probability": [cell.win_probability] * lines,
            "win_concentration": [cell.win_concentration] * lines,
            "initiation_date": [pd.Timestamp(init)] * lines,
        }
    )
    sim = idr.simulate_recovery(df, n_sims=n_sims, split_share=cell.split_share)
    b = sim.batches.iloc[0]
    p = cell.win_probability
    return {
        "specialty": cell.specialty,
        "qpa_band": cell.band,
        "win_probability": round(p, 4),
        "win_probability_low": round(cell.win_low, 4),
        "win_probability_high": round(cell.win_high, 4),
        "win_probability_contested": round(cell.win_probability_contested, 4),
        "one_offer_share": round(cell.one_offer_share, 4),
        "award_multiple_of_qpa": round(cell.award_multiple_of_qpa, 3),
        "award_multiple_low": round(cell.award_low, 3),
        "award_multiple_high": round(cell.award_high, 3),
        "offer": award,
        "lines": lines,
        "prior_quarter": cell.quarter,
        "median_quarter": cell.median_quarter,
        "prior_source": cell.prior_source,
        "prior_detail": cell.source,
        "expected_value": round(float(b["expected_value"]), 2),
        "expected_value_low": round(float(b["ev_low"]), 2),
        "expected_value_high": round(float(b["ev_high"]), 2),
        "interval": "90% over the win probability's uncertainty (CMS's last four quarters)",
        "discount": f"{idr.DISCOUNT_RATE:.0%} a year over {idr.DAYS_TO_IDR_PAYMENT} days",
        "fees": {
            "initiation_date": init.isoformat(),
            "administrative_fee_each_party": f.admin_fee,
            "idre_fee": f.idre_fee,
            "idre_fee_range": [f.idre_fee_low, f.idre_fee_high],
            "provider_pays_if_wins": f.cost_if_win,
            "provider_pays_if_loses": f.cost_if_lose,
            "payer_pays_if_provider_wins": f.cost_if_lose,
            "payer_pays_if_provider_loses": f.cost_if_win,
            "provider_expected_fee_cost": round(f.admin_fee + (1 - p) * f.idre_fee, 2),
            "source": f.source,
        },
    }


@idr_app.command("expected-value")
def expected_value_cmd(
    specialty: str = typer.Option(
        ..., "--specialty", help="e.g. radiology, emergency_medicine, or a CMS Table 14 name"
    ),
    qpa: float = typer.Option(..., "--qpa", help="the plan's QPA in dollars (per line)"),
    paid: float = typer.Option(
        ..., "--paid", help="what the provider has: plan payment + patient cost share"
    ),
    offer: float | None = typer.Option(
        None, "--offer", help="the provider's offer (default: QPA x award multiple)"
    ),
    lines: int = typer.Option(1, "--lines", help="identical lines in one batched dispute"),
    quarter: str | None = typer.Option(
        None, "--quarter", help="prior quarter YYYYQn (default: latest packaged)"
    ),
    initiation_date: str | None = typer.Option(
        None, "--initiation-date", help="YYYY-MM-DD (fees; default today)"
    ),
    as_json: bool = typer.Option(False, "--json", help="print one JSON object"),
) -> None:
    """Expected value of one IDR dispute from CMS's priors, with its 90% interval and the fees."""
    try:
        init = date.fromisoformat(initiation_date) if initiation_date else None
        out = expected_value_json(
            specialty, qpa, paid, offer=offer, lines=lines, quarter=quarter, initiation_date=init
        )
    except (ValueError, KeyError) as e:
        typer.echo(f"error: {e}", err=True)
        raise typer.Exit(code=2) from None
    if as_json:
        typer.echo(json.dumps(out, indent=2))
        return
    typer.echo(
        f"{out['specialty']} ({out['qpa_band']}), prior {out['prior_quarter']}: win "
        f"{out['win_probability']:.1%}, award {out['award_multiple_of_qpa']:.2f}x QPA; EV "
        f"${out['expected_value']:,.2f} (90%: ${out['expected_value_low']:,.2f} to "
        f"${out['expected_value_high']:,.2f}); source {out['prior_source']}"
    )


@idr_app.command("import")
def import_cmd(
    path: str = typer.Argument(
        ..., help="CMS's Federal IDR supplemental tables: XLSX file(s) folder"
    ),
) -> None:
    """Keep a newer CMS release of the supplemental tables; runs use it when newer than the packaged one."""
    from oonplaybook.reference import idr_priors as ip

    try:
        t = ip.import_release(path)
    except (ip.IdrTablesError, ValueError) as e:
        typer.echo(f"error: {e}", err=True)
        raise typer.Exit(code=2) from None
    typer.echo(f"imported IDR tables, vintage {t.vintage}, into {ip.cache_dir()}")
    for n in t.notes:
        typer.echo(f"note: {n}")


def register(app: typer.Typer) -> None:
    """Add the ``idr`` command group to the main app."""
    app.add_typer(idr_app, name="idr")
