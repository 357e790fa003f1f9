"""The executive summary of a run: the figures a CFO reads first, computed from the run's artifacts.

Everything here is read back from what the stages wrote (claim lines, worklist, IDR batches,
scorecard, appeals, benchmarks), so the summary, the chapters and the workbooks agree by
construction. The money terms are those of :mod:`oonplaybook.glossary`; published comparisons
come from :mod:`oonplaybook.reference.industry`.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import pandas as pd

from oonplaybook import partitions
from oonplaybook.formatting import format_value, is_missing, money
from oonplaybook.reference.industry import IndustryFigure, load_industry_benchmarks

#: The as-of date is "stale" when it is this many days or more before the run date.
STALE_AFTER_DAYS = 30

#: What each worklist route asks someone to do, in words for the summary.
ROUTE_ACTIONS: dict[str, str] = {
    "open_negotiation": "Send the open-negotiation notice",
    "idr": "Initiate federal IDR",
    "state_idr": "File under the state's dispute process",
    "appeal_l1": "File a level-1 appeal",
    "appeal_l2": "File a level-2 appeal",
    "external_review": "Request external review",
    "corrected_claim": "Submit a corrected claim",
    "payer_negotiation": "Negotiate with the payer",
    "patient_bill": "Bill the patient",
    "write_off": "Write off",
}

#: Why an item is lost, by the route whose deadline passed.
LOST_REASONS: dict[str, str] = {
    "open_negotiation": "the 30-business-day open-negotiation window closed",
    "idr": "the 4-business-day IDR initiation window closed",
    "state_idr": "the state dispute / contract appeal window closed",
    "appeal_l1": "the plan's internal-appeal deadline passed",
    "appeal_l2": "the level-2 appeal deadline passed",
    "external_review": "the external-review deadline passed",
    "corrected_claim": "the corrected-claim (timely filing) window closed",
    "payer_negotiation": "the contract dispute window closed",
    "patient_bill": "the billing window closed",
    "write_off": "written off",
}


@dataclass
class ExecutiveSummary:
    """The executive summary's figures and sentences (money in dollars, shares as fractions)."""

    client_name: str
    run_date: date
    as_of: date
    period_start: date | None
    period_end: date | None
    claims: int
    lines: int
    billed: float
    paid: float
    open_items: int
    at_stake_open: float
    expected_recoverable: float
    recoverable_low: float
    recoverable_high: float
    due_14_days: int
    due_14_expected: float
    lost: float
    lost_items: int
    lost_why: list[str] = field(default_factory=list)
    actions: pd.DataFrame = field(default_factory=pd.DataFrame)
    actions_total: int = 0
    actions_basis: str = ""
    payer_findings: list[str] = field(default_factory=list)
    industry: pd.DataFrame = field(default_factory=pd.DataFrame)
    vintages: list[str] = field(default_factory=list)
    stale_days: int = 0
    today_open_items: int = 0
    today_expected: float = 0.0
    today_newly_lost: int = 0
    scope_note: str = ""
    idr_batches_worth: int = 0
    idr_ev_net: float = 0.0
    industry_trends: list[str] = field(default_factory=list)
    industry_reading: str = ""

    @property
    def stale(self) -> bool:
        """True when the as-of date is :data:`STALE_AFTER_DAYS` or more days before the run."""
        return self.stale_days > STALE_AFTER_DAYS

    def headline(self) -> list[tuple[str, str]]:
        """Three headline figures (label, value) for the terminal and the title block."""
        return [
            ("At stake on open items", money(self.at_stake_open)),
            ("Expected recoverable", money(self.expected_recoverable)),
            ("Lost (deadlines passed)", money(self.lost)),
        ]


def _read_csv(path: Path, columns: frozenset[str] | None = None) -> pd.DataFrame:
    """A run's CSV artifact (empty when absent); ``columns`` reads only those present."""
    if not path.exists():
        return pd.DataFrame()
    if columns is None:
        return pd.read_csv(path)
    return pd.read_csv(path, usecols=lambda c: c in columns)


