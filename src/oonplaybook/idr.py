"""Federal IDR economics: fees by initiation date, win/award priors, expected value, PUF loader.

Who pays what (42 U.S.C. 300gg-111(c)(5)(F); 45 CFR 149.510(d)(1)-(2); docs/domain.md §1.10):

* **Administrative fee** -- each party pays it per dispute (a batch is one dispute) when the
  IDR entity is selected; non-refundable, also on settlement.
* **Certified IDR entity (IDRE) fee** -- each party pays it when offers are submitted; the
  prevailing party's fee is refunded within 30 business days, so the loser bears it. On a
  settlement after initiation, each party gets half back unless both direct otherwise.
* **One entity decides a batch**, and almost always for one side: CMS's Table 12 counts 477
  split decisions in 616,020 determinations (2025Q2). The default (``batch_fee_rule="entity"``)
  models a batch as won or lost as a whole (lines perfectly correlated), the IDRE fee falling on
  the batch's loser, with the published split share handled by the majority rule. For a split,
  the allocation of the IDRE fee is set by CMS operational guidance, not by the regulation text
  we could read (45 CFR 149.510 as of Aug 2022): ``"majority"`` charges it to the party with
  fewer determinations in its favour (half each on a tie; with independent lines, as before);
  ``"proportional"`` charges each party the share of items it lost. **[unverified; configurable]**

Expected value of a dispute for the provider::

    EV = p * (award_if_win - paid) + (1 - p) * (payer_offer - paid)
         - admin_fee - P(provider bears IDRE fee) * idre_fee

``paid`` is what the provider already has (initial payment plus patient cost sharing, which is
what 45 CFR 149.510(c)(4)(ix) nets against the award); ``payer_offer`` defaults to ``paid``
(the payer defends its initial payment), so a loss recovers nothing more and costs the fees.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd

# --- fees ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FeePeriod:
    """One fee regime: dates (inclusive), admin fee, IDRE fee ranges and their source."""

    start: date
    end: date | None
    admin_fee: float
    single_low: float
    single_high: float
    batched_low: float
    batched_high: float
    #: 2024+: added fee per further increment of 25 line items above 25 (low, high).
    per_25_low: float = 0.0
    per_25_high: float = 0.0
    #: 2023 guidance: multiplier on the batched fee by batch size (lines > threshold -> factor).
    size_multipliers: tuple[tuple[int, float], ...] = ()
    source: str = ""
    verified: bool = True


#: Fee history by dispute-initiation date (docs/domain.md §1.10). The federal IDR portal opened
#: 2022-04-15 (CMS; docs/domain.md §2.1 counts disputes from then).
FEE_PERIODS: tuple[FeePeriod, ...] = (
    FeePeriod(
        date(2022, 4, 15),
        date(2022, 12, 31),
        50.0,
        200.0,
        500.0,
        268.0,
        670.0,
        source="CY2022 fee guidance: admin $50; IDRE single $200-$500, batched $268-$670 "
        "(asds.net; the $200/$268 minimums for 2022 are [unverified], docs/domain.md §8)",
        verified=False,
    ),
    FeePeriod(
        date(2023, 1, 1),
        date(2023, 8, 2),
        350.0,
        200.0,
        700.0,
        268.0,
        938.0,
        size_multipliers=((25, 1.1), (50, 1.2), (80, 1.3)),
        source="amended CY2023 fee guidance of 2022-12-23: admin $350; IDRE single up to $700, "
        "batched up to $1,219 incl. the large-batch multiplier (aapc.com; asds.net). The "
        "$938 base x 1.1/1.2/1.3 tiers for 26-50/51-80/81+ lines reproduce that $1,219 cap "
        "[tier breakpoints partly verified]",
        verified=False,
    ),
    FeePeriod(
        date(2023, 8, 3),
        date(2024, 1, 21),
        50.0,
        200.0,
        700.0,
        268.0,
        938.0,
        size_multipliers=((25, 1.1), (50, 1.2), (80, 1.3)),
        source="TMA IV (E.D. Tex. 2023-08-03) vacated the 2023 admin fee guidance; $50 until "
        "CMS-9890-F (advocatercm.com; CMS fact sheet)",
        verified=False,
    ),
    FeePeriod(
        date(2024, 1, 22),
        date(2026, 6, 10),
        115.0,
        200.0,
        840.0,
        268.0,
        1173.0,
        75.0,
        250.0,
        source="CMS-9890-F, 88 FR 88494 (2023-12-21), effective 2024-01-22: admin $115; IDRE "
        "single $200-$840, batched $268-$1,173, +$75-$250 per added 25 lines "
        "(cms.gov fact sheet; govinfo FR 2023-27931)",
    ),
    FeePeriod(
        date(2026, 6, 11),
        None,
        15.0,
        200.0,
        840.0,
        268.0,
        1173.0,
        75.0,
        250.0,
        source="CMS-9897-F (IDR Operations final rule, 2026): admin $15 for disputes initiated "
        "on/after 2026-06-11 (Holland & Hart; fhas.com; Sidley); IDRE fee ranges unchanged "
        "(Sidley: 'there were no changes to IDR entity (IDRE) fees'), so the CMS-9890-F "
        "ranges apply",
        verified=True,
    ),
)

FeePoint = Literal["low", "mid", "high"]


@dataclass(frozen=True)
class IdrFees:
    """Fees of one dispute (single or batched) for one party, with the provider's exposure."""

    initiation_date: date
    batched: bool
    n_lines: int
    admin_fee: float  # per party, non-refundable
    idre_fee_low: float
    idre_fee_high: float
    idre_fee: float  # the point used for expected value (``fee_point``)
    fee_point: str
    source: str
    verified: bool

    @property
    def cost_if_win(self) -> float:
        """Provider's net fee cost when its offer is selected (IDRE fee refunded)."""
        return self.admin_fee

    @property
    def cost_if_lose(self) -> float:
        """Provider's net fee cost when the payer's offer is selected."""
        return self.admin_fee + self.idre_fee

    @property
    def cost_if_settle(self) -> float:
        """Provider's net fee cost on settlement after initiation (half the IDRE fee back)."""
        return self.admin_fee + self.idre_fee / 2.0


