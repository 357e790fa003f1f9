"""Coding compliance before appeal: NCCI PTP edits, MUEs and the PFS policy indicators per claim.

A bundling or unit denial (CO-97, CO-234, CO-236, CO-59, CO-151, CO-119 ...) is worth appealing
only when the payer was wrong. For each line this module asks what CMS's own edits say for the
same patient, rendering provider and date of service, and gives one verdict:

* ``payer_edit_correct``: an active NCCI edit (or PFS indicator) supports the denial. Route: a
  corrected claim when a modifier was missing and the documentation supports a distinct service,
  else a write-off with the reason.
* ``payer_edit_wrong``: the edit allows a bypass and the claim carries a proper modifier, or the
  indicator allows what the payer denied. Route: appeal citing the edit.
* ``payer_edit_not_ncci``: no active NCCI edit bundles the pair or limits the units (deleted,
  not yet effective or no such pair): the payer's own edit. Route: appeal or negotiation citing
  NCCI as evidence.
* ``documentation_needed``: a clinical MUE (MAI 3) or an assistant-at-surgery indicator 0: appeal
  with the records.

The same checks run on pending lines (``stage = pre_submission``) to flag what will be denied
before it is. Sources: NCCI Policy Manual for Medicare Services (2026), ch. I (modifier
indicators, NCCI-associated modifiers, MUE adjudication indicators) and the PFS RVU file's
policy indicators (CMS RVU file documentation: GLOB DAYS, MULT PROC, BILAT SURG, ASST SURG).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

VERDICTS = (
    "payer_edit_correct",
    "payer_edit_wrong",
    "payer_edit_not_ncci",
    "documentation_needed",
    "ok",
)
EDITS = ("ptp", "mue", "global_period", "bilateral", "multiple_procedure", "assistant")

#: Modifiers that may bypass a PTP edit with indicator 1 (NCCI Policy Manual ch. I §E: the
#: "NCCI-associated modifiers": anatomic, global surgery, 59 and its X{EPSU} subsets, 91, 25/57
#: for an E/M with a procedure).
NCCI_ASSOCIATED_MODIFIERS = frozenset(
    {"E1", "E2", "E3", "E4", "FA", "F1", "F2", "F3", "F4", "F5", "F6", "F7", "F8", "F9"}
    | {"LC", "LD", "LM", "RC", "RI", "LT", "RT", "TA", "T1", "T2", "T3", "T4", "T5"}
    | {"T6", "T7", "T8", "T9", "24", "25", "27", "57", "58", "59", "78", "79", "91"}
    | {"XE", "XS", "XP", "XU"}
)
ASSISTANT_MODIFIERS = frozenset({"80", "81", "82", "AS"})
#: CARCs of edit-driven denials and reductions this module judges (X12 CARC list: 4 modifier
#: inconsistent, 59 multiple-procedure rules, 97/234 bundled or not paid separately, 236 NCCI
#: incompatible pair, 119 benefit maximum, 151 number/frequency of services).
CODING_CARCS = frozenset({"4", "59", "97", "234", "236", "119", "151"})
UNIT_CARCS = frozenset({"119", "151"})
PTP_CARCS = frozenset({"4", "97", "234", "236"})

ROUTES = {
    "payer_edit_correct": "write_off",
    "payer_edit_wrong": "appeal",
    "payer_edit_not_ncci": "appeal",
    "documentation_needed": "appeal_with_records",
    "ok": "",
}
#: One verdict per line: the most decisive edit wins (a correct edit settles it).
_PRIORITY = {v: i for i, v in enumerate(VERDICTS)}

OUTPUT_COLUMNS = [
    "claim_id",
    "line_no",
    "stage",
    "edit",
    "cpt",
    "column1_code",
    "column2_code",
    "modifier_indicator",
    "effective_date",
    "deletion_date",
    "mue_value",
    "mai",
    "units",
    "verdict",
    "route",
    "evidence",
]
REQUIRED_COLUMNS = (
    "claim_id",
    "line_no",
    "patient_key",
    "provider_npi",
    "service_date",
    "cpt",
    "modifiers",
    "units",
    "claim_status",
    "carc",
)
#: Every claim-line column the coding check reads (a stage reads only these, not the table).
CHECK_COLUMNS = (*REQUIRED_COLUMNS, "billed", "paid")


class CodingInputError(ValueError):
    """The claim lines lack a column the edits need."""


@dataclass(frozen=True)
class PolicyIndicators:
    """The PFS RVU file's policy indicators by HCPCS (global days, mult proc, bilat, asst)."""

    table: pd.DataFrame  # hcpcs, glob_days, mult_proc, bilat_surg, asst_surg

    @classmethod
    def from_rvu(cls, rvu: pd.DataFrame) -> PolicyIndicators:
        """Use the global (no-modifier) row of each HCPCS in a PPRRVU table."""
        t = rvu[rvu["mod"].fillna("") == ""][
            ["hcpcs", "glob_days", "mult_proc", "bilat_surg", "asst_surg"]
        ]
        return cls(t.drop_duplicates("hcpcs").reset_index(drop=True))