#: The worklist columns the summary reads: the worklist's long text columns (documents,
#: letter file, coding evidence) are left on disk, so a 1.8M-row worklist (1.5 GB of CSV at
#: 3M lines) is read in a fraction of the memory of the whole file.
WORKLIST_SUMMARY_COLUMNS = frozenset(
    (
        "rank",
        "claim_id",
        "route",
        "status",
        "payer",
        "specialty",
        "batch_id",
        "at_stake",
        "probability",
        "expected_recovery",
        "expected_recovery_low",
        "expected_recovery_high",
        "lost_revenue",
        "denied_amount",
        "paid",
        "deadline",
        "days_left",
        "priority",
        "action",
    )
)


def _num(frame: pd.DataFrame, col: str) -> pd.Series:
    if col not in frame:
        return pd.Series(0.0, index=frame.index)
    return pd.to_numeric(frame[col], errors="coerce").fillna(0.0)


def recoverable_range(open_items: pd.DataFrame) -> tuple[float, float]:
    """The 90% interval of the realised total recovery of the open items.

    By simulation (:func:`oonplaybook.playbook.targets.recovery_interval`): one IDR entity
    decides a whole batch, and each route's success rate is itself uncertain (the priors'
    intervals), so the range carries both the outcomes' chance and the priors' uncertainty.
    """
    from oonplaybook.playbook.targets import recovery_interval

    w = open_items.assign(status="open")
    r = recovery_interval(w)
    return max(r.low, 0.0), r.high


def payer_findings(scorecard: pd.DataFrame) -> list[str]:
    """Plain sentences about each payer's flagged behaviour, from the scorecard's columns."""
    out: list[str] = []
    if scorecard.empty:
        return out

    def flag(row: pd.Series, col: str) -> bool:
        v = row.get(col)
        return str(v).strip().lower() in ("true", "1", "yes")

    for _, r in scorecard.sort_values("rank" if "rank" in scorecard else "payer").iterrows():
        payer = str(r.get("payer"))
        if flag(r, "drift_flag") and pd.notna(r.get("drift_size")):
            size = float(r["drift_size"])
            verb = "cut" if size < 1 else "raised"
            out.append(
                f"{payer} {verb} what it pays by {abs(1 - size):.0%} from {r.get('drift_month')} "
                "(mix-adjusted, statistically significant); negotiate back to the earlier level."
            )
        if flag(r, "repricer_flag"):
            ev = str(r.get("repricer_evidence") or "").strip()
            who = (
                "by formula (reference-based pricing, no repricing vendor named)"
                if str(r.get("repricer_level", "")).startswith("formula")
                else "by a repricer's formula"
            )  # levels: payers/repricer.py
            out.append(
                f"{payer} pays {who} rather than a fair evaluation of each claim"
                + (f": {ev}." if ev and ev != "nan" else ".")
            )
        if flag(r, "improper_er_flag"):
            n = r.get("improper_er_denials")
            count = f"{int(float(n)):,} " if pd.notna(n) else ""
            out.append(
                f"{payer} denied {count}emergency claims for missing prior authorization or network "
                "status, which the No Surprises Act does not allow (45 CFR 149.110(b)); appeal each."
            )
        odds, p = r.get("denial_odds_ratio"), r.get("denial_odds_ratio_p")
        if pd.notna(odds) and pd.notna(p) and float(p) < 0.05 and float(odds) >= 1.25:
            out.append(
                f"{payer} denies claims more often than the average payer (odds {float(odds):.1f} "
                "times the portfolio average, after adjusting for the claim mix)."
            )
        hr, hp = r.get("payment_hazard_ratio"), r.get("payment_hazard_ratio_p")
        if pd.notna(hr) and pd.notna(hp) and float(hp) < 0.05 and float(hr) <= 0.8:
            days = r.get("median_days_to_pay")
            since = (
                " from the date of service"
                if "date of service" in str(r.get("days_to_pay_clock", ""))
                else ""
            )  # no claim-received dates: the clock starts at service (payers/survival.py)
            tail = f" (median {float(days):.0f} days to pay{since})" if pd.notna(days) else ""
            out.append(f"{payer} pays markedly slower than the average payer{tail}.")
    return out


