# ---
# jupyter:
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 2 · What the claims are worth: Medicare, charges, QPA and the payers' own numbers
#
# Every claim line is priced against the benchmarks that apply to it, side by side: the Medicare
# Physician Fee Schedule amount for the line's locality (to the cent, from CMS's own files), the
# practice's own charge percentiles (UCR), a FAIR Health table when the practice licenses one,
# the payer's QPA where the remittance carries it, and the payer's published out-of-network
# allowed amounts (Transparency-in-Coverage files). Each benchmark says where it came from and
# which release it is. The result, one row per line, is `artifacts/benchmarks.parquet`.

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
from IPython.display import Markdown, display

from oonplaybook import benchmark as bm
from oonplaybook import context, plots, report

# %%
ctx = context.stage_context(
    run_dir=run_dir, params_base=params_base, client=client, client_name=client_name,
    inputs=inputs, mapping=mapping, appeals_file=appeals_file or None, specialties=specialties,
    state=state, locality=locality, fee_schedule_year=fee_schedule_year, benchmark=benchmark,
    playbook=playbook, output_root=output_root, seed=seed, phi_salt_env=phi_salt_env,
)
rng = plots.setup_notebook(seed)
settings = ctx.config.benchmark

# %%
claim_lines = ctx.read_table("claim_lines")
fair_health, allowed_amounts = bm.read_benchmark_inputs(
    ctx.resolve(settings.fair_health_file),
    [ctx.resolve(p) for p in settings.allowed_amounts_files],
    codes=sorted(set(claim_lines["cpt"])),
)
bench = bm.build_benchmarks(
    claim_lines,
    year=ctx.config.fee_schedule_year,
    default_locality=ctx.config.locality,
    ucr_percentiles=settings.ucr_percentiles,
    ucr_min_count=settings.ucr_min_count,
    fair_health=fair_health,
    allowed_amounts=allowed_amounts,
)
bench.to_parquet(ctx.artifact("benchmarks"), index=False)
coverage = bm.coverage_table(bench)
report.save_table(run_dir, "20_benchmark_coverage", coverage, title="Which benchmarks each line has")
display(Markdown(bm.coverage_sentence(bench)))
coverage

# %% [markdown]
# ## Medicare pricing
#
# Lines CMS does not price under the fee schedule (bundled, carrier-priced, excluded, non-covered
# codes, anesthesia without base units) have no Medicare amount and a stated reason; they are
# never counted as zero.

# %%
unpriced = bm.unpriced_table(bench)
report.save_table(run_dir, "20_unpriced_lines", unpriced, title="Lines without a Medicare price")
report.show(unpriced, "Every line has a Medicare price.")

# %% [markdown]
# ## What each payer allows, as a multiple of Medicare
#
# The payer's allowed amount (plan payment plus the patient's share) divided by the Medicare
# amount for the same line, on paid lines. Medians come with a 95% bootstrap confidence interval.

# %%
multiples = bm.multiples_by_payer(
    bench, value="allowed_x_medicare", reps=settings.bootstrap_reps, seed=seed
)
report.save_table(run_dir, "20_allowed_x_medicare", multiples, title="Allowed as a multiple of Medicare")
bm.payment_dispersion(multiples)

# %%
fig = bm.plot_multiples(bench, value="allowed_x_medicare", mult=multiples)

# %%
fig = bm.plot_family_heatmap(multiples)

# %% [markdown]
# The plan's payment alone (excluding the patient's cost share) as a multiple of Medicare:

# %%
paid_multiples = bm.multiples_by_payer(
    bench, value="paid_x_medicare", reps=settings.bootstrap_reps, seed=seed
)
report.save_table(run_dir, "20_paid_x_medicare", paid_multiples, title="Paid as a multiple of Medicare")
bm.payment_dispersion(paid_multiples)

# %%
fig = bm.plot_multiples(bench, value="paid_x_medicare", mult=paid_multiples)

# %% [markdown]
# ## Billed charges against the specialty's published range
#
# Charges as a multiple of Medicare, per specialty, against the published multiples (Bai &
# Anderson, JAMA 2017). Charges far above the published range invite "excessive charge" pushback.

# %%
published = bm.billed_vs_published(bench, reps=settings.bootstrap_reps, seed=seed)
report.save_table(run_dir, "20_billed_vs_published", published, title="Billed multiple vs published")
published

# %%
fig = bm.plot_billed_vs_published(published)

# %% [markdown]
# ## The gap between what was paid and each benchmark
#
# Dollars paid below each benchmark on paid lines (a line paid above a benchmark counts zero).

# %%
gaps = bm.gap_table(bench, by="payer")
report.save_table(run_dir, "20_gaps_by_payer", gaps, title="Paid below each benchmark, by payer")
gaps

# %%
fig = bm.plot_gaps(gaps, by="payer")

# %% [markdown]
# ## Findings

# %%
display(Markdown("\n".join(f"- {s}" for s in bm.findings(multiples, published))))
