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
scale: dict = {}  # parts and cluster for large clients (see config.ScaleSettings)
output_root: str = "outputs"  # where run folders go
seed: int = 0  # RNG seed for bootstraps and simulations
phi_salt_env: str = "OONPLAYBOOK_PHI_SALT"  # env var holding the PHI salt
run_dir: str = "."  # the run folder (the kernel's working directory)
params_base: str = "."  # folder relative input paths resolve from

# %%
from IPython.display import Markdown, display

from oonplaybook import coding, context, letters, plots, report, workbook
from oonplaybook import playbook as pb
from oonplaybook.specialties import load_profiles

# %%
ctx = context.stage_context(
    run_dir=run_dir, params_base=params_base, client=client, client_name=client_name,
    inputs=inputs, mapping=mapping, appeals_file=appeals_file or None, specialties=specialties,
    state=state, locality=locality, fee_schedule_year=fee_schedule_year, benchmark=benchmark,
    playbook=playbook, scale=scale, output_root=output_root, seed=seed, phi_salt_env=phi_salt_env,
)
rng = plots.setup_notebook(seed)

# %%
claim_lines = ctx.read_table("claim_lines", pb.PLAYBOOK_STAGE_COLUMNS, present=True)
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
    + (
        f" The {n_claim_lines - len(lines):,} lines left out (below, ${float(left_out['billed'].sum()):,.0f} billed)"
        " are why this chapter's billed and paid totals are lower than chapter 1's."
        if len(left_out) else ""
    )
))
report.show(left_out, "Every line belongs to a chosen specialty.", caption="Lines outside the chosen specialties")

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
    .rename_axis("measure").to_frame("count").reset_index()
)
report.show(nsa_counts, "No claims.", caption=f"No Surprises Act status of every claim (as of {as_of})", kinds={"count": "count"})

# %% [markdown]
# ## Targets per payer and code family
#
# Opening ask, target and walk-away as multiples of each line's Medicare amount (and in dollars
# on the median line), each with the numbers behind it. For NSA-protected families the target is
# the expected IDR outcome (win probability x the QPA times the observed award multiple, plus the
# current payment when losing); for the others, the market median across payers.

# %%
targets = pb.build_targets(
    benchmarks, payer_effects, scorecard, profiles, settings, claim_lines=lines, nsa_assessment=nsa,
    as_of=as_of,
)
targets.to_csv(ctx.artifact("targets"), index=False)
report.save_table(run_dir, "40_targets", targets, title="Targets per payer and code family")
report.show(
    targets.sort_values("n_lines", ascending=False, kind="stable"), "No targets could be set.",
    caption="Targets per payer and code family (the 15 with the most lines)", where_rest="artifacts/playbook.xlsx › Targets",
    columns=["payer", "code_family", "n_lines", "current_x", "opening_ask_x", "target_x", "walk_away_x", "target_rationale"],
)

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
    profiles=profiles, appeals=appeals, coding=coding.read_verdicts(ctx.artifact("coding_edits")),
)
disputes = pb.idr_disputes(lines, benchmarks, nsa, worklist, targets, as_of=as_of)
batches = pb.build_idr_batches(disputes, as_of=as_of, settings=settings)
worklist = pb.link_idr_batches(worklist, disputes, batches)
pb.write_csv(batches, ctx.artifact("idr_batches"))
display(Markdown(pb.headline_markdown(worklist, batches, str(as_of))))
report.show(
    worklist[worklist["status"].eq("open")], "No open worklist items.",
    caption="The worklist: open items by priority (the first 15)", where_rest="artifacts/playbook.xlsx › Worklist",
    columns=["rank", "claim_id", "payer", "action", "deadline", "days_left", "at_stake", "expected_recovery", "letter_type"],
)

# %% [markdown]
# ## Revenue at stake
#
# Billed and paid over all lines in scope; underpaid against target, denied dollars, expected
# recoverable and already lost from the worklist. The payer and specialty tables total the same
# billed dollars as the lines in scope; the route table's billed and paid count only the claims on
# the worklist (a claim with lines on two routes counts under each), so its total is lower.

# %%
by_payer = pb.revenue_at_stake(lines, worklist, "payer")
by_specialty = pb.revenue_at_stake(lines, worklist, "specialty")
by_route = pb.revenue_at_stake(lines, worklist, "route")
report.save_table(run_dir, "40_stake_by_payer", by_payer, title="Revenue at stake by payer")
report.save_table(run_dir, "40_stake_by_specialty", by_specialty, title="Revenue at stake by specialty")
report.save_table(run_dir, "40_stake_by_route", by_route, title="Revenue at stake by route")
report.show(by_payer, "No worklist items.", limit=40, caption="Revenue at stake by payer", total_row=True)

# %%
fig = pb.stake_figure(by_payer, "payer", "At stake by payer: expected recoverable, lost, rest")

