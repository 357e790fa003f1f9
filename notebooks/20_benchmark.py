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
scale: dict = {}  # parts and cluster for large clients (see config.ScaleSettings)
output_root: str = "outputs"  # where run folders go
seed: int = 0  # RNG seed for bootstraps and simulations
phi_salt_env: str = "OONPLAYBOOK_PHI_SALT"  # env var holding the PHI salt
run_dir: str = "."  # the run folder (the kernel's working directory)
params_base: str = "."  # folder relative input paths resolve from

# %%
from IPython.display import Markdown, display

from oonplaybook import benchmark as bm
from oonplaybook import coding, context, plots, report, tic_benchmark
from oonplaybook import formatting as fmt

# %%
ctx = context.stage_context(
    run_dir=run_dir, params_base=params_base, client=client, client_name=client_name,
    inputs=inputs, mapping=mapping, appeals_file=appeals_file or None, specialties=specialties,
    state=state, locality=locality, fee_schedule_year=fee_schedule_year, benchmark=benchmark,
    playbook=playbook, scale=scale, output_root=output_root, seed=seed, phi_salt_env=phi_salt_env,
)
rng = plots.setup_notebook(seed)
settings = ctx.config.benchmark
multiple_kinds = {c: "multiple" for c in ("median", "ci_low", "ci_high", "p25", "p75", "spread_p75_over_p25")}

# %%
claim_lines = ctx.read_table("claim_lines", columns=coding.CHECK_COLUMNS)  # what this chapter reads
fair_health, allowed_amounts = bm.read_benchmark_inputs(
    ctx.resolve(settings.fair_health_file),
    [ctx.resolve(p) for p in settings.allowed_amounts_files],
    codes=sorted(set(claim_lines["cpt"])),
)
# one part at a time (on the cluster with scale.scheduler); UCR percentiles exact over all parts
bm.build_benchmark_parts(
    ctx.artifact("claim_lines"),
    ctx.artifact("benchmarks"),
    scheduler=ctx.scheduler,
    year=ctx.config.fee_schedule_year,
    default_locality=ctx.config.locality,
    ucr_percentiles=settings.ucr_percentiles,
    ucr_min_count=settings.ucr_min_count,
    fair_health=fair_health,
    allowed_amounts=allowed_amounts,
    qp=settings.qualifying_apm_participant,
    in_network=tic_benchmark.load(ctx.resolve(settings.tic_in_network_dataset), sorted(set(claim_lines["cpt"]))),
    qpa_flag_below=settings.qpa_flag_below,
)
bench = ctx.read_table("benchmarks")
coverage = bm.coverage_table(bench)
report.save_table(run_dir, "20_benchmark_coverage", coverage, title="Which benchmarks each line has")
display(Markdown(bm.coverage_sentence(bench)))

# %% [markdown] tags=["appendix"]
# ## Benchmark coverage and Medicare pricing
#
# Which benchmarks each line has, with source and release. Lines CMS does not price under the
# fee schedule (bundled, carrier-priced, excluded, non-covered codes, anesthesia without base
# units) have no Medicare amount and a stated reason; they are never counted as zero.

# %% tags=["appendix"]
report.show(coverage, "No benchmark applies.", caption="Which benchmarks each line has")

# %% tags=["appendix"]
unpriced = bm.unpriced_table(bench)
report.save_table(run_dir, "20_unpriced_lines", unpriced, title="Lines without a Medicare price")
report.show(unpriced, "Every line has a Medicare price.", caption="Lines without a Medicare price", where_rest="summary.xlsx › 20_unpriced_lines")

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
report.show(
    bm.payment_dispersion(multiples), "No paid lines with a Medicare price.",
    caption="Allowed as a multiple of Medicare, per payer (all code families)", kinds=multiple_kinds,
    labels={"spread_p75_over_p25": "Spread (p75 / p25)"},
)

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
report.show(
    bm.payment_dispersion(paid_multiples), "No paid lines with a Medicare price.",
    caption="Paid as a multiple of Medicare, per payer (all code families)", kinds=multiple_kinds,
    labels={"spread_p75_over_p25": "Spread (p75 / p25)"},
)

# %%
fig = bm.plot_multiples(bench, value="paid_x_medicare", mult=paid_multiples)

# %% [markdown]
# ## Billed charges against the specialty's published range
#
# Charges as a multiple of Medicare, per specialty, against the published multiples (Bai &
# Anderson, JAMA 2017). Charges far above the published range invite "excessive charge" pushback.

# %%
published = fmt.label_blank_groups(bm.billed_vs_published(bench, reps=settings.bootstrap_reps, seed=seed))
report.save_table(run_dir, "20_billed_vs_published", published, title="Billed multiple vs published")
report.show(
    published, "No specialty has a published range.", caption="Billed charges against the published range",
    columns=["specialty", "n_lines", "billed_multiple_median", "ci_low", "ci_high", "published_multiple", "ratio_to_published", "source"],
    kinds={"ci_low": "multiple", "ci_high": "multiple"},
)