def fee_period(initiation_date: date) -> FeePeriod:
    """The fee regime in force on ``initiation_date``."""
    for p in FEE_PERIODS:
        if p.start <= initiation_date and (p.end is None or initiation_date <= p.end):
            return p
    raise ValueError(
        f"initiation date {initiation_date} is before the federal IDR portal opened "
        f"({FEE_PERIODS[0].start}); no fee schedule applies"
    )


#: Disputes initiated 2023-01-01..2023-08-02 whose $350 administrative fee had not been paid by
#: 2023-08-03 pay $50 instead (CHA FAQ, calhospital.org: the fee is "$50 for disputes initiated
#: on or after Aug. 3, 2023", and one initiated Jan 1-Aug 2, 2023 that had paid before Aug. 3
#: "remains $350").
ADMIN_FEE_2023_UNPAID = 50.0
_FEE_2023_START, _FEE_2023_END = date(2023, 1, 1), date(2023, 8, 2)


def fees(
    initiation_date: date,
    batched: bool,
    n_lines: int = 1,
    *,
    fee_point: FeePoint = "high",
    fee_paid_before_2023_08_03: bool = True,
) -> IdrFees:
    """Administrative and IDRE fees for a dispute initiated on ``initiation_date``.

    ``fee_point`` picks the IDRE fee used for expected value within the published range
    (default ``"high"``: conservative for the provider, since IDREs set their own fee in range).
    ``fee_paid_before_2023_08_03=False`` gives the $50 fee to a dispute initiated 2023-01-01 to
    2023-08-02 whose $350 fee was still unpaid on 2023-08-03 (:data:`ADMIN_FEE_2023_UNPAID`).
    """
    if n_lines < 1:
        raise ValueError(f"n_lines must be >= 1, got {n_lines}")
    if not batched and n_lines != 1:
        raise ValueError(f"a single (unbatched) dispute has 1 line, got n_lines={n_lines}")
    p = fee_period(initiation_date)
    if batched:
        lo, hi = p.batched_low, p.batched_high
        if p.per_25_high and n_lines > 25:
            k = math.ceil((n_lines - 25) / 25)  # each further increment of 25 line items
            lo, hi = lo + k * p.per_25_low, hi + k * p.per_25_high
        for threshold, mult in sorted(p.size_multipliers, reverse=True):
            if n_lines > threshold:
                lo, hi = lo * mult, hi * mult
                break
    else:
        lo, hi = p.single_low, p.single_high
    point = {"low": lo, "mid": (lo + hi) / 2.0, "high": hi}[fee_point]
    admin = p.admin_fee
    source = p.source
    if not fee_paid_before_2023_08_03 and _FEE_2023_START <= initiation_date <= _FEE_2023_END:
        admin = ADMIN_FEE_2023_UNPAID
        source += "; fee unpaid on 2023-08-03: $50 (CHA FAQ, calhospital.org)"
    return IdrFees(
        initiation_date=initiation_date,
        batched=batched,
        n_lines=n_lines,
        admin_fee=admin,
        idre_fee_low=round(lo, 2),
        idre_fee_high=round(hi, 2),
        idre_fee=round(point, 2),
        fee_point=fee_point,
        source=source,
        verified=p.verified,
    )


# --- priors -------------------------------------------------------------------------------------
#
# Priors come from CMS's own Federal IDR supplemental tables (Tables 12-14), packaged as reference
# data (``reference/idr_priors.py``): the quarter's provider win rate with a Wilson interval and
# the share of one-offer (default) determinations, and the median prevailing offer as a multiple
# of QPA per specialty and QPA band, shrunk toward the all-specialty value. The flat published
# win rate and the single-payer 3.72x fall-back are gone.

#: Share of determinations that split a batch (Table 12, 2025Q2: 477 of 616,020): one entity
#: decides a batch, and almost always for one side.
SPLIT_SHARE_DEFAULT = 477 / 616020


@dataclass(frozen=True)
class PriorCell:
    """The IDR prior for one specialty x QPA band x quarter, with its interval and where it came from."""

    specialty: str  # the CMS Table 14 label used
    band: str
    quarter: str
    win_probability: float
    win_low: float
    win_high: float
    one_offer_share: float
    award_multiple_of_qpa: float
    award_low: float
    award_high: float
    determinations: float
    median_quarter: str
    win_concentration: float  # Beta concentration of the win probability for simulation
    split_share: float
    source: str
    prior_source: str  # table and vintage

    @property
    def win_probability_contested(self) -> float:
        """Win rate where both parties offered, assuming every one-offer determination went to the provider."""
        d = self.one_offer_share
        if not (d == d) or d >= 1:
            return self.win_probability
        return max(0.0, (self.win_probability - d) / (1.0 - d))


def _specialty_label(specialty: str) -> str:
    """Table 14 label for a project specialty key or a CMS label ("All specialties" when unknown)."""
    from oonplaybook.reference import idr_priors as ip

    s = str(specialty).strip()
    if s in ip.SPECIALTY_CATEGORY:
        return ip.SPECIALTY_CATEGORY[s]
    if s.lower() in ("", "generic", "all", "all specialties", "other"):
        return "All specialties"
    return ip.canonical_specialty(s)


#: The last :meth:`IdrPriors.default` per class, kept while ``packaged_priors`` returns the same
#: table (an import clears that cache, and the next call builds a new object).
_LAST_DEFAULT: dict[type, IdrPriors] = {}