# %%
report.show(by_specialty, "No worklist items.", limit=40, caption="Revenue at stake by specialty", total_row=True)

# %%
report.show(by_route, "No worklist items.", limit=40, caption="Revenue at stake by route", total_row=True)

# %%
fig = pb.stake_figure(by_route, "route", "At stake by route")

# %% [markdown]
# ## IDR batches
#
# Disputes batched by provider TIN, payer, CMS code group and a 30-business-day window (line cap
# from params). Expected value per batch: win probability x (offer - amount already paid), less
# one administrative fee and the batched IDR-entity fee in the cases the provider bears it.

# %%
report.show(
    batches.sort_values("ev_net", ascending=False, kind="stable"), "No dispute is eligible for federal IDR.",
    caption="IDR batches (the 15 with the highest net expected value)",
    where_rest="artifacts/playbook.xlsx › IDR batches",
    columns=["batch_id", "payer", "idr_code_group", "n_claims", "initiate_by", "offer_total", "paid_total", "qpa_total", "p_win", "ev_net", "worth_filing"],
)

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
display(Markdown(
    f"**{int((~protections['balance_bill_allowed']).sum()):,}** of {len(protections):,} claims may not be balance-billed; "
    f"**{int(protections['patient_resp_exceeds_cap'].sum()):,}** carry patient responsibility above the NSA cap "
    f"(${float(protections['excess_over_cap'].sum()):,.0f} to refund or re-bill); "
    f"**{int(protections['ppdr_eligible'].sum()):,}** self-pay bills are $400 or more over the good-faith estimate."
))
report.show(
    protections[protections["patient_resp_exceeds_cap"]].sort_values("excess_over_cap", ascending=False, kind="stable"),
    "No claim has patient responsibility above the NSA cap.",
    caption="Patient responsibility above the NSA cap (largest excess first)", where_rest="artifacts/playbook.xlsx › Patient protections",
    columns=["claim_id", "payer", "service_date", "patient_resp", "patient_cost_share_cap", "excess_over_cap", "may_bill_patient"],
)

# %%
report.show(
    protections[protections["ppdr_eligible"]].sort_values("bill_over_gfe", ascending=False, kind="stable"),
    "No self-pay bill is $400 or more over its good-faith estimate.",
    caption="Self-pay bills eligible for patient-provider dispute (45 CFR 149.620)", where_rest="artifacts/playbook.xlsx › Patient protections",
    columns=["claim_id", "service_date", "billed", "gfe_amount", "bill_over_gfe", "ppdr_window_end", "may_bill_patient"],
)

# %% [markdown]
# ## Deliverables
#
# `playbook.xlsx` (README, Summary, the open Worklist with columns to record the work, the rows
# not open, the document checklists, Targets, IDR batches, Payer scorecard, Patient protections), `worklist.csv`, `idr_batches.csv`, `targets.csv` and the letters (Markdown and
# Word) of the top worklist items and IDR batches, all under this run's `artifacts/`.

# %%
summary = pb.summary_sheet(
    lines, worklist, batches, protections, client_name=ctx.config.client_name or ctx.config.client,
    as_of=str(as_of), specialties=ctx.config.specialties,
)
letter_run = letters.write_letters(
    worklist, claim_lines=lines, targets=targets, out_dir=ctx.artifact("letters"), as_of=as_of,
    client_name=ctx.config.client_name or ctx.config.client, limit=settings.letter_limit,
    limits=settings.letter_limits, due_days=settings.letter_due_days, profiles=profiles, disputes=disputes,
    batches=batches, protections=protections, appeals=appeals, benchmarks=benchmarks,
    contact=settings.contact, practice_size=settings.practice_size,
)
worklist = letters.with_letter_files(worklist, letter_run.index)  # `letter` = the file actually written
pb.write_csv(worklist, ctx.artifact("worklist"))  # = to_csv(index=False), byte for byte, faster
letters.save_inputs(run_dir, as_of=as_of, worklist=worklist, disputes=disputes, batches=batches, protections=protections, targets=targets)
pb.write_playbook_workbook(
    ctx.artifact("playbook"), summary=summary, worklist=worklist, targets=targets, batches=batches,
    scorecard=scorecard, protections=protections, facts=workbook.run_facts(run_dir, ctx.config),
)
display(Markdown(
    f"Wrote `playbook.xlsx`, `worklist.csv` ({len(worklist):,} rows), `idr_batches.csv` ({len(batches):,} batches), "
    f"`targets.csv` and {len(letter_run.index):,} letters (Markdown + Word, each with a staff cover note in "
    "`letters/internal/`) under `artifacts/letters/`. Letters per type are limited by `playbook.letter_limit` "
    f"(rows due within {settings.letter_due_days} days first); "
    "`oonplaybook letters RUN_DIR --all` writes the rest."
    + "".join(f"\n\n- {x}" for x in letter_run.warnings)
))
report.show(letter_run.coverage, "No letters were needed.", caption="Letters written, by type")