# %%
fig = bm.plot_billed_vs_published(published)

# %% [markdown]
# ## The gap between what was allowed and each benchmark
#
# Dollars allowed below each benchmark on paid lines (a line allowed above a benchmark counts
# zero). The benchmarks are allowed-level amounts, so they are compared with what was allowed:
# the plan's payment plus the patient's share. The plan payment's own gap to Medicare is the
# last column.

# %%
gaps = bm.gap_table(bench, by="payer")
report.save_table(run_dir, "20_gaps_by_payer", gaps, title="Paid below each benchmark, by payer")
report.show(
    gaps[[c for c in gaps.columns if not c.endswith(": lines")]], "No paid lines.",
    caption="Dollars allowed below each benchmark, by payer (line counts per benchmark in summary.xlsx › 20_gaps_by_payer)",
)

# %%
fig = bm.plot_gaps(gaps, by="payer")

# %% [markdown]
# ## What the payers pay in-network in the region (Transparency-in-Coverage files)
#
# Every plan must publish its in-network rates monthly. From the payer's own files (extracted
# with `oonplaybook tic extract` for the codes the practice bills and the providers of its
# region), each line gets the payer's in-network distribution for the code (median, quartiles,
# 90th percentile, how many provider groups) and the all-payer regional one. Dollar rates only;
# percentage-of-billed contracts are applied to the line's own charge and shown apart.

# %%
innet = tic_benchmark.in_network_table(bench)
report.save_table(run_dir, "20_in_network_rates", innet, title="In-network rates by payer (TiC)")
report.show(
    innet, "No TiC in-network rate dataset was given (benchmark.tic_in_network_dataset).",
    caption="The payer's own in-network median, as a multiple of Medicare, and what it allowed out of network as a share of it",
    labels={"innet_x_medicare": "In-network median (x Medicare)", "allowed_share_of_innet": "Allowed as share of in-network median", "innet_groups": "Provider groups (most)"},
    kinds={"innet_x_medicare": "multiple", "allowed_share_of_innet": "percent", "innet_groups": "count"},
)

# %% [markdown]
# ### The QPA check
#
# The QPA is meant to be the plan's median contracted rate for the service in the area (45 CFR
# 149.140). Where the remittance carries a QPA, it is compared with the same payer's current
# in-network median for the code; a QPA far below it (params `benchmark.qpa_flag_below`) is
# listed with the files, months and provider-group count behind it.

# %%
qpa_checks = tic_benchmark.qpa_check_table(bench)
report.save_table(run_dir, "20_qpa_check", qpa_checks, title="QPA against the payer's in-network median")
report.show(
    qpa_checks, "No line carries both a QPA and an in-network rate.",
    caption="QPA against the payer's own in-network median, by payer and code", where_rest="summary.xlsx › 20_qpa_check",
    labels={"flagged": "Lines flagged", "qpa_to_innet_median": "QPA / in-network median", "innet_median": "In-network median", "innet_groups": "Provider groups", "evidence": "Evidence"},
    kinds={"qpa_to_innet_median": "multiple", "innet_median": "money", "innet_groups": "count", "flagged": "count"},
)

# %% [markdown]
# ## Coding compliance: were the payers' bundling and unit edits right?
#
# Each bundling, modifier or unit denial (CO-97, CO-234, CO-236, CO-4, CO-59, CO-151, CO-119) is
# checked against CMS's NCCI procedure-to-procedure edits and medically unlikely edits (MUEs) in
# force on the date of service, and against the fee schedule's global-period, bilateral,
# assistant-at-surgery and multiple-procedure indicators. Appealing a correct edit wastes an
# appeal level; a missing modifier is fixed with a corrected claim; an edit NCCI does not support
# is appealed with NCCI as the evidence. Lines not yet paid are checked the same way, before the
# payer sees them. Every edit, with its evidence, is in `artifacts/coding_edits.csv`.

# %%
check = coding.stage_check(
    claim_lines, [ctx.resolve(p) for p in settings.ncci_files], ctx.config.fee_schedule_year
)
check.edits.to_csv(ctx.artifact("coding_edits"), index=False, lineterminator="\n", date_format="%Y-%m-%d")
coding_summary = check.summary(claim_lines)
report.save_table(run_dir, "20_coding_compliance", coding_summary, title="Coding denials by verdict")
display(Markdown(check.note))
report.show(
    coding_summary, "No coding denials or scrub flags.", caption="Coding denials and scrub flags by verdict",
    labels={"lines": "Lines", "verdict": "Verdict", "n_lines": "Lines (count)", "billed": "Billed"},
)

# %%
report.show(
    check.top_pairs(), "No NCCI code-pair edits on the claims.",
    caption="The code pairs behind the most coding denials", where_rest="artifacts/coding_edits.csv",
    labels={"column1_code": "Column 1 code", "column2_code": "Column 2 code (bundled)", "n_lines": "Lines"},
)

# %% [markdown]
# ## Findings

# %%
display(Markdown("\n".join(f"- {s}" for s in bm.findings(multiples, published))))
