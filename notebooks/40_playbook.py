# ---
# jupyter:
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 4 · The negotiation playbook: what to ask for, which claims first, by which route, by when
#
# This chapter turns the benchmarks (chapter 2) and the payer models (chapter 3) into action:
# a target per payer and code family, a worklist of every underpaid or denied claim with its
# route (open negotiation and IDR under the No Surprises Act, the appeal ladder, a corrected
# claim, a negotiation letter, a patient bill or a write-off), its deadline on the federal
# business-day calendar, the expected recovery and a priority, the IDR batches worth filing,
# and what the practice may and may not bill its patients. Deadlines are counted to the params'
# `playbook.as_of_date`, else the data cut-off, never today's date.

# %% tags=["parameters"]
client: str = "demo"  # client slug; names the output folder
client_name: str = ""  # display name on reports and letters
inputs: list = []  # 835/837 files or folders, CSV/XLSX exports (relative to params_base)
mapping: str = "auto"  # tabular mapping profile name or YAML path
appeals_file: str = ""  # appeal history CSV (optional)
specialties: list = ["generic"]  # specialty profiles, e.g. ["emergency_medicine"]
state: str = "NY"  # 2-letter state of the practice
locality: str = "13202-01"  # default Medicare MAC-locality (quoted)
fee_schedule_year: int = 2025  # Medicare PFS year
benchmark: dict = {}  # benchmark settings (see config.BenchmarkSettings)
playbook: dict = {}  # playbook settings (see config.PlaybookSettings)
output_root: str = "outputs"  # where run folders go
seed: int = 0  # RNG seed for bootstraps and simulations
phi_salt_env: str = "OONPLAYBOOK_PHI_SALT"  # env var holding the PHI salt
run_dir: str = "."  # the run folder (the kernel's working directory)
params_base: str = "."  # folder relative input paths resolve from

# %%
import pandas as pd
from IPython.display import Markdown, display

from oonplaybook import context, letters, plots, report
from oonplaybook import playbook as pb
from oonplaybook.specialties import load_profiles

# %%
ctx = context.stage_context(
    run_dir=run_dir, params_base=params_base, client=client, client_name=client_name,
    inputs=inputs, mapping=mapping, appeals_file=appeals_file or None, specialties=specialties,
    state=state, locality=locality, fee_schedule_year=fee_schedule_year, benchmark=benchmark,
    playbook=playbook, output_root=output_root, seed=seed, phi_salt_env=phi_salt_env,
)
rng = plots.setup_notebook(seed)

# %%
claim_lines = ctx.read_table("claim_lines")
appeals = ctx.read_table("appeals")
benchmarks = pb.read_benchmarks(ctx.artifact("benchmarks")) if ctx.artifact("benchmarks").exists() else None
payer_effects = ctx.read_table("payer_effects") if ctx.artifact("payer_effects").exists() else None
scorecard = ctx.read_table("scorecard") if ctx.artifact("scorecard").exists() else None
settings = ctx.config.playbook
as_of = ctx.as_of_date(claim_lines)
profiles = load_profiles(ctx.config.specialties)
lines, left_out = pb.specialty_scope(claim_lines, ctx.config.specialties)
n_claim_lines = len(claim_lines)
del claim_lines  # later cells use the in-scope copy `lines` (one 1M-line frame in memory, not two)
display(Markdown(
    f"Deadlines are counted to **{as_of}**. Specialties: "
    f"{', '.join(p.display_name for p in profiles)}; {len(lines):,} of {n_claim_lines:,} lines are in scope."
))
report.show(left_out, "Every line belongs to a chosen specialty.")

# %% [markdown]
# ## No Surprises Act status of every claim
#
# Emergency services, out-of-network services at an in-network facility and air ambulance are
# protected: the patient owes only in-network cost sharing and the payment is settled by open
# negotiation (notice within 30 business days of the initial payment or denial) and then
# federal IDR (4 business days after the 30-business-day negotiation period).

# %%
nsa = pb.assess_nsa(lines, as_of=as_of)
nsa_counts = (
    nsa.assign(protected=nsa["nsa_applies"], window_open=~nsa["deadline_passed"].fillna(True).astype(bool) & nsa["nsa_applies"])
    .agg({"claim_id": "size", "protected": "sum", "window_open": "sum"})
    .rename({"claim_id": "claims", "protected": "NSA-protected", "window_open": "open negotiation still possible"})
    .to_frame("count")
)
nsa_counts

# %% [markdown]
# ## Targets per payer and code family
#
# Opening ask, target and walk-away as multiples of each line's Medicare amount (and in dollars
# on the median line), each with the numbers behind it. For NSA-protected families the target is
# the expected IDR outcome (win probability x the QPA times the observed award multiple, plus the
# current payment when losing); for the others, the market median across payers.

# %%
targets = pb.build_targets(
    benchmarks, payer_effects, scorecard, profiles, settings, claim_lines=lines, nsa_assessment=nsa
)
targets.to_csv(ctx.artifact("targets"), index=False)
report.save_table(run_dir, "40_targets", targets, title="Targets per payer and code family")
targets.sort_values("n_lines", ascending=False).head(15)[
    ["payer", "code_family", "n_lines", "current_x", "opening_ask_x", "target_x", "walk_away_x", "target_rationale"]
]

