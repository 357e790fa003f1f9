"""The ``tic_in_network`` benchmark rung and the QPA check, from an extracted TiC rate dataset.

Per claim line: the payer's own in-network rates for the code (modifier, place of service,
professional billing class) in the extracted region (median, p25/p75/p90, provider groups,
distinct rates) and the all-payer regional distribution. Dollars come only from dollar types
(negotiated, derived, fee schedule); percentage-of-billed rates are applied to the line's own
billed charge and reported apart; per-diem rates are not professional-claim benchmarks and are
left out. The QPA check compares a QPA the remit or export carries with the same payer's
current in-network median for the code: the QPA is meant to be the plan's median contracted
rate (indexed from 2019; 45 CFR 149.140), so a QPA far below it is worth contesting, with the
evidence (files, months, provider-group count) beside it.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from oonplaybook.tic_in_network import DOLLAR_TYPES, read_dataset

RUNG_COLUMNS = [
    "innet_median",
    "innet_p25",
    "innet_p75",
    "innet_p90",
    "innet_groups",
    "innet_rates",
    "innet_match",
    "innet_all_median",
    "innet_all_p75",
    "innet_all_groups",
    "innet_pct_of_billed_median",
    "innet_pct_amount",
    "innet_source",
    "innet_vintage",
    "qpa_to_innet_median",
    "qpa_check",
]


def load(path: str | Path | None, codes: list[str] | None = None) -> pd.DataFrame | None:
    """The extracted dataset (``oonplaybook tic extract`` output), or None when not configured."""
    if not path:
        return None
    p = Path(path)
    if not p.exists():
        raise FileNotFoundError(
            f"{p}: no TiC rate dataset there; extract one with `oonplaybook tic extract FILES "
            f"--codes CLAIM_LINES.parquet --out {p}`"
        )
    return read_dataset(p, codes)


def _pricing_mod(mods: pd.Series) -> pd.Series:
    """The modifier that changes a professional price (26/TC), else ""."""
    m = mods.astype("str").fillna("")
    return np.where(m.str.contains(r"\b26\b"), "26", np.where(m.str.contains(r"\bTC\b"), "TC", ""))


def _stats(t: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    g = t.groupby(keys, sort=True, observed=True)
    q = g["dollar_rate"].quantile([0.25, 0.5, 0.75, 0.9]).unstack()
    q.columns = ["p25", "median", "p75", "p90"]
    q["groups"] = g["group_key"].nunique()
    q["rates"] = g["dollar_rate"].nunique()
    q["src"] = g["source_file"].agg(
        lambda s: ", ".join(sorted(set(s))[:3]) + (" …" if s.nunique() > 3 else "")
    )
    q["months"] = g["file_month"].agg(lambda s: ", ".join(sorted(set(map(str, s)))))
    return q


def _lookup(table: pd.DataFrame, keys: list[pd.Series]) -> pd.DataFrame:
    idx = (
        pd.MultiIndex.from_arrays([k.astype("str").to_numpy() for k in keys])
        if len(keys) > 1
        else pd.Index(keys[0].astype("str"))
    )
    out = table.reindex(idx)
    out.index = keys[0].index
    return out


def in_network_rung(
    lines: pd.DataFrame,
    rates: pd.DataFrame | None,
    *,
    qpa_flag_below: float = 0.8,
    payers: Sequence[str] | None = None,
) -> pd.DataFrame:
    """The rung's columns for every line (empty/NaN where the dataset has nothing).

    ``payers``: the claim payers TiC entities are matched to (default: those of ``lines``;
    one part of a large client passes the whole client's)."""
    n = len(lines)
    res = pd.DataFrame(index=lines.index)
    for c in RUNG_COLUMNS:
        res[c] = (
            "" if c in ("innet_match", "innet_source", "innet_vintage", "qpa_check") else np.nan
        )
    res["innet_groups"] = 0
    res["innet_all_groups"] = 0
    if rates is None or rates.empty or n == 0:
        return res
    from oonplaybook.benchmark import match_tic_payers

    t = rates.copy()
    t = t[t["billing_class"].isin(["professional", "both", ""])]
    t["billing_code"] = t["billing_code"].astype("str").str.upper()
    t["mod"] = _pricing_mod(t["billing_code_modifier"])
    t["group_key"] = t["provider_group_id"].astype("str") + "|" + t["tin_value"].astype("str")
    t["claim_payer"] = match_tic_payers(
        t.rename(columns={"payer": "reporting_entity_name"}),
        list(payers) if payers is not None else lines["payer"].astype("str").unique().tolist(),
    ).to_numpy()
    # zero and negative rates pass CMS's validator but are no benchmark: flagged, left out
    dollars = t[t["negotiated_type"].isin(DOLLAR_TYPES) & (t["dollar_rate"] > 0)]
    pct = t[t["negotiated_type"] == "percentage"]
    lcode = lines["cpt"].astype("str").str.upper()
    lmod = pd.Series(_pricing_mod(lines["modifiers"]), index=lines.index)
    lpos = (
        lines["pos"].astype("str") if "pos" in lines.columns else pd.Series("", index=lines.index)
    )
    lpayer = lines["payer"].astype("str")
    # payer's own: exact place of service first, then any place of service
    by_pos = dollars.assign(pos=dollars["service_code"].str.split(":")).explode("pos")
    todo = np.ones(n, dtype=bool)
    for label, table, tkeys, lkeys in (
        (
            "payer+code+modifier+pos",
            by_pos[by_pos["claim_payer"] != ""],
            ["claim_payer", "billing_code", "mod", "pos"],
            [lpayer, lcode, lmod, lpos],
        ),
        (
            "payer+code+modifier",
            dollars[dollars["claim_payer"] != ""],
            ["claim_payer", "billing_code", "mod"],
            [lpayer, lcode, lmod],
        ),
    ):
        if table.empty:
            continue
        got = _lookup(_stats(table, tkeys), lkeys)
        ok = todo & got["median"].notna().to_numpy()
        for col, src in (
            ("innet_median", "median"),
            ("innet_p25", "p25"),
            ("innet_p75", "p75"),
            ("innet_p90", "p90"),
            ("innet_groups", "groups"),
            ("innet_rates", "rates"),
        ):
            res.loc[ok, col] = got[src].to_numpy()[ok]
        res.loc[ok, "innet_match"] = label
        res.loc[ok, "innet_source"] = (
            "TiC in-network rates (" + got["src"].astype("str") + ")"
        ).to_numpy()[ok]
        res.loc[ok, "innet_vintage"] = ("file month " + got["months"].astype("str")).to_numpy()[ok]
        todo &= ~ok
    # all payers in the region, same code and modifier
    got = _lookup(_stats(dollars, ["billing_code", "mod"]), [lcode, lmod])
    res["innet_all_median"] = got["median"].to_numpy()
    res["innet_all_p75"] = got["p75"].to_numpy()
    res["innet_all_groups"] = got["groups"].fillna(0).to_numpy()
    # percentage-of-billed contracts: applied to this line's charge, never mixed with dollars
    if not pct.empty:
        pm = (
            pct[pct["claim_payer"] != ""]
            .groupby(["claim_payer", "billing_code", "mod"])["percent_of_billed"]
            .median()
        )
        got = _lookup(pm.to_frame("m"), [lpayer, lcode, lmod])["m"]
        res["innet_pct_of_billed_median"] = got.to_numpy()
        if "billed" in lines.columns:
            res["innet_pct_amount"] = (lines["billed"].to_numpy() * got.to_numpy() / 100.0).round(2)
    res["innet_groups"] = res["innet_groups"].fillna(0).astype("int64")
    res["innet_all_groups"] = res["innet_all_groups"].fillna(0).astype("int64")
    # the QPA check
    if "qpa" in lines.columns:
        ratio = lines["qpa"].to_numpy(dtype=float) / res["innet_median"].to_numpy(dtype=float)
        res["qpa_to_innet_median"] = np.round(ratio, 3)
        far = np.isfinite(ratio) & (ratio < qpa_flag_below)
        res.loc[far, "qpa_check"] = (
            "QPA is "
            + pd.Series(ratio[far], index=res.index[far]).map("{:.2f}x".format)
            + " the payer's own in-network median for the code ($"
            + res.loc[far, "innet_median"].map("{:,.2f}".format)
            + ", "
            + res.loc[far, "innet_groups"].astype(str)
            + " provider groups; "
            + res.loc[far, "innet_vintage"].astype(str)
            + "; "
            + res.loc[far, "innet_source"].astype(str)
            + ")"
        )
    return res


QPA_CHECK_COLUMNS = [
    "payer",
    "cpt",
    "lines",
    "flagged",
    "qpa_to_innet_median",
    "innet_median",
    "innet_groups",
    "evidence",
]


def qpa_check_table(bench: pd.DataFrame) -> pd.DataFrame:
    """Lines whose QPA sits far below the payer's in-network median, by payer and code."""
    need = {"qpa_to_innet_median", "qpa_check", "payer", "cpt"}
    if not need <= set(bench.columns):
        return pd.DataFrame(columns=QPA_CHECK_COLUMNS)
    b = bench[bench["qpa_to_innet_median"].notna()]
    if b.empty:
        return pd.DataFrame(columns=QPA_CHECK_COLUMNS)
    g = b.groupby(["payer", "cpt"], sort=True)
    out = pd.DataFrame(
        {
            "lines": g.size(),
            "flagged": g["qpa_check"].agg(lambda s: int((s != "").sum())),
            "qpa_to_innet_median": g["qpa_to_innet_median"].median().round(2),
            "innet_median": g["innet_median"].median(),
            "innet_groups": g["innet_groups"].max(),
            "evidence": g["innet_source"].first() + "; " + g["innet_vintage"].first(),
        }
    ).reset_index()
    return out.sort_values(["flagged", "lines"], ascending=False).reset_index(drop=True)


def in_network_table(bench: pd.DataFrame) -> pd.DataFrame:
    """Per payer: lines with an in-network benchmark, the median in-network rate as a multiple
    of Medicare and the allowed amount as a share of the in-network median."""
    if "innet_median" not in bench.columns:
        return pd.DataFrame()
    b = bench[bench["innet_median"].notna()]
    if b.empty:
        return pd.DataFrame(
            columns=["payer", "lines", "innet_x_medicare", "allowed_share_of_innet"]
        )
    allowed = b["allowed"] if "allowed" in b.columns else np.nan
    g = b.assign(
        innet_x_medicare=b["innet_median"] / b["medicare_allowed"],
        allowed_share_of_innet=allowed / b["innet_median"],
    ).groupby("payer", sort=True)
    return pd.DataFrame(
        {
            "lines": g.size(),
            "innet_x_medicare": g["innet_x_medicare"].median().round(2),
            "allowed_share_of_innet": g["allowed_share_of_innet"].median().round(3),
            "innet_groups": g["innet_groups"].max(),
        }
    ).reset_index()