def _d(ts: object) -> str:
    return "" if ts is None or pd.isna(ts) else pd.Timestamp(ts).strftime("%Y-%m-%d")


def _ds(dates: pd.Series) -> pd.Series:
    """ISO dates as text ("" when missing), also for an empty column."""
    return pd.to_datetime(dates).dt.strftime("%Y-%m-%d").fillna("").astype("object")


def _prepare(lines: pd.DataFrame) -> pd.DataFrame:
    missing = [c for c in REQUIRED_COLUMNS if c not in lines.columns]
    if missing:
        raise CodingInputError(
            f"claim lines lack {', '.join(missing)}; the coding check needs {', '.join(REQUIRED_COLUMNS)} "
            "(the canonical claim_lines table from `oonplaybook ingest` has them)"
        )
    L = lines[list(REQUIRED_COLUMNS) + [c for c in ("billed", "paid") if c in lines.columns]].copy()
    L = L.reset_index(drop=True)
    L["lid"] = np.arange(len(L))
    L["date"] = pd.to_datetime(L["service_date"]).dt.normalize()
    L["cpt"] = L["cpt"].astype("str").str.strip().str.upper()
    L["mods"] = L["modifiers"].fillna("").astype("str").str.upper()
    L["ncci_mod"] = _ncci_modifiers(L["mods"])
    carc = per_distinct(
        L["carc"].fillna("").astype("str"),
        lambda u: u.str.upper().str.split("-").str[-1].str.strip(),
        "str",
    )
    L["carc_code"] = carc
    status = L["claim_status"].fillna("").astype("str")
    L["stage"] = np.where(status == "pending", "pre_submission", "remitted")
    L["edit_denied"] = (status != "pending") & carc.isin(CODING_CARCS)
    L["units"] = pd.to_numeric(L["units"], errors="raise").fillna(1.0)
    # one group per patient, rendering provider and date of service (where NCCI edits apply)
    L["group"] = L.groupby(["patient_key", "provider_npi", "date"], sort=False).ngroup()
    return L


def per_distinct(
    s: pd.Series, fn: Callable[[pd.Series], pd.Series], dtype: str = "object"
) -> pd.Series:
    """``fn(s)`` worked out once per distinct string of ``s`` and taken back to every row (a
    client's millions of lines hold a few hundred modifier or CARC strings)."""
    codes, uniq = pd.factorize(s, use_na_sentinel=False)
    per = fn(pd.Series(uniq, dtype="str"))
    return pd.Series(per.to_numpy(dtype=object)[codes], index=s.index, dtype=dtype)


def _ncci_modifiers(mods: pd.Series) -> pd.Series:
    """The NCCI-associated modifiers of each ":"-joined modifier string, ","-joined."""
    return per_distinct(mods, _ncci_modifiers_of)


