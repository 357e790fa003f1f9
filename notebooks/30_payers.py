# ---
# jupyter:
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 3 · How each payer behaves: denials, payment level, speed, appeals, drift and repricing
#
# This chapter fits statistical models of each payer's behaviour on the practice's own claims and
# reports every number with its 95% confidence interval, so each statement can be defended in an
# appeal, an open negotiation or an IDR submission. Payer effects are measured **against the
# average payer of this portfolio** (sum coding): an odds ratio of 2 means twice the odds of
# denial of the average payer *for the same kind of claim* (specialty, code family, place of
# service, emergency status and billed amount held equal). Payment levels are multiples of
# Medicare on this practice's own code mix.

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
import pandas as pd
from IPython.display import Markdown, display

from oonplaybook import context, plots, report
from oonplaybook.payers import fit_all, paid_lines
from oonplaybook.payers import figures as pf
from oonplaybook.payers.io import (
    PAYER_STAGE_COLUMNS,
    attach_medicare,
    read_benchmarks,
    write_outputs,
)

# %%
ctx = context.stage_context(
    run_dir=run_dir, params_base=params_base, client=client, client_name=client_name,
    inputs=inputs, mapping=mapping, appeals_file=appeals_file or None, specialties=specialties,
    state=state, locality=locality, fee_schedule_year=fee_schedule_year, benchmark=benchmark,
    playbook=playbook, scale=scale, output_root=output_root, seed=seed, phi_salt_env=phi_salt_env,
)
rng = plots.setup_notebook(seed)

# %%
claim_lines = ctx.read_table("claim_lines", PAYER_STAGE_COLUMNS, present=True)
benchmarks = read_benchmarks(ctx.artifact("benchmarks")) if ctx.artifact("benchmarks").exists() else None
appeals = ctx.read_table("appeals") if ctx.artifact("appeals").exists() else None
lines, benchmark_source = attach_medicare(
    claim_lines, benchmarks, year=fee_schedule_year, locality=locality, strict=False
)
models = fit_all(lines, appeals, seed=seed, grouped=ctx.config.scale.grouped_fits(len(lines)))
written = write_outputs(models, ctx.artifacts_dir)
display(Markdown(pf.data_sentence(models, benchmark_source)))

# %% [markdown]
# ## The payer scorecard
#
# One row per payer, ranked: **1 is the payer to work first** (most red flags: a payment cut, a
# repricer, improper emergency denials, denying or paying significantly worse or slower than the
# average payer; then the worst mix of denial rate, payment level and speed; then dollars
# billed and not paid). *Billed not paid* here is what was billed on adjudicated claims and
# neither paid nor owed by the patient: the ceiling of the dispute, not what can be recovered
# (chapter 4's *at stake* and *expected recoverable* are).

# %%
scorecard = models.scorecard()
report.save_table(run_dir, "30_scorecard", pf.scorecard_view(scorecard), title="Payer scorecard")
report.show(
    pf.scorecard_view(scorecard), "No payer could be scored.",
    caption="Payer scorecard (every column in playbook.xlsx › Payer scorecard)",
    columns=["rank", "payer", "dollars at stake", "adjusted denial rate", "denial OR", "x Medicare now", "median days", "median days from service", "appeal overturn", "drift size", "repricer", "improper ER denials", "red flags"],
)

# %% [markdown]
# ## What the models say, in plain English
#
# Each sentence below is written from the fitted results (nothing here is typed by hand).

# %%
display(Markdown("\n".join(f"- {s}" for s in pf.readings(models))))

# %% [markdown]
# ## Payer effects with their 95% confidence intervals
#
# Points are estimates, bars 95% CIs. For the ratios the dashed line is the average payer: a bar
# entirely right of it means *significantly more* (denials, speed, appeal success), entirely left
# *significantly less*. The payment panel shows each payer's multiple of Medicare. The table of
# every estimate is in the appendix.

# %%
effects = models.payer_effects()
report.save_table(run_dir, "30_payer_effects", effects, title="Payer effects (95% CI)")
fig = pf.forest_plot(effects)

# %% [markdown]
# ## Denials
#
# A logistic model of claim denial (binomial GLM, robust standard errors). The adjusted denial rate
# is the share of *this practice's* claims the payer would deny if it handled all of them. Denials
# of emergency claims for missing prior authorization or network status are improper under the No
# Surprises Act (45 CFR 149.110(b)); they are counted separately and modelled by their own term,
# so they do not distort the comparison of ordinary denials.

# %%
display(Markdown(pf.messages_md(models.denial, models.improper_er)))

# %% [markdown]
# ## Payment level and repricing
#
# Allowed amounts as a multiple of Medicare (geometric mean on the practice's code mix, with
# cluster-robust CIs). A payer whose allowed amounts form a narrow spike at one multiple, and
# whose remittances name a repricing vendor, is paying by a repricer's formula rather than a fair
# evaluation of the claim.

# %%
display(Markdown(pf.messages_md(models.payment, models.repricer)))

# %%
fig = pf.payment_spread_plot(paid_lines(lines)) if models.payment is not None else None