def _share(num: float, den: float) -> float | None:
    return num / den if den else None


def client_rates(
    claim_lines: pd.DataFrame,
    appeals: pd.DataFrame,
    worklist: pd.DataFrame,
    targets: pd.DataFrame | None = None,
) -> dict[str, tuple[float | None, str]]:
    """The client's own figures that published ones are compared with: (value, what it counts)."""
    status = claim_lines.get("claim_status", pd.Series(dtype="str")).astype("str")
    adjudicated = status.isin(["paid", "denied"])
    denied = status.eq("denied")
    denied_claims = claim_lines.loc[denied, "claim_id"].nunique() if len(claim_lines) else 0
    rates: dict[str, tuple[float | None, str]] = {
        "denial_rate": (
            _share(float(denied.sum()), float(adjudicated.sum())),
            "share of adjudicated lines denied",
        )
    }
    if not appeals.empty:
        level = pd.to_numeric(appeals.get("appeal_level"), errors="coerce")
        first = appeals.loc[level.eq(1), "claim_id"].nunique()
        rates["appeal_share"] = (
            _share(float(first), float(denied_claims)),
            "denied claims with a level-1 appeal on record",
        )
        outcome = appeals["outcome"].astype("str").str.lower()
        decided = outcome.isin(["overturned", "partial", "partially_overturned", "upheld"])
        won = outcome.isin(["overturned", "partial", "partially_overturned"])
        rates["overturn_rate"] = (
            _share(float(won.sum()), float(decided.sum())),
            "decided appeals overturned (fully or partly)",
        )
    if not worklist.empty and "probability" in worklist:
        route = worklist["route"].astype("str")
        idr = worklist[route.isin(["open_negotiation", "idr"])]
        if len(idr):
            rates["idr_win_rate"] = (
                float(_num(idr, "probability").mean()),
                "IDR win probability the playbook assumes (specialty and year prior)",
            )
        den = worklist[_num(worklist, "denied_amount") > 0]
        if len(den):
            w = _num(den, "at_stake")
            p = _num(den, "probability")
            rates["recoverable_share"] = (
                float((w * p).sum() / w.sum()) if w.sum() else None,
                "denied dollars the playbook expects to recover (probability-weighted)",
            )
    if targets is not None and {"specialty", "idr_award_x_qpa"} <= set(targets.columns):
        em = pd.to_numeric(
            targets.loc[targets["specialty"].eq("emergency_medicine"), "idr_award_x_qpa"],
            errors="coerce",
        ).dropna()
        if len(em):
            rates["idr_award_x_qpa_em"] = (
                float(em.median()),
                "IDR award the playbook assumes for emergency medicine (x QPA)",
            )
    return rates


def industry_table(
    rates: dict[str, tuple[float | None, str]], figures: list[IndustryFigure]
) -> pd.DataFrame:
    """Client figure beside each published one, with source and year (one row per figure)."""
    rows = []
    for f in figures:
        mine, what = rates.get(f.compare_to, (None, ""))
        kind = "multiple" if "multiple" in f.unit else "percent"
        rows.append(
            {
                "measure": f.measure[:1].upper() + f.measure[1:],
                "this practice": format_value(mine, kind) if mine is not None else "—",
                "what the practice's figure counts": what or "not measured in this run",
                "published": f.display or format_value(f.value, kind),
                "population": f.population,
                "source": f.citation,
            }
        )
    return pd.DataFrame(rows)


_PFS_YEAR = re.compile(r"\bPFS (\d{4})\b")