def _ncci_modifiers_of(mods: pd.Series) -> pd.Series:
    """:func:`_ncci_modifiers` on each string of ``mods`` (the per-distinct-value worker)."""
    out = pd.Series("", index=mods.index, dtype="object")
    cols = mods.str.split(":", expand=True)
    for c in cols.columns:
        v = cols[c].where(cols[c].isin(NCCI_ASSOCIATED_MODIFIERS), "").fillna("").astype("object")
        out = out.where(v == "", out.where(out == "", out + ",") + v)
    return out


def _has_mod(mods: pd.Series, wanted: frozenset[str] | set[str]) -> pd.Series:
    """Whether a ":"-joined modifier string holds any of ``wanted``."""
    pattern = ":(?:" + "|".join(sorted(wanted)) + "):"
    return (":" + mods + ":").str.contains(pattern, regex=True)


def _ptp(L: pd.DataFrame, ptp: pd.DataFrame) -> tuple[pd.DataFrame, set[int]]:
    """Edit rows for column-2 lines of active PTP pairs; also the line ids an edit explains."""
    multi = L[L.groupby("group")["lid"].transform("size") > 1]
    cols = ["group", "lid", "cpt", "ncci_mod", "date"]
    pairs = multi[cols].merge(multi[cols], on="group", suffixes=("_1", "_2"))
    pairs = pairs[pairs["lid_1"] != pairs["lid_2"]]
    hit = pairs.merge(ptp, left_on=["cpt_1", "cpt_2"], right_on=["column1", "column2"])
    d = hit["date_1"]
    active = (
        (hit["effective_date"] <= d)
        & (hit["deletion_date"].isna() | (d <= hit["deletion_date"]))
        & (hit["modifier_indicator"] != "9")
    )
    inactive = hit[~active]
    hit = hit[active].copy()
    L2 = L.set_index("lid")
    hit["edit_denied"] = L2.loc[hit["lid_2"], "edit_denied"].to_numpy()
    hit["stage"] = L2.loc[hit["lid_2"], "stage"].to_numpy()
    modded = (hit["ncci_mod_1"] != "") | (hit["ncci_mod_2"] != "")
    mi0 = hit["modifier_indicator"] == "0"
    acts = hit["edit_denied"] | (hit["stage"] == "pre_submission")
    verdict = np.select(
        [~acts, mi0, modded & hit["edit_denied"], modded],
        ["ok", "payer_edit_correct", "payer_edit_wrong", "ok"],
        default="payer_edit_correct",
    )
    route = np.where(
        (verdict == "payer_edit_correct") & ~mi0,
        "corrected_claim",
        pd.Series(verdict).map(ROUTES).to_numpy(),
    )
    mod_text = np.where(
        modded,
        "modifier "
        + (hit["ncci_mod_1"] + "," + hit["ncci_mod_2"]).str.strip(",")
        + " on the claim",
        "no NCCI-associated modifier on either line",
    )
    eff = _ds(hit["effective_date"])
    dele = _ds(hit["deletion_date"]).replace("", "none")
    evidence = (
        "NCCI PTP edit "
        + hit["column1"]
        + "/"
        + hit["column2"]
        + " (modifier indicator "
        + hit["modifier_indicator"]
        + ", effective "
        + eff
        + ", deleted "
        + dele
        + ") was active on "
        + _ds(hit["date_1"])
        + "; "
        + pd.Series(mod_text, index=hit.index)
    )
    suffix = np.select(
        [
            verdict == "payer_edit_wrong",
            (verdict == "payer_edit_correct") & mi0,
            verdict == "payer_edit_correct",
        ],
        [
            ": the modifier bypasses the edit, the payer ignored it",
            ": indicator 0 allows no bypass",
            ": a corrected claim with the modifier is the route if the record documents a distinct service",
        ],
        default="",
    )
    hit["evidence"] = evidence + suffix
    out = pd.DataFrame(
        {
            "lid": hit["lid_2"].to_numpy(),
            "edit": "ptp",
            "column1_code": hit["column1"].to_numpy(),
            "column2_code": hit["column2"].to_numpy(),
            "modifier_indicator": hit["modifier_indicator"].to_numpy(),
            "effective_date": hit["effective_date"].to_numpy(),
            "deletion_date": hit["deletion_date"].to_numpy(),
            "verdict": verdict,
            "route": route,
            "evidence": hit["evidence"].to_numpy(),
        }
    )
    # pairs in the table but not active on the date: evidence for payer_edit_not_ncci
    inactive = inactive.assign(
        why="NCCI PTP pair "
        + inactive["column1"]
        + "/"
        + inactive["column2"]
        + np.where(
            inactive["modifier_indicator"] == "9",
            " was withdrawn on its effective date (indicator 9)",
            np.where(
                inactive["effective_date"] > inactive["date_1"],
                " takes effect only on " + _ds(inactive["effective_date"]),
                " was deleted after " + _ds(inactive["deletion_date"]),
            ),
        )
    )
    out.attrs["inactive"] = inactive.groupby("lid_2")["why"].first().to_dict()
    return out, set(out["lid"])