@dataclass(frozen=True)
class IdrPriors:
    """IDR priors per specialty x QPA band x quarter (``reference.idr_priors.build_priors``).

    ``table`` has :data:`oonplaybook.reference.idr_priors.PRIOR_COLUMNS`; ``overrides`` holds
    (specialty, year) rows estimated elsewhere (``from_puf``, user what-ifs) that take precedence.
    """

    table: pd.DataFrame
    source: str = ""
    vintage: str = ""
    notes: tuple[str, ...] = field(default_factory=tuple)
    overrides: pd.DataFrame | None = None
    #: :meth:`cell` results by argument (a worklist asks for the same few hundred cells once
    #: per chunk of claims); PriorCell is frozen, so sharing one is safe
    _cells: dict[tuple[str, float | None, str | None], PriorCell] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )

    @classmethod
    def default(cls) -> IdrPriors:
        """Priors from the newest CMS supplemental tables: packaged, or an imported newer release.

        The same object while the tables are the same (their frame is already shared through
        ``packaged_priors``' cache), so the prior cells it works out are remembered for every
        caller in a run, not per call."""
        from oonplaybook.reference import idr_priors as ip

        t, src, vintage = ip.packaged_priors(str(ip.current_dir()))
        last = _LAST_DEFAULT.get(cls)
        if last is not None and last.table is t:
            return last
        last = _LAST_DEFAULT[cls] = cls(
            t,
            source=src,
            vintage=vintage,
            notes=(
                "Win rates are CMS's per quarter for all specialties (no specialty split is "
                "published); award multiples are Table 14 medians per specialty, shrunk toward "
                "the all-specialty value, scaled by Table 13's QPA band.",
            ),
        )
        return last

    @classmethod
    def packaged(cls) -> IdrPriors:
        """Priors from the tables shipped with the package only (reproducible tests)."""
        from oonplaybook.reference import idr_priors as ip

        t, src, vintage = ip.packaged_priors()
        return cls(t, source=src, vintage=vintage)

    @classmethod
    def from_supplemental(cls, paths: str | Path | list[str | Path]) -> IdrPriors:
        """Priors from a newer CMS release (folder or XLSX files of the supplemental tables)."""
        from oonplaybook.reference import idr_priors as ip

        tables = ip.load_supplemental(paths)
        return cls(ip.build_priors(tables), tables.source, tables.vintage, tables.notes)

    @property
    def quarters(self) -> list[str]:
        """Quarters the priors cover, oldest first."""
        return sorted(self.table["quarter"].unique())

    def _quarter(self, quarter: str | None) -> tuple[str, str]:
        """(quarter used, note) for a requested quarter (latest when None or after the vintage)."""
        from oonplaybook.reference.idr_priors import parse_quarter

        qs = self.quarters
        if not qs:
            raise KeyError("the IDR priors table is empty")
        if quarter is None:
            return qs[-1], ""
        q = parse_quarter(quarter)
        if q in qs:
            return q, ""
        earlier = [x for x in qs if x <= q]
        if earlier:
            return earlier[-1], f"{q} not in the tables: {earlier[-1]} used"
        return qs[0], f"{q} is before the first published quarter: {qs[0]} used"

    def win_concentration(self, quarter: str, segment: str = "oon") -> float:
        """Beta concentration of a practice's win probability: from the spread of the last 4 quarters.

        Moment estimate p(1-p)/var - 1 over the quarter and the three before it (CMS's own
        quarter-to-quarter movement as the floor on how well one quarter predicts the next),
        bounded to [20, determinations].
        """
        t = self.table[(self.table["segment"] == segment) & (self.table["band"] == "all")]
        t = t[t["specialty"] == "All specialties"].drop_duplicates("quarter")
        t = t[t["quarter"] <= quarter].sort_values("quarter").tail(4)
        if len(t) < 2:
            return 20.0
        p = t["win_probability"].to_numpy()
        var = float(np.var(p, ddof=1))
        m = float(p[-1])
        n = float(t["determinations"].iloc[-1])
        k = m * (1 - m) / var - 1.0 if var > 0 else n
        return float(min(max(k, 20.0), n))

    def cell(
        self, specialty: str, qpa: float | None = None, quarter: str | None = None
    ) -> PriorCell:
        """The prior for a specialty (project key or CMS label), a QPA in dollars and a quarter
        (computed once per argument triple, then remembered)."""
        key = (specialty, qpa, quarter)
        got = self._cells.get(key)
        if got is None:
            got = self._cells[key] = self._cell(specialty, qpa, quarter)
        return got

    def _cell(self, specialty: str, qpa: float | None, quarter: str | None) -> PriorCell:
        """:meth:`cell`, computed."""
        from oonplaybook.reference.idr_priors import qpa_band

        q, qnote = self._quarter(quarter)
        label = _specialty_label(specialty)
        seg = "air" if label == "Air Ambulance" else "oon"
        band = "all" if qpa is None or not (qpa == qpa) else qpa_band(float(qpa))
        t = self.table[(self.table["quarter"] == q) & (self.table["segment"] == seg)]
        notes = [qnote] if qnote else []
        sub = t[(t["specialty"] == label) & (t["band"] == band)]
        if sub.empty:
            notes.append(f"no Table 14 row for {label!r} in {q}: all-specialty value used")
            label = "All specialties"
            sub = t[(t["specialty"] == label) & (t["band"] == band)]
        if sub.empty:
            raise KeyError(f"IDR priors have no {label!r} / {band} row for {q}")
        r = sub.iloc[0]
        src = str(r["source"])
        if notes:
            src = "; ".join(notes) + "; " + src
        o = t[(t["specialty"] == "All specialties") & (t["band"] == "all")]
        split = SPLIT_SHARE_DEFAULT
        return PriorCell(
            specialty=label,
            band=band,
            quarter=q,
            win_probability=float(r["win_probability"]),
            win_low=float(r["win_low"]),
            win_high=float(r["win_high"]),
            one_offer_share=float(r["one_offer_share"]),
            award_multiple_of_qpa=float(r["award_multiple_of_qpa"]),
            award_low=float(r["award_low"]),
            award_high=float(r["award_high"]),
            determinations=float(o["determinations"].iloc[0]) if len(o) else float("nan"),
            median_quarter=str(r["median_quarter"]),
            win_concentration=self.win_concentration(q, seg),
            split_share=split,
            source=src,
            prior_source=f"{self.source}; vintage {self.vintage}",
        )

    def with_overrides(self, rows: pd.DataFrame) -> IdrPriors:
        """Priors with ``rows`` (specialty, year, win_probability, award_multiple_of_qpa) taking precedence."""
        need = {"specialty", "year", "win_probability", "award_multiple_of_qpa"}
        missing = need - set(rows.columns)
        if missing:
            raise ValueError(f"override rows miss columns {sorted(missing)}")
        r = rows.copy()
        if "source" not in r:
            r["source"] = "user override"
        r["year"] = r["year"].astype("int64")
        old = self.overrides if self.overrides is not None else r.iloc[0:0]
        t = pd.concat([old, r], ignore_index=True).drop_duplicates(
            ["specialty", "year"], keep="last"
        )
        return replace(self, overrides=t.reset_index(drop=True))

    def lookup(self, specialty: str, year: int) -> tuple[float, float, str]:
        """(win_probability, award_multiple_of_qpa, source): the latest quarter of ``year`` (all QPA bands)."""
        if self.overrides is not None:
            o = self.overrides[
                (self.overrides["specialty"] == specialty) & (self.overrides["year"] == int(year))
            ]
            if len(o):
                r = o.iloc[-1]
                return (
                    float(r["win_probability"]),
                    float(r["award_multiple_of_qpa"]),
                    str(r["source"]),
                )
        in_year = [q for q in self.quarters if q.startswith(f"{int(year)}Q")]
        quarter = in_year[-1] if in_year else f"{int(year)}Q4"
        c = self.cell(specialty, None, quarter)
        return c.win_probability, c.award_multiple_of_qpa, f"{c.source} ({c.prior_source})"

    def lookup_frame(self, specialty: pd.Series, year: pd.Series) -> pd.DataFrame:
        """Vectorised :meth:`lookup` (one lookup per distinct specialty/year)."""
        keys = pd.DataFrame({"specialty": specialty.astype("str"), "year": year.astype("int64")})
        uniq = keys.drop_duplicates()
        vals = [
            self.lookup(s, int(y)) for s, y in zip(uniq["specialty"], uniq["year"], strict=True)
        ]
        uniq = uniq.assign(
            win_probability=[v[0] for v in vals],
            award_multiple_of_qpa=[v[1] for v in vals],
            prior_source=[v[2] for v in vals],
        )
        out = keys.merge(uniq, on=["specialty", "year"], how="left")
        out.index = specialty.index
        return out[["win_probability", "award_multiple_of_qpa", "prior_source"]]

    @classmethod
    def from_puf(
        cls,
        paths: str | Path | list[str | Path],
        *,
        year: int | None = None,
        prior: IdrPriors | None = None,
        prior_strength: float = 20.0,
    ) -> IdrPriors:
        """Estimate priors from CMS IDR line-level public use files (XLSX), shrunk toward ``prior``.

        Win probability: Beta-binomial posterior mean with a Beta(k*p0, k*(1-p0)) prior (k =
        ``prior_strength`` pseudo-disputes, p0 the packaged prior), with a 95% credible
        interval. Award multiple: median "Prevailing Party Offer as % of QPA" / 100 among
        provider wins. The estimates become overrides by (specialty, year).
        """
        from scipy import stats

        prior = prior or cls.default()
        plist = [paths] if isinstance(paths, str | Path) else list(paths)
        frames = [read_puf(p, year=year) for p in plist]
        puf = pd.concat(frames, ignore_index=True)
        decided = puf[puf["outcome"].isin(["provider", "payer"])]
        if decided.empty:
            raise ValueError(
                f"{', '.join(map(str, plist))}: no rows with a provider or payer outcome in "
                "'Payment Determination Outcome'; is this the determinations tab?"
            )
        rows = []
        groups = [("generic", decided)] + [
            (s, g) for s, g in decided.groupby("specialty", sort=True) if s != "generic"
        ]
        for spec, g in groups:
            for yr, gy in g.groupby("year", sort=True):
                n = int(len(gy))
                wins = int(gy["outcome"].eq("provider").sum())
                p0, m0, _ = prior.lookup(spec, int(yr))
                a, b = prior_strength * p0 + wins, prior_strength * (1 - p0) + n - wins
                mult = gy.loc[gy["outcome"].eq("provider"), "prevailing_offer_pct_qpa"].dropna()
                award = float(mult.median() / 100.0) if len(mult) else m0
                rows.append(
                    {
                        "specialty": spec,
                        "year": int(yr),
                        "win_probability": a / (a + b),
                        "award_multiple_of_qpa": award,
                        "n_disputes": n,
                        "source": (
                            f"CMS IDR PUF: {wins}/{n} provider wins, Beta posterior with "
                            f"{prior_strength:g} pseudo-disputes at p0={p0:.2f}; 95% CrI "
                            f"{stats.beta.ppf(0.025, a, b):.3f}-{stats.beta.ppf(0.975, a, b):.3f}; "
                            f"award = median prevailing offer % QPA over {len(mult)} wins"
                        ),
                        "win_ci_low": float(stats.beta.ppf(0.025, a, b)),
                        "win_ci_high": float(stats.beta.ppf(0.975, a, b)),
                    }
                )
        out = prior.with_overrides(pd.DataFrame(rows))
        return replace(out, notes=prior.notes + (f"estimated from {len(plist)} PUF file(s)",))