def industry_reading(
    rates: dict[str, tuple[float | None, str]], figures: list[IndustryFigure]
) -> str:
    """Two or three plain sentences setting the practice's own rates beside published ones."""
    by_id = {f.id: f for f in figures}
    parts = []
    deny = rates.get("denial_rate", (None, ""))[0]
    oon = by_id.get("denial_rate_oon_marketplace")
    if deny is not None and oon is not None:
        word = "below" if deny < oon.value else "above"
        parts.append(
            f"The practice's payers denied {deny:.1%} of its adjudicated lines, {word} the "
            f"{oon.value:.0%} of out-of-network claims denied by Marketplace insurers "
            f"({oon.source.split(',')[0]}, {oon.year} data)."
        )
    appealed = rates.get("appeal_share", (None, ""))[0]
    kff = by_id.get("denials_appealed_marketplace")
    if appealed is not None and kff is not None:
        parts.append(
            f"It appealed {appealed:.0%} of its denied claims, where fewer than 1% of denials "
            f"are appealed in the Marketplace ({kff.source.split(',')[0]}, {kff.year} data)"
            + (
                f"; {rates['overturn_rate'][0]:.0%} of its decided appeals were overturned."
                if rates.get("overturn_rate", (None, ""))[0] is not None
                else "."
            )
        )
    win = by_id.get("idr_provider_win_rate")
    if win is not None:
        parts.append(
            f"Providers won {win.value:.0%} of federal IDR payment determinations in the latest "
            f"quarter published by CMS ({win.by_quarter[-1]['quarter'] if win.by_quarter else win.year}): "
            "the playbook prices each dispute with win probabilities drawn from these outcomes."
        )
    return " ".join(parts)


def industry_trends(figures: list[IndustryFigure]) -> list[str]:
    """One sentence per published figure that comes by quarter (the federal IDR win rate)."""
    out = []
    for f in figures:
        if not f.by_quarter:
            continue
        parts = ", ".join(
            f"{q['quarter']} {format_value(q['value'], 'percent')}" for q in f.by_quarter
        )
        out.append(f"{f.measure[:1].upper() + f.measure[1:]}, by quarter ({f.source}): {parts}.")
    return out


def data_vintages(run_dir: Path, claim_lines: pd.DataFrame, fee_schedule_year: int) -> list[str]:
    """One sentence per reference data set used, and a note on lines of one year priced with
    another year's fee schedule (read from each line's Medicare vintage when recorded)."""
    out: list[str] = []
    bench_path = run_dir / "artifacts" / "benchmarks.parquet"
    b = pd.DataFrame()
    if bench_path.exists():
        cols = ["claim_id", "line_no", "medicare_vintage", "ucr_vintage", "fh_vintage"]
        cols += ["qpa_vintage", "tic_vintage"]
        from oonplaybook.benchmark import read_benchmarks

        b = read_benchmarks(bench_path, cols)
        names = {
            "medicare_vintage": "Medicare",
            "ucr_vintage": "UCR",
            "fh_vintage": "FAIR Health",
            "qpa_vintage": "QPA",
            "tic_vintage": "Transparency in Coverage",
        }
        for c in [c for c in b.columns if c in names]:
            vals = b[c].dropna().astype("str")
            vals = vals[vals.str.strip() != ""]
            if len(vals):
                top = vals.value_counts()
                if len(top) <= 3:
                    out.append(f"{names[c]}: {'; '.join(top.index)}")
                else:
                    out.append(f"{names[c]}: {top.index[0]} (and {len(top) - 1} others)")
    if "service_date" not in claim_lines or claim_lines.empty:
        return out
    lines = claim_lines[[c for c in ("claim_id", "line_no", "service_date") if c in claim_lines]]
    if {"claim_id", "line_no", "medicare_vintage"} <= set(b.columns) and "line_no" in lines:
        priced = lines.merge(b[["claim_id", "line_no", "medicare_vintage"]], how="left")
        # the year of each distinct vintage text, mapped back to the lines (a few texts, many lines)
        codes, texts = pd.factorize(priced["medicare_vintage"].astype("str"))
        year_of = pd.Series(texts).str.extract(_PFS_YEAR)[0]
        year = pd.Series(year_of.to_numpy()[codes], index=priced.index)
        priced_year = pd.to_numeric(year, errors="coerce").fillna(fee_schedule_year)
    else:  # no per-line vintage: every line is priced with the params' year
        priced = lines
        priced_year = pd.Series(float(fee_schedule_year), index=lines.index)
    service_year = priced["service_date"].dt.year
    off = priced[(service_year != priced_year) & service_year.notna()]
    if len(off):
        pairs = (
            pd.DataFrame({"service": service_year[off.index], "priced": priced_year[off.index]})
            .astype("int64")
            .value_counts()
            .sort_index()
        )
        parts = "; ".join(
            f"{n:,} lines of {sy} priced with the {py} fee schedule"
            for (sy, py), n in pairs.items()
        )
        out.append(
            f"Medicare amounts: {parts} (its own year's schedule was not used; amounts can differ "
            "by a few percent)."
        )
    return out