def _mue(L: pd.DataFrame, mue: pd.DataFrame) -> pd.DataFrame:
    """MUE rows: units per line (MAI 1) or per patient, provider and date (MAI 2/3) above the value."""
    m = L.merge(
        mue[["hcpcs", "mue_value", "mai", "effective_date"]], left_on="cpt", right_on="hcpcs"
    )
    m = m[m["effective_date"].isna() | (m["effective_date"] <= m["date"])]
    m = m.sort_values(["lid", "effective_date"]).drop_duplicates("lid", keep="last")
    dos_units = m.groupby(["group", "cpt"])["units"].transform("sum")
    counted = np.where(m["mai"] == 1, m["units"], dos_units)
    over = counted > m["mue_value"]
    m = m.assign(counted=counted)[over]
    if m.empty:
        return pd.DataFrame()
    acts = m["edit_denied"] | (m["stage"] == "pre_submission")
    verdict = np.where(
        ~acts, "ok", np.where(m["mai"] == 3, "documentation_needed", "payer_edit_correct")
    )
    route = np.where(
        (verdict == "payer_edit_correct") & (m["mai"] == 1),
        "corrected_claim",
        pd.Series(verdict).map(ROUTES),
    )
    per = np.where(m["mai"] == 1, "on the line", "on the date of service")
    tail = np.select(
        [m["mai"] == 1, m["mai"] == 2],
        [
            ": a line edit; units beyond it may be billed on another line with 76/77/91 or an anatomic modifier when documented",
            ": a policy edit, not appealable",
        ],
        default=": a clinical edit, appealable with the medical record",
    )
    evidence = (
        "MUE for "
        + m["cpt"]
        + " is "
        + m["mue_value"].astype(str)
        + " (MAI "
        + m["mai"].astype(str)
        + ", effective "
        + _ds(m["effective_date"])
        + "); "
        + pd.Series(counted[over], index=m.index).map("{:g}".format)
        + " units "
        + pd.Series(per, index=m.index)
        + pd.Series(tail, index=m.index)
    )
    return pd.DataFrame(
        {
            "lid": m["lid"].to_numpy(),
            "edit": "mue",
            "mue_value": m["mue_value"].to_numpy(),
            "mai": m["mai"].to_numpy(),
            "verdict": verdict,
            "route": np.asarray(route),
            "evidence": evidence.to_numpy(),
        }
    )


def _is_em(cpt: pd.Series) -> pd.Series:
    num = pd.to_numeric(cpt.where(cpt.str.fullmatch(r"\d{5}"), None), errors="coerce")
    return num.between(99202, 99499)


