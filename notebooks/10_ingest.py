# ---
# jupyter:
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 1 · What was read, and the revenue at stake
#
# This chapter reads the practice's claim export and the payers' X12 835 remittances, accounts
# for every record (accepted, or rejected with its reason and place), and totals what was billed,
# allowed, paid and denied by payer and specialty. Patient identities are replaced by a salted
# key as they are read; no name, member ID or birth date is kept.

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

from oonplaybook import context, plots, quality, report, revenue
from oonplaybook.ingest import ingest_paths, read_appeals
from oonplaybook.phi import resolve_salt

# %%
ctx = context.stage_context(
    run_dir=run_dir, params_base=params_base, client=client, client_name=client_name,
    inputs=inputs, mapping=mapping, appeals_file=appeals_file or None, specialties=specialties,
    state=state, locality=locality, fee_schedule_year=fee_schedule_year, benchmark=benchmark,
    playbook=playbook, scale=scale, output_root=output_root, seed=seed, phi_salt_env=phi_salt_env,
)
rng = plots.setup_notebook(seed)

# %%
result = ingest_paths(
    ctx.input_paths(), salt=resolve_salt(), mapping=mapping, base=ctx.params_base,
    workers=ctx.config.scale.ingest_workers,
)
result.write(ctx.artifacts_dir, n_parts=ctx.n_parts(len(result.claim_lines)))
claim_lines = result.claim_lines
if appeals_file:
    appeals, appeal_rejects = read_appeals(ctx.resolve(appeals_file))
else:
    appeals, appeal_rejects = read_appeals(None)
appeals.to_parquet(ctx.artifact("appeals"), index=False)
rejects = pd.concat([result.rejects, appeal_rejects], ignore_index=True)
rejects.to_csv(ctx.artifact("rejects"), index=False)
display(Markdown(quality.ingest_summary(result.report, appeals, appeal_rejects)))
report.show(quality.sources(result.report), "No files read.", caption="Files read, by kind")

# %% [markdown]
# ## Revenue at stake
#
# Billed charges against what payers allowed and paid. *Denied (billed)* is the charge on lines
# paid nothing; *billed not paid, other* is the rest of the charge not paid (reductions, patient
# share, claims still pending). The benchmark and payer chapters turn these gaps into targets;
# the terms are defined once, in the glossary after the executive summary.

# %%
by_payer = revenue.revenue_at_stake(claim_lines, "payer")
report.save_table(run_dir, "10_revenue_by_payer", by_payer, title="Revenue at stake by payer")
display(Markdown(revenue.headline(claim_lines)))
report.show(
    by_payer, "No claim lines.", caption="Billed, paid and denied by payer",
    columns=["payer", "claims", "billed", "allowed", "paid", "patient_resp", "denied_billed", "unpaid_other", "paid_share_of_billed", "denial_rate_lines"],
)

# %%
fig = plots.revenue_bars(by_payer, "payer", "Billed dollars by payer: paid, denied, other unpaid")

# %%
by_specialty = revenue.revenue_at_stake(claim_lines, "specialty")
report.save_table(run_dir, "10_revenue_by_specialty", by_specialty, title="Revenue at stake by specialty")
report.show(
    by_specialty, "No claim lines.", caption="Billed, paid and denied by specialty",
    columns=["specialty", "claims", "billed", "allowed", "paid", "patient_resp", "denied_billed", "unpaid_other", "paid_share_of_billed", "denial_rate_lines"],
)

# %%
fig = plots.revenue_bars(by_specialty, "specialty", "Billed dollars by specialty")

# %%
fig = plots.monthly_volume(claim_lines)

# %% [markdown] tags=["appendix"]
# ## Data quality
#
# What was read, which fields are missing (and which later analysis they weaken), why records
# were rejected, which remittances do not balance, and where the payer paid a different code
# than the one billed.

# %% tags=["appendix"]
overview = quality.overview(claim_lines, rejects)
report.save_table(run_dir, "10_overview", overview, title="What was read")
report.show(overview, "Nothing was read.", caption="What was read")

# %% tags=["appendix"]
missing = quality.missing_fields(claim_lines)
report.save_table(run_dir, "10_missing_fields", missing)
report.show(missing, "No field is missing.", caption="Missing fields and what they weaken")

# %% tags=["appendix"]
rejected = quality.rejects_by_reason(rejects)
report.save_table(run_dir, "10_rejects_by_reason", rejected)
display(Markdown(f"**{len(rejects):,} records rejected** (each in `artifacts/rejects.csv` with file and place)."))
report.show(rejected, "No record was rejected.", caption="Rejected records by reason", where_rest="artifacts/rejects.csv and summary.xlsx › 10_rejects_by_reason")

# %% tags=["appendix"]
balance = result.balance_failures
report.save_table(run_dir, "10_balance_failures", balance.drop(columns=["claim_location"], errors="ignore"))
display(Markdown(quality.balance_sentence(balance, claim_lines)))
report.show(quality.balance_summary(balance), "No claim is out of balance.", caption="Remittances out of balance, by check")

# %% tags=["appendix"]
recoded = quality.recodes(claim_lines)
report.save_table(run_dir, "10_recodes", recoded)
display(Markdown(quality.recode_sentence(claim_lines)))
report.show(recoded, "No recoded lines.", caption="Lines paid under another code than billed", where_rest="summary.xlsx › 10_recodes")

# %% tags=["appendix"]
report.show(quality.status_counts(claim_lines), "No claim lines.", caption="Lines by claim status")