def _rules_note(as_of: date, overrides: dict[str, str] | None) -> str:
    """Which federal IDR rule version the deadlines use, and which dates are unconfirmed."""
    from oonplaybook.reference.rule_versions import rule_version

    return "Federal IDR rules: " + rule_version(as_of, overrides or None).note()


#: The claim-line columns the summary reads (the rest of a 10M-line table stays on disk).
_SUMMARY_COLUMNS = (
    "claim_id",
    "line_no",
    "service_date",
    "specialty",
    "billed",
    "paid",
    "claim_status",
)


def build_summary(
    run_dir: str | Path,
    *,
    client_name: str,
    as_of: date,
    run_date: date,
    fee_schedule_year: int,
    specialties: list[str] | None = None,
    figures: list[IndustryFigure] | None = None,
    rule_applicability: dict[str, str] | None = None,
) -> ExecutiveSummary:
    """Compute the executive summary from a run folder's artifacts."""
    run_dir = Path(run_dir)
    art = run_dir / "artifacts"
    cl_path = art / "claim_lines.parquet"
    claim_lines = (
        partitions.read_present(cl_path, _SUMMARY_COLUMNS) if cl_path.exists() else pd.DataFrame()
    )
    worklist = _read_csv(art / "worklist.csv", WORKLIST_SUMMARY_COLUMNS)
    batches = _read_csv(art / "idr_batches.csv")
    scorecard = _read_csv(art / "scorecard.csv")
    ap_path = art / "appeals.parquet"
    appeals = pd.read_parquet(ap_path) if ap_path.exists() else pd.DataFrame()

    status = (
        worklist["status"].astype("str")
        if "status" in worklist
        else pd.Series("", index=worklist.index, dtype="str")
    )
    open_ = worklist[status.eq("open")] if len(worklist) else worklist
    lost_rows = worklist[status.eq("lost")] if len(worklist) else worklist
    low, high = recoverable_range(open_) if len(open_) else (0.0, 0.0)
    days_left = _num(open_, "days_left")
    soon = open_[(days_left <= 14) & (days_left >= 0)] if len(open_) else open_

    why: list[str] = []
    if len(lost_rows):
        g = (
            lost_rows.assign(_lost=_num(lost_rows, "lost_revenue"))
            .groupby("route")["_lost"]
            .agg(["sum", "size"])
            .sort_values("sum", ascending=False)
        )
        for route, r in g.iterrows():
            if r["sum"] <= 0:
                continue
            reason = LOST_REASONS.get(str(route), f"the {route} deadline passed")
            why.append(f"{money(r['sum'])} on {int(r['size']):,} items: {reason}")

    stale_days = (run_date - as_of).days
    actions = pd.DataFrame()
    actions_basis = f"deadlines counted to {as_of.isoformat()}"
    if len(open_):
        cand = open_[days_left >= 0].copy()
        cand = cand[_num(cand, "expected_recovery") > 0]
        cand = cand.sort_values(
            ["priority", "rank"] if "priority" in cand else ["rank"],
            ascending=[False, True] if "priority" in cand else [True],
            kind="stable",
        )
        if stale_days > STALE_AFTER_DAYS and "deadline" in cand:
            # acting today: only items whose deadline is still ahead, days counted from today
            dl = pd.to_datetime(cand["deadline"], errors="coerce")
            keep = dl.isna() | (dl.dt.date >= run_date)
            cand = cand[keep].assign(
                days_left=(dl[keep] - pd.Timestamp(run_date)).dt.days.astype("Float64"),
                _undated=dl[keep].isna(),
            )
            # dated items first: an item with a deadline ahead is this week's work
            cand = cand.sort_values("_undated", kind="stable").drop(columns="_undated")
            actions_basis = (
                f"items still open on {run_date.isoformat()} (those with a deadline first), "
                "days left counted from that date"
            )
        top = cand.head(10)
        actions = pd.DataFrame(
            {
                "rank": top.get("rank"),
                # the worklist's own next-action sentence when it has one, else the route's verb
                "action": top["action"]
                if "action" in top
                else top["route"].map(lambda r: ROUTE_ACTIONS.get(str(r), str(r))),
                "claim_id": top["claim_id"],
                "payer": top["payer"],
                "deadline": top.get("deadline"),
                "days_left": top.get("days_left"),
                "at_stake": top.get("at_stake"),
                "expected_recovery": top.get("expected_recovery"),
            }
        ).reset_index(drop=True)
        actions_total = len(cand)
    else:
        actions_total = 0

    today_open = today_exp = newly_lost = 0
    if len(open_) and "deadline" in open_:
        dl = pd.to_datetime(open_["deadline"], errors="coerce")
        still = dl.isna() | (dl.dt.date >= run_date)
        today_open = int(still.sum())
        today_exp = float(_num(open_, "expected_recovery")[still].sum())
        newly_lost = int((~still).sum())

    scope_note = ""
    if specialties and "specialty" in claim_lines and "generic" not in specialties:
        spec = claim_lines["specialty"]
        out_of_scope = claim_lines[~spec.astype("str").isin(specialties)]
        if len(out_of_scope):
            blank = out_of_scope["specialty"].map(is_missing)
            scope_note = (
                f"{len(out_of_scope):,} lines ({money(float(out_of_scope['billed'].sum()))} billed) "
                f"are outside the chosen specialties ({int(blank.sum()):,} of them with no specialty "
                "recorded): chapters 1 to 3 count them, the playbook (chapter 4) does not, so "
                "chapter 4's billed total is lower by that amount."
            )

    figs = figures if figures is not None else load_industry_benchmarks()
    rates = client_rates(claim_lines, appeals, worklist, _read_csv(art / "targets.csv"))
    worth = (
        batches[batches["worth_filing"].astype("str").str.lower().eq("true")]
        if len(batches) and "worth_filing" in batches
        else batches
    )
    period = (
        claim_lines["service_date"].dropna()
        if "service_date" in claim_lines
        else pd.Series(dtype="datetime64[ns]")
    )
    return ExecutiveSummary(
        client_name=client_name,
        run_date=run_date,
        as_of=as_of,
        period_start=period.min().date() if len(period) else None,
        period_end=period.max().date() if len(period) else None,
        claims=int(claim_lines["claim_id"].nunique()) if len(claim_lines) else 0,
        lines=len(claim_lines),
        billed=float(_num(claim_lines, "billed").sum()),
        paid=float(_num(claim_lines, "paid").sum()),
        open_items=len(open_),
        at_stake_open=float(_num(open_, "at_stake").sum()),
        expected_recoverable=float(_num(open_, "expected_recovery").sum()),
        recoverable_low=low,
        recoverable_high=high,
        due_14_days=len(soon),
        due_14_expected=float(_num(soon, "expected_recovery").sum()),
        lost=float(_num(worklist, "lost_revenue").sum()),
        lost_items=len(lost_rows),
        lost_why=why,
        actions=actions,
        actions_total=actions_total,
        actions_basis=actions_basis,
        payer_findings=payer_findings(scorecard),
        industry=industry_table(rates, figs),
        industry_reading=industry_reading(rates, figs),
        industry_trends=industry_trends(figs),
        vintages=[
            *data_vintages(run_dir, claim_lines, fee_schedule_year),
            _rules_note(as_of, rule_applicability),
        ],
        stale_days=stale_days,
        today_open_items=today_open,
        today_expected=today_exp,
        today_newly_lost=newly_lost,
        scope_note=scope_note,
        idr_batches_worth=len(worth),
        idr_ev_net=float(_num(worth, "ev_net").sum()) if len(worth) else 0.0,
    )