def _global(L: pd.DataFrame, ind: pd.DataFrame) -> pd.DataFrame:
    """E/M lines inside a procedure's global period by the same provider and patient."""
    P = L.merge(ind[["hcpcs", "glob_days"]], left_on="cpt", right_on="hcpcs")
    P = P[P["glob_days"].isin(["000", "010", "090"])]
    E = L[_is_em(L["cpt"])]
    if P.empty or E.empty:
        return pd.DataFrame()
    key = ["patient_key", "provider_npi"]
    x = E[key + ["lid", "date", "mods", "edit_denied", "stage"]].merge(
        P[key + ["cpt", "date", "glob_days"]], on=key, suffixes=("", "_p")
    )
    days = (x["date"] - x["date_p"]).dt.days
    g = x["glob_days"]
    inside = (
        ((g == "090") & days.between(-1, 90))
        | ((g == "010") & days.between(0, 10))
        | ((g == "000") & (days == 0))
    )
    x = x[inside].copy()
    days = days[inside]
    g = x["glob_days"]
    # the modifier that takes the E/M out of the global package (CMS Claims Processing Manual
    # ch. 12 §30.6: 57 decision for major surgery, 25 same-day significant E/M, 24 unrelated post-op)
    need = np.where((g == "090") & (days <= 0), "57", np.where(days == 0, "25", "24"))
    has = np.array([n in m.split(":") for n, m in zip(need, x["mods"], strict=True)], dtype=bool)
    acts = x["edit_denied"] | (x["stage"] == "pre_submission")
    verdict = np.select(
        [~acts, has & x["edit_denied"], has],
        ["ok", "payer_edit_wrong", "ok"],
        default="payer_edit_correct",
    )
    route = np.where(
        verdict == "payer_edit_correct", "corrected_claim", pd.Series(verdict).map(ROUTES)
    )
    evidence = (
        "E/M "
        + _ds(x["date"])
        + " is inside the "
        + g.str.lstrip("0").replace("", "0")
        + "-day global period of "
        + x["cpt"]
        + " ("
        + _ds(x["date_p"])
        + ", PFS GLOB DAYS "
        + g
        + "); modifier "
        + pd.Series(need, index=x.index)
        + np.where(has, " is on the claim", " is missing")
    )
    out = pd.DataFrame(
        {
            "lid": x["lid"].to_numpy(),
            "edit": "global_period",
            "column1_code": x["cpt"].to_numpy(),
            "verdict": verdict,
            "route": np.asarray(route),
            "evidence": evidence.to_numpy(),
        }
    )
    return out.sort_values(["lid", "verdict"]).drop_duplicates("lid")