# %% [markdown]
# ## The worklist
#
# Every underpaid or denied claim, one row per route: the deadline, days left, the amount at
# stake, the probability of recovering it (IDR win rate by specialty and year; each payer's
# appeal history shrunk toward the published 54% overturn rate; 63% for corrected claims), the
# expected recovery net of IDR fees or the cost of working it, and a priority (expected value x
# urgency). NSA claims are priced inside the IDR batch they would join. Claims whose deadlines
# have all passed stay on the list as lost revenue.

# %%
worklist = pb.build_worklist(
    lines, benchmarks, nsa, targets, scorecard, as_of=as_of, settings=settings,
    profiles=profiles, appeals=appeals,
)
disputes = pb.idr_disputes(lines, benchmarks, nsa, worklist, targets, as_of=as_of)
batches = pb.build_idr_batches(disputes, as_of=as_of, settings=settings)
worklist = pb.link_idr_batches(worklist, disputes, batches)
pb.write_csv(worklist, ctx.artifact("worklist"))  # = to_csv(index=False), byte for byte, faster
pb.write_csv(batches, ctx.artifact("idr_batches"))
display(Markdown(pb.headline_markdown(worklist, batches, str(as_of))))
worklist.head(20)[
    ["rank", "claim_id", "payer", "route", "deadline", "days_left", "at_stake", "probability", "expected_recovery", "priority", "letter"]
]

# %% [markdown]
# ## Revenue at stake
#
# Billed and paid over all lines in scope; underpaid against target, denied dollars, expected
# recoverable and already lost from the worklist.

# %%
by_payer = pb.revenue_at_stake(lines, worklist, "payer")
by_specialty = pb.revenue_at_stake(lines, worklist, "specialty")
by_route = pb.revenue_at_stake(lines, worklist, "route")
report.save_table(run_dir, "40_stake_by_payer", by_payer, title="Revenue at stake by payer")
report.save_table(run_dir, "40_stake_by_specialty", by_specialty, title="Revenue at stake by specialty")
report.save_table(run_dir, "40_stake_by_route", by_route, title="Revenue at stake by route")
by_payer

# %%
fig = pb.stake_figure(by_payer, "payer", "At stake by payer: expected recoverable, lost, rest")

# %%
by_specialty

# %%
by_route

# %%
fig = pb.stake_figure(by_route, "route", "At stake by route")

# %% [markdown]
# ## IDR batches
#
# Disputes batched by provider TIN, payer, CMS code group and a 30-business-day window (line cap
# from params). Expected value per batch: win probability x (offer - amount already paid), less
# one administrative fee and the batched IDR-entity fee in the cases the provider bears it.

# %%
batches.head(15).drop(columns=["disputes"])

# %% [markdown]
# ## The playbook by specialty
#
# What to argue, the payer tactics to expect, and the route, for each specialty in the params.

# %%
display(Markdown("\n\n".join(pb.specialty_markdown(p, targets, worklist) for p in profiles)))

# %% [markdown]
# ## Patient protections
#
# Per claim: whether the patient may be balance-billed, patient responsibility above the NSA
# cap, and self-pay bills $400 or more above the good-faith estimate (patient-provider dispute
# eligible, 45 CFR 149.620).

# %%
protections = pb.patient_protections(lines, nsa)
report.save_table(run_dir, "40_patient_protections", protections.drop(columns=["patient_key"]), title="Patient protections")
protections[
    protections["ppdr_eligible"] | protections["patient_resp_exceeds_cap"] | ~protections["balance_bill_allowed"]
].head(15)[["claim_id", "payer", "nsa_applies", "balance_bill_allowed", "patient_resp", "excess_over_cap", "bill_over_gfe", "ppdr_eligible", "may_bill_patient"]]

# %% [markdown]
# ## Deliverables
#
# `playbook.xlsx` (Summary, Targets, Worklist, IDR batches, Payer scorecard, Patient
# protections), `worklist.csv`, `idr_batches.csv`, `targets.csv` and the letters (Markdown and
# Word) of the top worklist items and IDR batches, all under this run's `artifacts/`.

# %%
summary = pb.summary_sheet(
    lines, worklist, batches, protections, client_name=ctx.config.client_name or ctx.config.client,
    as_of=str(as_of), specialties=ctx.config.specialties,
)
pb.write_workbook(
    ctx.artifact("playbook"),
    {
        "Summary": summary,
        "Targets": targets,
        "Worklist": worklist,
        "IDR batches": batches,
        "Payer scorecard": scorecard if scorecard is not None else pd.DataFrame({"note": ["stage 30 did not write a scorecard"]}),
        "Patient protections": protections,
    },
)
letter_paths = letters.render_letters(
    worklist, claim_lines=lines, targets=targets, out_dir=ctx.artifact("letters"),
    limit=settings.letter_limit, client_name=ctx.config.client_name or ctx.config.client, as_of=as_of,
    profiles=profiles, disputes=disputes, batches=batches, protections=protections,
    contact=settings.contact, practice_size=settings.practice_size, benchmarks=benchmarks,
)
letter_paths += letters.render_patient_letters(
    protections, out_dir=ctx.artifact("letters"), limit=settings.letter_limit,
    client_name=ctx.config.client_name or ctx.config.client, as_of=as_of, contact=settings.contact,
)
display(Markdown(
    f"Wrote `playbook.xlsx`, `worklist.csv` ({len(worklist):,} rows), `idr_batches.csv` ({len(batches):,} batches), "
    f"`targets.csv` and {len(letter_paths) // 2:,} letters (Markdown + Word) under `artifacts/letters/`."
    + ("" if settings.contact else " Set `playbook.contact` in the params so notices carry the billing office's contact details.")
))
summary