def summary_for_run(
    run_dir: str | Path, config: Any, params_base: Path | None = None
) -> ExecutiveSummary:
    """:func:`build_summary` with the as-of date, client and specialties taken from the config."""
    from oonplaybook.context import StageContext

    run_dir = Path(run_dir)
    ctx = StageContext(config=config, run_dir=run_dir, params_base=params_base or run_dir)
    cl_path = run_dir / "artifacts" / "claim_lines.parquet"
    claim_lines = None
    if cl_path.exists():
        claim_lines = partitions.read_present(
            cl_path, ("remit_date", "submitted_date", "service_date")
        )
    return build_summary(
        run_dir,
        client_name=config.client_name or config.client,
        as_of=ctx.as_of_date(claim_lines),
        run_date=date.today(),
        fee_schedule_year=config.fee_schedule_year,
        specialties=list(config.specialties),
        rule_applicability=dict(config.playbook.rule_applicability),
    )


def headline_record(s: ExecutiveSummary) -> dict[str, Any]:
    """What :func:`headline_lines` prints, as the run's manifest stores it (JSON): the run
    computes its summary once, and the terminal's lines are read back, not recomputed (the
    summary reads the worklist and simulates its recovery interval: a minute at 3M lines)."""
    return {
        "figures": [list(x) for x in s.headline()],
        "stale": s.stale,
        "as_of": s.as_of.isoformat(),
        "stale_days": s.stale_days,
    }