def _indicators(L: pd.DataFrame, ind: pd.DataFrame) -> pd.DataFrame:
    """Bilateral, assistant-at-surgery and multiple-procedure indicators vs the claim."""
    x = L.merge(ind, left_on="cpt", right_on="hcpcs")
    acts = x["edit_denied"] | (x["stage"] == "pre_submission")
    frames = []
    # bilateral: modifier 50 fits BILAT SURG 1 (150%) and 3 (each side at 100%) only
    b = x[_has_mod(x["mods"], {"50"})]
    if len(b):
        bad = ~b["bilat_surg"].isin(["1", "3"])
        a = acts[b.index]
        v = np.select(
            [~a, bad, b["edit_denied"]],
            ["ok", "payer_edit_correct", "payer_edit_wrong"],
            default="ok",
        )
        frames.append(
            pd.DataFrame(
                {
                    "lid": b["lid"].to_numpy(),
                    "edit": "bilateral",
                    "verdict": v,
                    "route": np.where(
                        v == "payer_edit_correct", "corrected_claim", pd.Series(v).map(ROUTES)
                    ),
                    "evidence": (
                        "modifier 50 on "
                        + b["cpt"]
                        + " whose PFS BILAT SURG indicator is "
                        + b["bilat_surg"]
                        + np.where(
                            bad,
                            ": modifier 50 does not apply to this code",
                            ": modifier 50 applies",
                        )
                    ).to_numpy(),
                }
            )
        )
    # assistant at surgery: ASST SURG 0 needs documentation, 1/9 not payable, 2 payable
    s = x[_has_mod(x["mods"], set(ASSISTANT_MODIFIERS))]
    if len(s):
        a = acts[s.index]
        ai = s["asst_surg"]
        v = np.select(
            [~a, ai.isin(["1", "9"]), ai == "0", s["edit_denied"]],
            ["ok", "payer_edit_correct", "documentation_needed", "payer_edit_wrong"],
            default="ok",
        )
        meaning = ai.map(
            {
                "0": ": payable only with documentation of medical necessity",
                "1": ": statutory restriction, an assistant is not paid",
                "2": ": no restriction, an assistant is payable",
                "9": ": the assistant concept does not apply",
            }
        ).fillna("")
        frames.append(
            pd.DataFrame(
                {
                    "lid": s["lid"].to_numpy(),
                    "edit": "assistant",
                    "verdict": v,
                    "route": pd.Series(v).map(ROUTES).to_numpy(),
                    "evidence": (
                        "assistant modifier on "
                        + s["cpt"]
                        + " whose PFS ASST SURG indicator is "
                        + ai
                        + meaning
                    ).to_numpy(),
                }
            )
        )
    # multiple procedure: a CARC 59 reduction on a code whose MULT PROC indicator is 0 (no
    # adjustment applies) or 9, or on the only procedure of the day, is the payer's own rule
    mp = x[(x["carc_code"] == "59") & (x["stage"] == "remitted")]
    if len(mp):
        procs = x[~x["mult_proc"].isin(["0", "9"])].groupby("group")["lid"].size()
        others = mp["group"].map(procs).fillna(0) - (~mp["mult_proc"].isin(["0", "9"])).astype(int)
        exempt = mp["mult_proc"].isin(["0", "9"])
        v = np.where(exempt | (others < 1), "payer_edit_wrong", "payer_edit_correct")
        frames.append(
            pd.DataFrame(
                {
                    "lid": mp["lid"].to_numpy(),
                    "edit": "multiple_procedure",
                    "verdict": v,
                    "route": pd.Series(v).map(ROUTES).to_numpy(),
                    "evidence": (
                        "multiple-procedure reduction (CARC 59) on "
                        + mp["cpt"]
                        + " whose PFS MULT PROC indicator is "
                        + mp["mult_proc"]
                        + np.where(
                            exempt,
                            ": no multiple-procedure adjustment applies to this code",
                            np.where(
                                others < 1,
                                ": it is the only procedure that day",
                                ": another procedure was billed that day",
                            ),
                        )
                    ).to_numpy(),
                }
            )
        )
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def _not_ncci(L: pd.DataFrame, lone: pd.DataFrame, inactive: dict[int, str]) -> pd.DataFrame:
    """Coding denials no active edit explains, each with the sentence that says why."""
    pairs = lone[["lid", "group"]].merge(
        L[["group", "lid", "cpt"]], on="group", suffixes=("", "_o")
    )
    pairs = pairs[pairs["lid"] != pairs["lid_o"]].drop_duplicates(["lid", "cpt"])
    co = pairs.sort_values(["lid", "cpt"]).groupby("lid")["cpt"].agg(", ".join)
    other = lone["lid"].map(co).astype("object").fillna("")
    day = _ds(lone["date"])
    units = lone["units"].map("{:g}".format)
    why = np.select(
        [
            lone["lid"].isin(inactive.keys()),
            lone["carc_code"].isin(UNIT_CARCS),
            other != "",
        ],
        [
            lone["lid"].map(inactive).astype("object").fillna("")
            + ": no active NCCI edit bundles it on "
            + day,
            units
            + " units of "
            + lone["cpt"]
            + " are within any active MUE on "
            + day
            + ": no NCCI unit edit applies",
            "no active NCCI PTP edit pairs "
            + lone["cpt"]
            + " with "
            + other
            + " on "
            + day
            + ": the payer's own edit",
        ],
        default="no NCCI edit applies to "
        + lone["cpt"]
        + " on "
        + day
        + " (no other line that day): the payer's own edit",
    )
    return pd.DataFrame(
        {
            "lid": lone["lid"].to_numpy(),
            "edit": np.where(lone["carc_code"].isin(UNIT_CARCS), "mue", "ptp"),
            "verdict": "payer_edit_not_ncci",
            "route": ROUTES["payer_edit_not_ncci"],
            "evidence": why,
        }
    )