# --- PUF loader ---------------------------------------------------------------------------------

#: Canonical PUF fields -> header spellings seen across releases (docs/domain.md §2.6). Headers are
#: compared after :func:`_norm_header` (lower case, "percent" -> "%", punctuation dropped).
PUF_COLUMNS: dict[str, tuple[str, ...]] = {
    "specialty_text": (
        "Practice/Facility Specialty or Type",
        "Provider/Facility Specialty or Type",
        "Practice/Facility Specialty",
    ),
    "practice_size": ("Practice/Facility Size",),
    "location": ("Location of Service", "State of Service"),
    "pos": ("Place of Service Code",),
    "service_code": ("Service Code",),
    "line_item_type": ("Dispute Line Item Type", "Type of Dispute Line Item"),
    "outcome_text": ("Payment Determination Outcome",),
    "default_decision": ("Default Decision",),
    "offer_selected": ("Offer Selected from Provider or Issuer",),
    "provider_offer_pct_qpa": (
        "Provider/Facility Offer as % of QPA",
        "Provider/Facility Offer as Percent of QPA",
    ),
    "payer_offer_pct_qpa": (
        "Health Plan/Issuer Offer as % of QPA",
        "Health Plan/Issuer Offer as Percent of QPA",
    ),
    "prevailing_offer_pct_qpa": (
        "Prevailing Party Offer as % of QPA",
        "Prevailing Party Offer as Percent of QPA",
    ),
    "qpa_pct_median_qpa": ("QPA as Percent of Median QPA", "QPA as % of Median QPA"),
    "days_to_determination": ("Length of Time to Make Determination",),
    "idre_compensation": ("IDRE Compensation",),
    "year": ("Year", "Calendar Year", "Reporting Year"),
    "quarter": ("Quarter", "Reporting Quarter"),
}