def headline_lines(run_dir: str | Path, params_path: str | Path) -> list[str]:
    """The lines ``oonplaybook run`` ends with: three headline figures and the report's paths.

    The figures come from the manifest's ``headline`` (:func:`headline_record`, written by the
    run) when it has one, else from the summary computed afresh. Never raises: a run that
    succeeded is not turned into a failure by its summary (the line then says why the figures
    are missing).
    """
    from oonplaybook.config import load_config

    run_dir = Path(run_dir)
    out: list[str] = []
    html = run_dir / "report.html"
    if not html.exists():
        return out
    try:
        try:
            manifest = json.loads((run_dir / "manifest.json").read_text())
        except (OSError, ValueError):
            manifest = {}
        rec = manifest.get("headline") if isinstance(manifest, dict) else None
        if not rec:
            try:  # the params the run used, as its manifest recorded them
                from oonplaybook.config import RunConfig

                cfg, base = RunConfig.model_validate(manifest["params"]), Path(params_path).parent
            except (ValueError, KeyError, TypeError):
                cfg, base = load_config(params_path)
            rec = headline_record(summary_for_run(run_dir, cfg, base))
        figures = [(str(label), str(value)) for label, value in rec["figures"]]
        width = max(len(label) for label, _ in figures)
        out += [f"  {label:<{width}}  {value:>12}" for label, value in figures]
        if rec["stale"]:
            out.append(
                f"  (deadlines counted to {rec['as_of']}, {rec['stale_days']} days ago: "
                "see the report's warning)"
            )
    except Exception as e:  # the run itself succeeded; say why there are no figures
        out.append(f"  headline figures unavailable: {type(e).__name__}: {e}")
    out.append(f"  report: {html}")
    pdf = run_dir / "report.pdf"
    if pdf.exists():
        out.append(f"  report: {pdf}")
    else:
        try:
            note = json.loads((run_dir / "manifest.json").read_text()).get("report_pdf", "")
        except (OSError, ValueError):
            note = ""
        out.append(f"  {note or 'report.pdf not written'}")
    return out