def check_claims(
    lines: pd.DataFrame,
    ptp: pd.DataFrame | None = None,
    mue: pd.DataFrame | None = None,
    indicators: PolicyIndicators | None = None,
) -> pd.DataFrame:
    """Every edit that applies to the claim lines, with its verdict, route and evidence.

    ``ptp``/``mue`` come from :mod:`oonplaybook.reference.ncci`; ``indicators`` from the PFS RVU
    table. A coding-group denial that no edit explains becomes ``payer_edit_not_ncci``.
    Output rows are sorted by claim, line and edit, so the same input gives the same file.
    """
    L = _prepare(lines)
    parts: list[pd.DataFrame] = []
    explained: set[int] = set()
    inactive: dict[int, str] = {}
    if ptp is not None and len(ptp):
        p, ex = _ptp(L, ptp)
        parts.append(p)
        explained |= ex
        inactive = p.attrs.get("inactive", {})
    if mue is not None and len(mue):
        m = _mue(L, mue)
        if len(m):
            parts.append(m)
            explained |= set(m["lid"])
    if indicators is not None:
        for f in (_global(L, indicators.table), _indicators(L, indicators.table)):
            if len(f):
                parts.append(f)
                explained |= set(f["lid"])
    # coding denials nothing explains: the payer's own edit
    lone = L[L["edit_denied"] & ~L["lid"].isin(explained)]
    if len(lone):
        parts.append(_not_ncci(L, lone, inactive))
    if not parts:
        return pd.DataFrame(columns=OUTPUT_COLUMNS)
    e = pd.concat([p for p in parts if len(p)], ignore_index=True)
    base = L.set_index("lid")[["claim_id", "line_no", "stage", "cpt", "units"]]
    e = e.join(base, on="lid")
    for c in OUTPUT_COLUMNS:
        if c not in e.columns:
            e[c] = pd.NA
    e["column2_code"] = e["column2_code"].where(
        e["edit"] != "ptp", e["column2_code"].fillna(e["cpt"])
    )
    e["edit_order"] = e["edit"].map({k: i for i, k in enumerate(EDITS)})
    e = e.sort_values(
        ["claim_id", "line_no", "edit_order", "column1_code"], kind="stable", na_position="first"
    )
    return e[OUTPUT_COLUMNS].reset_index(drop=True)


def line_verdicts(edits: pd.DataFrame) -> pd.DataFrame:
    """One verdict per line (the most decisive edit: a correct edit settles it) for the playbook."""
    if edits.empty:
        return pd.DataFrame(
            columns=["claim_id", "line_no", "coding_verdict", "coding_route", "coding_evidence"]
        )
    e = edits.assign(_p=edits["verdict"].map(_PRIORITY))
    e = e.sort_values(["claim_id", "line_no", "_p"], kind="stable").drop_duplicates(
        ["claim_id", "line_no"]
    )
    return e.rename(
        columns={
            "verdict": "coding_verdict",
            "route": "coding_route",
            "evidence": "coding_evidence",
        }
    )[["claim_id", "line_no", "coding_verdict", "coding_route", "coding_evidence"]].reset_index(
        drop=True
    )


def summarize(edits: pd.DataFrame, lines: pd.DataFrame) -> pd.DataFrame:
    """Coding denials by verdict: lines and billed dollars (for the report's coding section)."""
    v = line_verdicts(edits)
    remitted = v.merge(
        lines[["claim_id", "line_no", "billed"]], on=["claim_id", "line_no"], how="left"
    )
    # each line's stage from its first edit (a merge: a per-row lookup took 10 s at 1M lines)
    if len(remitted):
        stage = edits.drop_duplicates(["claim_id", "line_no"])[["claim_id", "line_no", "stage"]]
        remitted = remitted.merge(stage, on=["claim_id", "line_no"], how="left")
        remitted["stage"] = remitted["stage"].fillna("").astype("str")
    else:
        remitted["stage"] = pd.Series([], dtype="str")
    return (
        remitted.groupby(["stage", "coding_verdict"], sort=True)
        .agg(lines=("line_no", "size"), billed=("billed", "sum"))
        .reset_index()
    )