_REQUIRED_PUF = ("outcome_text", "specialty_text")

#: Percent columns parsed to floats -> the flag marking top-coded cells ("10000%+").
_PCT_COLUMNS = {
    "provider_offer_pct_qpa": "provider_offer_top_coded",
    "payer_offer_pct_qpa": "payer_offer_top_coded",
    "prevailing_offer_pct_qpa": "prevailing_offer_top_coded",
    "qpa_pct_median_qpa": "qpa_median_top_coded",
}


def _norm_header(h: object) -> str:
    s = str(h).strip().lower().replace("percent", "%")
    s = re.sub(r"[^a-z0-9%]+", " ", s)
    return " ".join(s.split())


_ALIASES = {_norm_header(a): canon for canon, alist in PUF_COLUMNS.items() for a in alist}


def _pct(v: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Parse '1,234.5%' / '10000%+' / '>10000%' into floats; flag top-coded cells."""
    s = v.astype("str").str.strip()
    top = s.str.contains(r"\+|>", regex=True)
    num = pd.to_numeric(s.str.replace(r"[%,+>\s]", "", regex=True), errors="coerce")
    return num, top & num.notna()


#: PUF specialty text -> profile key (keyword rules, first match wins; else "other").
_SPECIALTY_RULES: tuple[tuple[str, str], ...] = (
    ("emergency", "emergency_medicine"),
    ("anesthe", "anesthesiology"),
    ("nurse anesthetist", "anesthesiology"),
    ("neonat", "neonatology"),
    ("radiolog", "radiology"),
    ("imaging", "radiology"),
    ("patholog", "pathology"),
    ("laborator", "pathology"),
    ("neurophysiolog", "neurosurgery_ionm"),
    ("neuromonitor", "neurosurgery_ionm"),
    ("neurosurg", "neurosurgery_ionm"),
    ("orthop", "orthopedic_surgery"),
    ("psychiat", "behavioral_health"),
    ("behavioral", "behavioral_health"),
    ("psycholog", "behavioral_health"),
)


def puf_specialty(text: str) -> str:
    """Map a PUF 'Practice/Facility Specialty or Type' value to a profile key (or 'other')."""
    t = str(text).lower()
    for kw, key in _SPECIALTY_RULES:
        if kw in t:
            return key
    return "other"


def _outcome(text: pd.Series) -> pd.Series:
    t = text.astype("str").str.lower()
    prov = t.str.contains("provider|facility|aa provider", regex=True) & t.str.contains("favor")
    payer = t.str.contains("plan|issuer", regex=True) & t.str.contains("favor") & ~prov
    split = t.str.contains("split")
    out = np.where(prov, "provider", np.where(payer, "payer", np.where(split, "split", "other")))
    return pd.Series(out, index=text.index, dtype="str")


def read_puf(
    path: str | Path, *, year: int | None = None, sheet: str | None = None
) -> pd.DataFrame:
    """Read one CMS Federal IDR PUF XLSX into canonical columns (header drift tolerated).

    Finds the determinations sheet (name containing 'OON Emergency and Non-Emergency', else the
    first sheet carrying 'Payment Determination Outcome') and the header row (title rows above
    it are skipped). Adds ``specialty`` (profile key), ``outcome`` (provider/payer/split/other),
    parsed percent columns (``*_pct_qpa`` floats, ``*_top_coded`` flags) and ``year`` (from a
    Year/Quarter column, else ``year``, else a 4-digit year in the file name).
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: IDR public use file not found")
    xl = pd.ExcelFile(path)
    sheets = (
        [sheet]
        if sheet
        else sorted(xl.sheet_names, key=lambda s: 0 if "oon emergency" in s.lower() else 1)
    )
    for sh in sheets:
        raw = pd.read_excel(xl, sheet_name=sh, header=None, dtype="str", nrows=30)
        hdr_row = None
        for i in range(len(raw)):
            normed = {_norm_header(v) for v in raw.iloc[i].tolist() if isinstance(v, str)}
            if any(_ALIASES.get(n) == "outcome_text" for n in normed):
                hdr_row = i
                break
        if hdr_row is None:
            continue
        df = pd.read_excel(xl, sheet_name=sh, header=hdr_row, dtype="str")
        rename = {}
        for c in df.columns:
            canon = _ALIASES.get(_norm_header(c))
            if canon and canon not in rename.values():
                rename[c] = canon
        df = df.rename(columns=rename)
        missing = [c for c in _REQUIRED_PUF if c not in df.columns]
        if missing:
            want = [PUF_COLUMNS[c][0] for c in missing]
            raise ValueError(
                f"{path} sheet {sh!r}: missing column(s) {want}; the header row is row "
                f"{hdr_row + 1}. Add an alias to idr.PUF_COLUMNS if CMS renamed it"
            )
        df = df.dropna(how="all")
        out = pd.DataFrame(index=df.index)
        for canon in PUF_COLUMNS:
            if canon in df.columns:
                out[canon] = df[canon].astype("str").where(df[canon].notna(), "")
        for c, flag in _PCT_COLUMNS.items():
            if c in df.columns:
                out[c], out[flag] = _pct(df[c])
        out["specialty"] = out["specialty_text"].map(puf_specialty).astype("str")
        out["outcome"] = _outcome(out["outcome_text"])
        yrs = None
        if "year" in df.columns:
            yrs = pd.to_numeric(
                df["year"].astype("str").str.extract(r"(\d{4})")[0], errors="coerce"
            )
        elif "quarter" in df.columns:
            yrs = pd.to_numeric(
                df["quarter"].astype("str").str.extract(r"(\d{4})")[0], errors="coerce"
            )
        if yrs is None or yrs.isna().all():
            if year is None:
                m = re.search(r"(20\d{2})", path.name)
                if not m:
                    raise ValueError(
                        f"{path}: no Year/Quarter column and no year in the file name; "
                        "pass year=YYYY"
                    )
                year = int(m.group(1))
            yrs = pd.Series(year, index=df.index)
        out["year"] = yrs.fillna(year if year is not None else -1).astype("int64")
        out["source"] = [f"{path.name}:{sh}:row {hdr_row + 2 + i}" for i in range(len(out))]
        return out.reset_index(drop=True)
    raise ValueError(
        f"{path}: no sheet has a 'Payment Determination Outcome' header in its first 30 rows; "
        "is this a CMS Federal IDR public use file?"
    )


# --- expected value -------------------------------------------------------------------------


@dataclass(frozen=True)
class EvResult:
    """Expected value of one dispute for the provider, with its parts."""

    expected_value: float
    expected_recovery: float  # p * gain_if_win + (1 - p) * gain_if_lose, before fees
    expected_fees: float
    win_probability: float
    award_if_win: float
    gain_if_win: float
    gain_if_lose: float
    net_if_win: float
    net_if_lose: float
    breakeven_probability: float  # p at which EV = 0 (nan if EV does not depend on p)


def expected_value(
    offer: float,
    paid: float,
    win_probability: float,
    award_if_win: float | None = None,
    *,
    fees: IdrFees,
    payer_offer: float | None = None,
) -> EvResult:
    """Expected value to the provider of taking one dispute to IDR (see module docstring)."""
    if not 0.0 <= win_probability <= 1.0:
        raise ValueError(f"win_probability must be in [0, 1], got {win_probability}")
    award = float(offer if award_if_win is None else award_if_win)
    payer = float(paid if payer_offer is None else payer_offer)
    p = float(win_probability)
    g_win, g_lose = award - paid, payer - paid
    admin, idre = fees.admin_fee, fees.idre_fee
    recovery = p * g_win + (1 - p) * g_lose
    exp_fees = admin + (1 - p) * idre
    denom = g_win - g_lose + idre
    breakeven = (admin + idre - g_lose) / denom if denom else float("nan")
    return EvResult(
        expected_value=recovery - exp_fees,
        expected_recovery=recovery,
        expected_fees=exp_fees,
        win_probability=p,
        award_if_win=award,
        gain_if_win=g_win,
        gain_if_lose=g_lose,
        net_if_win=g_win - admin,
        net_if_lose=g_lose - admin - idre,
        breakeven_probability=breakeven,
    )


def _p_provider_bears(probs: np.ndarray, rule: str) -> np.ndarray:
    """P(provider bears the IDRE fee) per batch row of ``probs`` (B x n win probabilities)."""
    b, n = probs.shape
    if rule == "proportional":
        return 1.0 - probs.mean(axis=1)
    if rule == "entity":
        s = SPLIT_SHARE_DEFAULT if n > 1 else 0.0
        return (1.0 - s) * (1.0 - probs.mean(axis=1)) + s * _p_provider_bears(probs, "majority")
    if rule != "majority":
        raise ValueError(
            f"batch_fee_rule must be 'entity', 'majority' or 'proportional', got {rule!r}"
        )
    dist = np.zeros((b, n + 1))
    dist[:, 0] = 1.0
    for j in range(n):  # Poisson-binomial distribution of the number of provider wins
        p = probs[:, j : j + 1]
        dist[:, 1:] = dist[:, 1:] * (1 - p) + dist[:, :-1] * p
        dist[:, 0] = dist[:, 0] * (1 - p[:, 0])
    wins = np.arange(n + 1)
    lose_more = (wins < n - wins).astype(float)
    tie = (2 * wins == n).astype(float)
    return dist @ lose_more + 0.5 * (dist @ tie)


def expected_value_frame(
    df: pd.DataFrame,
    *,
    initiation_date: date | None = None,
    priors: IdrPriors | None = None,
    batch_col: str = "batch_id",
    fee_point: FeePoint = "high",
    batch_fee_rule: Literal["entity", "majority", "proportional"] = "entity",
) -> pd.DataFrame:
    """Vectorised expected value per dispute line and per batch.

    Needs ``offer`` and ``paid``. ``win_probability`` / ``award_if_win`` are used when present;
    otherwise they come from ``priors`` via ``specialty`` and ``year`` (award = QPA x the prior
    award multiple when ``offer`` is NaN and ``qpa`` is known). ``payer_offer`` defaults to
    ``paid``. Lines sharing ``batch_col`` form one batched dispute: one admin fee, one batched
    IDRE fee, allocated evenly over its lines. ``initiation_date`` (or a column of that name)
    selects the fee regime. Adds: win_probability, award_if_win, gain_if_win, gain_if_lose,
    batch_lines, p_provider_bears_idre_fee, admin_fee_share, idre_fee_share, expected_recovery,
    expected_fees, expected_value, batch_expected_value, fee_source.
    """
    if df.empty:
        cols = ["win_probability", "award_if_win", "expected_value", "batch_expected_value"]
        return df.assign(**{c: pd.Series(dtype="float64") for c in cols})
    out = df.copy()
    for c in ("offer", "paid"):
        if c not in out.columns:
            raise KeyError(f"expected_value_frame needs column {c!r}")
    need_prior = "win_probability" not in out.columns or (
        "award_if_win" not in out.columns and out["offer"].isna().any()
    )
    if need_prior:
        if not {"specialty", "year"} <= set(out.columns):
            raise KeyError(
                "give win_probability (and offer/award_if_win) per row, or specialty and year "
                "so the priors can supply them"
            )
        pri = (priors or IdrPriors.default()).lookup_frame(out["specialty"], out["year"])
        if "win_probability" not in out.columns:
            out["win_probability"] = pri["win_probability"]
        out["prior_source"] = pri["prior_source"]
        if "award_if_win" not in out.columns:
            qpa = out["qpa"] if "qpa" in out.columns else pd.Series(np.nan, index=out.index)
            out["award_if_win"] = out["offer"].where(
                out["offer"].notna(), qpa * pri["award_multiple_of_qpa"]
            )
    if "award_if_win" not in out.columns:
        out["award_if_win"] = out["offer"]
    out["award_if_win"] = out["award_if_win"].fillna(out["offer"])
    payer = out["payer_offer"] if "payer_offer" in out.columns else out["paid"]
    p = out["win_probability"].astype("float64").clip(0, 1)
    out["gain_if_win"] = out["award_if_win"] - out["paid"]
    out["gain_if_lose"] = payer.fillna(out["paid"]) - out["paid"]

    if batch_col in out.columns:
        key = out[batch_col].astype("str")
    else:
        key = pd.Series([f"single-{i}" for i in range(len(out))], index=out.index)
    if "initiation_date" in out.columns:
        init_ts = pd.to_datetime(out["initiation_date"])
        if init_ts.isna().any():
            if initiation_date is None:
                bad = int(init_ts.isna().sum())
                raise ValueError(
                    f"{bad} row(s) have no initiation_date; fill the column or pass "
                    "initiation_date= as the default (it selects the fee regime)"
                )
            init_ts = init_ts.fillna(pd.Timestamp(initiation_date))
        init = init_ts.astype("datetime64[us]")
    elif initiation_date is not None:
        init = pd.Series(pd.Timestamp(initiation_date), index=out.index).astype("datetime64[us]")
    else:
        raise KeyError(
            "give initiation_date= or an initiation_date column (selects the fee regime)"
        )
    sizes = key.map(key.value_counts())
    out["batch_lines"] = sizes.astype("int64")
    # fees per batch (distinct (size, initiation date) pairs only)
    batch_init = init.groupby(key).transform("min")
    codes, uniq = pd.factorize(
        pd.MultiIndex.from_arrays([sizes.to_numpy(), pd.to_datetime(batch_init).to_numpy()])
    )
    fee_u = [
        fees(pd.Timestamp(d).date(), batched=int(n) > 1, n_lines=int(n), fee_point=fee_point)
        for n, d in uniq
    ]
    admin = np.array([f.admin_fee for f in fee_u])[codes]
    idre = np.array([f.idre_fee for f in fee_u])[codes]
    src_u = pd.array([f.source for f in fee_u], dtype="str")
    out["fee_source"] = pd.Series(src_u.take(codes), index=out.index)
    # P(provider bears the IDRE fee) per batch, grouped by batch size for a vectorised DP
    bears = pd.Series(np.nan, index=out.index)
    order = pd.DataFrame({"key": key, "p": p, "n": sizes})
    for n, grp in order.groupby("n", sort=True):
        keys_n = grp["key"].to_numpy()
        uniq, inv = np.unique(keys_n, return_inverse=True)
        mat = np.zeros((len(uniq), int(n)))
        pos = grp.groupby("key").cumcount().to_numpy()
        mat[inv, pos] = grp["p"].to_numpy()
        pb = _p_provider_bears(mat, batch_fee_rule)
        bears.loc[grp.index] = pb[inv]
    out["p_provider_bears_idre_fee"] = bears
    out["admin_fee_share"] = admin / sizes.to_numpy()
    out["idre_fee_share"] = idre / sizes.to_numpy()
    out["expected_recovery"] = p * out["gain_if_win"] + (1 - p) * out["gain_if_lose"]
    out["expected_fees"] = out["admin_fee_share"] + bears * out["idre_fee_share"]
    out["expected_value"] = out["expected_recovery"] - out["expected_fees"]
    out["batch_expected_value"] = out.groupby(key)["expected_value"].transform("sum")
    return out


# --- uncertainty: simulated recoveries --------------------------------------------------------

#: Annual discount rate for time to payment (a stated assumption: a practice's cost of capital,
#: about the prime rate plus a margin; change it per run where the practice has its own).
DISCOUNT_RATE = 0.08

#: Days from today to money in hand on the IDR route: 30 business days of open negotiation
#: (~42 days) + 4 business days to initiate (~6) + CMS's median 41 days to determination
#: (``reference.idr_priors.DAYS_TO_DETERMINATION``) + 30 days for the payer to pay the award
#: (45 CFR 149.510(c)(4)(ix)).
DAYS_TO_IDR_PAYMENT = 42 + 6 + 41 + 30


def discount_factor(days: float | np.ndarray, rate: float = DISCOUNT_RATE) -> np.ndarray:
    """Present value of $1 received after ``days`` at an annual ``rate`` (compounded yearly)."""
    return np.power(1.0 + rate, -np.asarray(days, dtype="float64") / 365.0)


@dataclass(frozen=True)
class RecoverySimulation:
    """Expected recovery with 90% intervals: per batch and in total (see :func:`simulate_recovery`)."""

    batches: pd.DataFrame  # batch, n_lines, win_probability, expected_value, ev_low, ev_high, expected_fee_cost, p_provider_bears_idre_fee
    total_expected: float
    total_low: float  # 5th percentile of the realised total (parameter + outcome uncertainty)
    total_high: float
    n_sims: int
    seed: int
    note: str


def simulate_recovery(
    disputes: pd.DataFrame,
    *,
    batch_col: str = "batch_id",
    n_sims: int = 4000,
    seed: int = 20251,
    discount_rate: float = DISCOUNT_RATE,
    days_to_payment: float = DAYS_TO_IDR_PAYMENT,
    fee_point: FeePoint = "high",
    split_share: float = SPLIT_SHARE_DEFAULT,
    level: float = 0.90,
) -> RecoverySimulation:
    """Simulated IDR recovery of a set of disputes, batch by batch, from the priors' uncertainty.

    Needs ``offer`` (award if won), ``paid`` (what the provider has), ``win_probability``,
    ``initiation_date``; optional ``payer_offer`` (default ``paid``), ``win_concentration``
    (Beta concentration of the win probability; default 367, the spread of CMS's last four
    quarters), ``prior_group`` (lines whose true win rate moves together; default one group).
    Each simulation draws the true win rate per group (Beta quantile of one shared uniform), then one
    outcome per batch: one entity decides it for one side (a split with ``split_share``, then
    the batch's lines are won in proportion and the fee falls by the majority rule). The loser
    bears the IDRE fee; the admin fee is paid either way; all is discounted over
    ``days_to_payment``. Per batch: the expected value and its ``level`` interval over the win
    rate's uncertainty; in total: the interval of the realised recovery (what a portfolio with
    known outcomes should fall in ``level`` of the time).
    """
    need = {"offer", "paid", "win_probability", "initiation_date"} - set(disputes.columns)
    if need:
        raise KeyError(f"simulate_recovery needs columns {sorted(need)}")
    if disputes.empty:
        empty = pd.DataFrame(
            columns=[
                "batch",
                "n_lines",
                "win_probability",
                "expected_value",
                "ev_low",
                "ev_high",
                "expected_fee_cost",
                "p_provider_bears_idre_fee",
            ]
        )
        return RecoverySimulation(empty, 0.0, 0.0, 0.0, n_sims, seed, "no disputes")
    d = disputes.reset_index(drop=True)
    key = (
        d[batch_col].astype("str")
        if batch_col in d.columns
        else pd.Series([f"single-{i}" for i in range(len(d))])
    )
    payer = d["payer_offer"].fillna(d["paid"]) if "payer_offer" in d.columns else d["paid"]
    grp = (
        d["prior_group"].astype("str")
        if "prior_group" in d.columns
        else pd.Series("all", index=d.index)
    )
    kappa = (
        d["win_concentration"].astype("float64").fillna(367.0)
        if "win_concentration" in d.columns
        else pd.Series(367.0, index=d.index)
    )
    frame = pd.DataFrame(
        {
            "key": key,
            "win": (d["offer"] - d["paid"]).astype("float64").fillna(0.0),
            "lose": (payer - d["paid"]).astype("float64").fillna(0.0),
            "p": d["win_probability"].astype("float64").clip(0, 1),
            "kappa": kappa,
            "grp": grp,
            "init": pd.to_datetime(d["initiation_date"]),
        }
    )
    g = frame.groupby("key", sort=True)
    b = g.agg(
        n=("p", "size"),
        win=("win", "sum"),
        lose=("lose", "sum"),
        p=("p", "mean"),
        kappa=("kappa", "mean"),
        grp=("grp", "first"),
        init=("init", "min"),
    ).reset_index()
    fee_cache: dict[tuple[int, object], IdrFees] = {}
    admin, idre = np.empty(len(b)), np.empty(len(b))
    for i, (n, init) in enumerate(zip(b["n"], b["init"], strict=True)):
        k = (int(n), init)
        if k not in fee_cache:
            fee_cache[k] = fees(
                pd.Timestamp(init).date(), batched=int(n) > 1, n_lines=int(n), fee_point=fee_point
            )
        admin[i], idre[i] = fee_cache[k].admin_fee, fee_cache[k].idre_fee
    disc = float(discount_factor(days_to_payment, discount_rate))
    from scipy.stats import beta as beta_dist

    p = b["p"].to_numpy()
    kap = b["kappa"].to_numpy()
    # distinct (p, kappa) pairs: the Beta quantile is computed once per pair and simulation
    pk, pk_idx = np.unique(np.column_stack([p, kap]), axis=0, return_inverse=True)
    pk_idx = pk_idx.ravel()
    a_pk = np.clip(pk[:, 0], 1e-6, 1 - 1e-6) * pk[:, 1]
    b_pk = (1 - np.clip(pk[:, 0], 1e-6, 1 - 1e-6)) * pk[:, 1]
    win, lose = b["win"].to_numpy(), b["lose"].to_numpy()
    s = np.where(b["n"].to_numpy() > 1, split_share, 0.0)

    def ev_at(theta: np.ndarray) -> np.ndarray:
        bears = (1 - s) * (1 - theta) + s * (theta < 0.5)
        return disc * (theta * win + (1 - theta) * lose - admin - bears * idre)

    lo_q, hi_q = (1 - level) / 2, (1 + level) / 2
    th_lo = beta_dist.ppf(lo_q, a_pk, b_pk)[pk_idx]
    th_hi = beta_dist.ppf(hi_q, a_pk, b_pk)[pk_idx]
    e_lo, e_hi = ev_at(th_lo), ev_at(th_hi)
    rng = np.random.default_rng(seed)
    groups, gidx = np.unique(b["grp"].to_numpy(), return_inverse=True)
    totals = np.empty(n_sims)
    fee_sum = np.zeros(len(b))
    bears_sum = np.zeros(len(b))
    ev_sum = np.zeros(len(b))
    chunk = max(1, min(n_sims, 2_000_000 // max(len(b), 1)))
    done = 0
    while done < n_sims:
        m = min(chunk, n_sims - done)
        # one uniform per group and simulation: the true win rates of a group move together
        ug = rng.random((m, len(groups)))
        theta = np.empty((m, len(b)))
        for c in range(len(groups)):
            in_g = gidx == c
            for j in np.unique(pk_idx[in_g]):
                sel = in_g & (pk_idx == j)
                theta[:, sel] = beta_dist.ppf(ug[:, c], a_pk[j], b_pk[j])[:, None]
        u = rng.random((m, len(b)))
        split = rng.random((m, len(b))) < s
        won = u < theta
        frac = np.where(split, theta, won.astype("float64"))
        bears = np.where(split, theta < 0.5, ~won).astype("float64")
        val = disc * (frac * win + (1 - frac) * lose - admin - bears * idre)
        totals[done : done + m] = val.sum(axis=1)
        fee_sum += (bears * idre).sum(axis=0)
        bears_sum += bears.sum(axis=0)
        ev_sum += val.sum(axis=0)
        done += m
    a = (1 - level) / 2
    out = pd.DataFrame(
        {
            "batch": b["key"],
            "n_lines": b["n"].astype("int64"),
            "win_probability": p,
            "expected_value": ev_sum / n_sims,
            "ev_low": np.minimum(e_lo, e_hi),
            "ev_high": np.maximum(e_lo, e_hi),
            "expected_fee_cost": fee_sum / n_sims,
            "p_provider_bears_idre_fee": bears_sum / n_sims,
            "admin_fee": admin,
            "idre_fee": idre,
        }
    )
    note = (
        f"{n_sims} simulations (seed {seed}); one entity decides each batch (split share "
        f"{split_share:.4%}, CMS Table 12); win rate uncertain by group; discounted at "
        f"{discount_rate:.0%} a year over {days_to_payment:.0f} days"
    )
    return RecoverySimulation(
        out,
        float(totals.mean()),
        float(np.quantile(totals, a)),
        float(np.quantile(totals, 1 - a)),
        n_sims,
        seed,
        note,
    )