# %% [markdown]
# ## Drift: did a payer quietly change what it pays?
#
# Each payer's monthly payment index (allowed over Medicare, adjusted for the month's code mix)
# with its 95% band. A break is tested at every month (sup-F scan with a simulated null
# distribution, Holm-corrected across payers) and reported only when significant and at least a
# 3% change; the dashed line marks it. The last month of data is left out of the figure when it
# is incomplete (fewer claims remitted by the cut-off), as the caption says.

# %%
fig = pf.drift_plot(models.drift_index(), scorecard) if models.drift is not None else None

# %%
display(Markdown(pf.messages_md(models.drift)))

# %% [markdown]
# ## Time to payment
#
# Share of claims remitted (paid or denied) by days since the payer received them, per payer
# (Kaplan-Meier; claims with no remittance by the data cut-off count as still open, not as
# late payments). When most claims carry no claim-received date, the days run from the date of
# service instead (the axis, the scorecard column and the note below say so). The hazard ratio
# compares each payer's speed with the average payer's.

# %%
fig = pf.km_plot(models.km_curves()) if models.time_to_pay is not None else None

# %%
display(Markdown(pf.messages_md(models.time_to_pay)))

# %% [markdown]
# ## Appeals
#
# How often appeals to each payer succeed (overturned or partly overturned), with exact 95% CIs;
# where enough appeals have been decided, a logistic model also adjusts for the denial reason and
# the appeal level.

# %%
display(Markdown(pf.messages_md(models.appeals, none=models.errors.get("appeals", "No data caveats."))))
report.show(
    models.appeals.payer_table if models.appeals is not None else pd.DataFrame(),
    f"Appeals not assessed: {models.errors.get('appeals', 'no appeal history')}.",
    caption="Appeal outcomes by payer",
    columns=["payer", "appeals", "overturned", "overturn_rate", "rate_ci_low", "rate_ci_high", "odds_ratio", "p_value"],
    kinds={"rate_ci_low": "percent", "rate_ci_high": "percent"},
)

# %% [markdown] tags=["appendix"]
# ## Payer models in detail
#
# The estimates behind chapter 3, model by model, each with its 95% confidence interval and
# p-value (ratios against the average payer of this practice).

# %% tags=["appendix"]
report.show(
    effects, "No payer effects.", limit=40, caption="Payer effects (95% CI), every model",
    columns=["model", "payer", "estimate", "ci_low", "ci_high", "p_value", "n", "note"],
    kinds={"ci_low": "multiple", "ci_high": "multiple"},
)

# %% tags=["appendix"]
report.show(
    models.denial.payer_table if models.denial is not None else pd.DataFrame(),
    f"Denial model not fitted: {models.errors.get('denial', '')}",
    caption="Denial model: odds ratio against the average payer",
    kinds={"ci_low": "multiple", "ci_high": "multiple"},
)

# %% tags=["appendix"]
report.show(
    models.improper_er.tidy() if models.improper_er is not None else pd.DataFrame(),
    f"Improper emergency denials not assessed: {models.errors.get('improper_er', '')}",
    caption="Improper emergency denials (no prior authorization / network status)",
    columns=["term", "estimate", "ci_low", "ci_high", "p_value", "improper_denials", "excess_rate", "p_holm", "flagged"],
    kinds={"estimate": "multiple", "ci_low": "multiple", "ci_high": "multiple"},
)

# %% tags=["appendix"]
report.show(
    models.payment.payer_table if models.payment is not None else pd.DataFrame(),
    f"Payment model not fitted: {models.errors.get('payment', '')}",
    caption="Payment level: allowed as a multiple of Medicare",
    columns=["payer", "multiple", "ci_low", "ci_high", "p_value", "n", "current_multiple", "current_ci_low", "current_ci_high"],
    kinds={c: "multiple" for c in ("ci_low", "ci_high", "current_ci_low", "current_ci_high")},
)

# %% tags=["appendix"]
report.show(
    models.repricer.tidy() if models.repricer is not None else pd.DataFrame(),
    f"Repricer fingerprint not assessed: {models.errors.get('payment', '')}",
    caption="Repricer fingerprint",
    columns=["term", "estimate", "share_near_median", "mark_share", "vendors", "carc45_share", "flagged", "evidence"],
    kinds={"estimate": "multiple"},
)

# %% tags=["appendix"]
report.show(
    models.drift.tidy() if models.drift is not None else pd.DataFrame(),
    f"Drift not assessed: {models.errors.get('payment', '')}",
    caption="Drift: break in each payer's payment index",
    columns=["term", "estimate", "ci_low", "ci_high", "break_month", "level_before", "level_after", "p_holm", "flagged"],
    kinds={c: "multiple" for c in ("estimate", "ci_low", "ci_high", "level_before", "level_after")},
)

# %% tags=["appendix"]
report.show(
    models.time_to_pay.payer_table if models.time_to_pay is not None else pd.DataFrame(),
    f"Time to pay not assessed: {models.errors.get('time_to_pay', '')}",
    caption="Time to payment (Kaplan-Meier medians)",
    kinds={"median_ci_low": "days", "median_ci_high": "days", "remitted": "count", "censored": "count"},
)