# --- the pipeline step (stage 20) -------------------------------------------------------------

VERDICT_LABELS = {
    "payer_edit_correct": "Payer's edit is correct (NCCI or fee-schedule rule supports it)",
    "payer_edit_wrong": "Payer's edit is wrong (the claim meets the rule's bypass)",
    "payer_edit_not_ncci": "Payer's own edit (no active NCCI edit applies)",
    "documentation_needed": "Appealable with the medical record (clinical edit)",
    "ok": "Consistent with the edits",
}


@dataclass(frozen=True)
class CodingCheck:
    """The coding check of one run: every edit, one verdict per line, and what it rested on."""

    edits: pd.DataFrame
    verdicts: pd.DataFrame
    vintage: str
    note: str

    def summary(self, lines: pd.DataFrame) -> pd.DataFrame:
        """Coding denials and scrub flags by verdict: lines and billed dollars, in plain words."""
        s = summarize(self.edits, lines)
        s = s[s["coding_verdict"] != "ok"]
        return s.assign(
            stage=s["stage"].map(
                {"remitted": "denied by the payer", "pre_submission": "not yet billed / pending"}
            ),
            coding_verdict=s["coding_verdict"].map(VERDICT_LABELS),
        ).rename(columns={"stage": "lines", "coding_verdict": "verdict", "lines": "n_lines"})

    def top_pairs(self, n: int = 10) -> pd.DataFrame:
        """The PTP pairs behind the most coding denials, with their verdicts."""
        e = self.edits
        # pairs that are NCCI edits (a payer's own bundle has no column-1 code: it is counted in
        # the summary as payer_edit_not_ncci)
        p = e[(e["edit"] == "ptp") & (e["verdict"] != "ok") & e["column1_code"].notna()]
        if p.empty:
            return pd.DataFrame(columns=["column1_code", "column2_code", "verdict", "n_lines"])
        return (
            p.groupby(["column1_code", "column2_code", "verdict"], dropna=False)
            .size()
            .rename("n_lines")
            .reset_index()
            .sort_values(["n_lines", "column1_code", "column2_code"], ascending=[False, True, True])
            .head(n)
            .assign(verdict=lambda d: d["verdict"].map(VERDICT_LABELS))
            .reset_index(drop=True)
        )


def stage_check(lines: pd.DataFrame, ncci_paths: list, year: int) -> CodingCheck:
    """Run the check as the pipeline does: the params' NCCI files, else the imported release.

    Without any NCCI table only the PFS policy indicators are checked, and ``note`` says so.
    """
    from oonplaybook.reference import ncci, pfs

    if ncci_paths:
        tables, _ = ncci.read_release(list(ncci_paths))
    else:
        tables = ncci.load_imported()
    ind = PolicyIndicators.from_rvu(pfs.load_tables(year).rvu)
    if tables is None:
        edits = check_claims(lines, indicators=ind)
        note = (
            "No NCCI tables were given (benchmark.ncci_files) or imported (`oonplaybook coding "
            "import`): only the fee schedule's policy indicators (global period, bilateral, "
            "assistant, multiple procedure) were checked."
        )
        vintage = ""
    else:
        edits = check_claims(lines, tables.ptp, tables.mue, ind)
        vintage = tables.vintage
        note = f"Checked against {vintage} and the {year} PFS policy indicators."
    return CodingCheck(edits=edits, verdicts=line_verdicts(edits), vintage=vintage, note=note)


def read_verdicts(path: str | Path) -> pd.DataFrame | None:
    """One verdict per line from a run's ``coding_edits.csv`` (None when the file is absent)."""
    p = Path(path)
    if not p.is_file():
        return None
    e = pd.read_csv(p, dtype=str, keep_default_na=False)
    if e.empty:
        return line_verdicts(pd.DataFrame(columns=OUTPUT_COLUMNS))
    e["line_no"] = e["line_no"].astype("int64")
    return line_verdicts(e)
