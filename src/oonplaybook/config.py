"""The params contract: one YAML per client, validated by :class:`RunConfig` before anything runs.

Relative paths in a params file are resolved against the params file's own folder. Codes are
strings: YAML turns ``00100`` into the integer 64, so a code that arrives as a number is refused
with the fix ("quote it") instead of being silently padded back.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Literal, get_args

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

#: Specialty profiles shipped in ``oonplaybook/specialties`` (the generic profile is the fallback).
KNOWN_SPECIALTIES = (
    "emergency_medicine",
    "anesthesiology",
    "radiology",
    "pathology",
    "neonatology",
    "orthopedic_surgery",
    "neurosurgery_ionm",
    "behavioral_health",
    "generic",
)

US_STATES = frozenset(
    "AL AK AZ AR CA CO CT DE DC FL GA HI ID IL IN IA KS KY LA ME MD MA MI MN MS MO MT NE NV NH "
    "NJ NM NY NC ND OH OK OR PA PR RI SC SD TN TX UT VT VA VI WA WV WI WY GU AS MP".split()
)

_LOCALITY = re.compile(r"^\d{5}-\d{1,2}$")
_SLUG = re.compile(r"[a-z0-9][a-z0-9_-]*")
#: Longest client slug (it names the output folder).
SLUG_MAX = 64
_CODE = re.compile(r"^[0-9A-Z]{5}$")


class ParamsError(ValueError):
    """A params file is invalid; the message names the file, the key, the value and the fix."""


def code_string(value: Any, key: str) -> str:
    """A CPT/HCPCS code from YAML, refused (with the fix) when YAML made it a number."""
    if not isinstance(value, str):
        raise ValueError(
            f"{key}: code {value!r} is a {'number' if isinstance(value, int | float) else type(value).__name__}, not a string; YAML reads "
            f'unquoted codes as numbers (00100 becomes 64). Quote it: "{value}"'
        )
    if not _CODE.match(value):
        raise ValueError(f"{key}: {value!r} is not a 5-character CPT/HCPCS code")
    return value


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    @field_validator("*", mode="before")
    @classmethod
    def _no_bool_for_numbers(cls, v: Any, info: ValidationInfo) -> Any:
        """Refuse ``true``/``false`` where a number is expected (pydantic would read 1/0)."""
        if isinstance(v, bool) and info.field_name:
            ann = cls.model_fields[info.field_name].annotation
            if ann in (int, float) or set(get_args(ann)) & {int, float}:
                raise ValueError(
                    f"{str(v).lower()} is a yes/no value, not a number; fix: give a number"
                )
        return v


class BenchmarkSettings(_Strict):
    """How the benchmark ladder is built (stage 20)."""

    ucr_percentiles: list[int] = Field(default_factory=lambda: [50, 75, 80, 90])
    ucr_min_count: int = Field(20, ge=1, description="fewest charges for a code-level UCR cell")
    fair_health_file: str | None = Field(None, description="bring-your-own FAIR Health CSV")
    allowed_amounts_files: list[str] = Field(
        default_factory=list, description="Transparency-in-Coverage allowed-amounts JSON files"
    )
    bootstrap_reps: int = Field(500, ge=50, le=20000)
    tic_in_network_dataset: str | None = Field(
        None,
        description="TiC in-network rate dataset from `oonplaybook tic extract` (the in-network "
        "rung and the QPA check)",
    )
    qpa_flag_below: float = Field(
        0.8,
        gt=0,
        le=1,
        description="flag a QPA below this multiple of the payer's in-network median",
    )
    ncci_files: list[str] = Field(
        default_factory=list,
        description="CMS NCCI PTP/MUE files, zips or folders for the coding check (empty: the "
        "release imported with `oonplaybook coding import`, if any)",
    )
    qualifying_apm_participant: bool = Field(
        False,
        description="price with the qualifying APM participant (QP) conversion factors, 2026 on "
        "(33.5675 / anesthesia 20.5998 instead of 33.4009 / 20.4976; CY2026 PFS final rule)",
    )

    @field_validator("ucr_percentiles")
    @classmethod
    def _pct(cls, v: list[int]) -> list[int]:
        bad = [p for p in v if not 0 < p < 100]
        if bad:
            raise ValueError(f"percentiles must be between 1 and 99, got {bad}")
        return sorted(set(v))


class PlaybookSettings(_Strict):
    """How targets, the worklist and IDR batches are built (stage 40)."""

    as_of_date: str | None = Field(
        None, description="ISO date deadlines are counted to; default: the data cut-off"
    )
    idr_batch_max_lines: int | None = Field(
        None,
        ge=1,
        description="line limit per IDR batch; default none under the 2022 rules and 50 once "
        "CMS-9897-F batching applies (rules.batch_max_lines); 25 is only a fee tier",
    )
    rule_applicability: dict[str, str] = Field(
        default_factory=dict,
        description="CMS-9897-F provision -> ISO applicability date, overriding the "
        "unconfirmed default 2026-08-03 (rules.PROVISIONS)",
    )
    idr_batch_window_days: int = Field(30, ge=1, le=90)
    walk_away_multiple_of_medicare: float = Field(1.5, gt=0)
    min_dispute_amount: float = Field(0.0, ge=0)
    codes_of_interest: list[str] = Field(default_factory=list)
    contract_appeal_days: int = Field(180, ge=1, description="plan/contract appeal window")
    letter_limit: int = Field(
        50,
        ge=0,
        description="max letters written per letter type (in worklist rank order); "
        "`oonplaybook letters RUN_DIR --all` writes the rest",
    )
    letter_limits: dict[str, int] = Field(
        default_factory=dict,
        description="per-letter-type limits overriding letter_limit, e.g. {appeal: 100}",
    )
    letter_due_days: int = Field(
        14,
        ge=0,
        description="rows due within this many days get their letter first (within the limits)",
    )
    timely_filing_days: int = Field(
        365,
        ge=1,
        description="payer timely-filing window for corrected claims (contracts: 90-365, docs/domain.md §4.3)",
    )
    work_cost_per_claim: float = Field(
        57.23,
        ge=0,
        description="cost to work one appeal (Premier 2023: $57.23/claim, docs/domain.md §6)",
    )
    patient_collection_rate: float = Field(
        0.5,
        ge=0,
        le=1,
        description="share of patient balances collected (client's own rate; no published default)",
    )
    patient_billing_days: int = Field(
        300,
        ge=1,
        le=3650,
        description=(
            "the practice's own deadline for billing a patient, in days after the plan's remit "
            "(the date of service when there is no plan, e.g. self-pay); a patient bill not sent "
            "by then is lost. Default 300: about the Texas limit for self-pay bills, the first "
            "day of the 11th month after service (Tex. Civ. Prac. & Rem. Code 146.002(a))"
        ),
    )
    contact: str = Field(
        "",
        description="billing-office contact printed on letters (name, email, phone); notices must carry it",
    )
    practice_size: str = Field(
        "",
        description="practice size stated in IDR submissions (45 CFR 149.510(c)(4)(i)), e.g. '51-100 employees'",
    )

    @field_validator("codes_of_interest", mode="before")
    @classmethod
    def _codes(cls, v: Any) -> list[str]:
        return [code_string(c, "playbook.codes_of_interest") for c in (v or [])]

    @field_validator("rule_applicability", mode="before")
    @classmethod
    def _rules(cls, v: Any) -> dict[str, str]:
        from oonplaybook.reference.rule_versions import applicability

        raw = {str(k): str(x) for k, x in (v or {}).items()}
        applicability(raw)  # raises naming the unknown provision or the bad date
        return raw

    @field_validator("as_of_date")
    @classmethod
    def _iso(cls, v: str | None) -> str | None:
        if v is None:
            return v
        from datetime import date

        try:
            date.fromisoformat(str(v))
        except ValueError as e:
            raise ValueError(f"as_of_date {v!r} is not an ISO date (YYYY-MM-DD)") from e
        return str(v)


class ScaleSettings(_Strict):
    """How a large client is split and where the parts run (issue 16: health-system scale).

    Every stage table is a Parquet dataset of ``parts``; each part holds whole claims (all of a
    claim's lines and adjustments), so per-claim work runs one part at a time and memory is
    bounded by a part, not the client. ``scheduler`` runs the parts on a Dask cluster."""

    partitions: int | None = Field(
        None,
        ge=1,
        le=4096,
        description="number of parts; default: one per `partition_lines` lines (at least one)",
    )
    partition_lines: int = Field(
        500_000, ge=1_000, description="lines per part when `partitions` is not given"
    )
    scheduler: str | None = Field(
        None,
        description="Dask scheduler address (tcp://host:8786) to run the parts on, or "
        "'local:N' for a local cluster of N worker processes; default: in this process",
    )
    payer_models: Literal["auto", "lines", "grouped"] = Field(
        "auto",
        description="fit the payer models on lines, on grouped sufficient statistics, or "
        "'auto' (grouped from `grouped_from_lines` lines on)",
    )
    grouped_from_lines: int = Field(
        1_000_000, ge=1, description="with payer_models 'auto', lines from which fits are grouped"
    )
    ingest_workers: int | None = Field(
        None,
        ge=1,
        le=64,
        description="processes that read the 835s at ingest (the result is the same); default: "
        "one per core (at most 4) from 32 MB of 835s on, else one",
    )

    def grouped_fits(self, lines: int) -> bool:
        """Whether the payer models fit on grouped sufficient statistics for ``lines`` lines."""
        if self.payer_models == "auto":
            return lines >= self.grouped_from_lines
        return self.payer_models == "grouped"

    @field_validator("scheduler")
    @classmethod
    def _sched(cls, v: str | None) -> str | None:
        if v is None or v == "":
            return None
        if v.startswith("local:"):
            n = v.split(":", 1)[1]
            if not n.isdigit() or not 1 <= int(n) <= 64:
                raise ValueError(
                    f"scheduler {v!r}: a local cluster is 'local:N' with N workers, 1-64, e.g. local:2"
                )
            return v
        if "://" not in v:
            raise ValueError(
                f"scheduler {v!r} is not an address; give tcp://HOST:PORT (a running "
                "dask-scheduler) or local:N"
            )
        return v


class RunConfig(_Strict):
    """Everything one client's run needs. Every key here is also a notebook parameter."""

    client: str = Field(description="client slug; names the output folder")
    client_name: str = Field("", description="display name on reports and letters")
    inputs: list[str] = Field(description="835/837 files or folders, CSV/XLSX exports, globs")
    mapping: str = Field("auto", description="tabular mapping profile name or YAML path")
    appeals_file: str | None = Field(None, description="appeal history CSV, optional")
    specialties: list[str] = Field(default_factory=lambda: ["generic"])
    state: str = Field(description="2-letter state of the practice")
    locality: str = Field(description="default Medicare MAC-locality, e.g. 13202-01")
    fee_schedule_year: int = Field(2025, ge=2024, le=2026)
    benchmark: BenchmarkSettings = Field(default_factory=BenchmarkSettings)
    playbook: PlaybookSettings = Field(default_factory=PlaybookSettings)
    scale: ScaleSettings = Field(default_factory=ScaleSettings)
    output_root: str = Field("outputs")
    seed: int = Field(0, ge=0)
    phi_salt_env: str = Field("OONPLAYBOOK_PHI_SALT", description="env var holding the PHI salt")

    @field_validator("client")
    @classmethod
    def _slug(cls, v: str) -> str:
        if len(v) > SLUG_MAX:
            raise ValueError(
                f"client is {len(v)} characters long; a slug names a folder, give at most "
                f"{SLUG_MAX} (a-z, 0-9, _ -), e.g. 'acme_er'"
            )
        if not _SLUG.fullmatch(v):
            raise ValueError(
                f"client {v!r} must be a lower-case slug like 'acme_er' (a-z, 0-9, _ -; "
                "no spaces, dots, slashes or line breaks)"
            )
        return v

    @field_validator("specialties")
    @classmethod
    def _spec(cls, v: list[str]) -> list[str]:
        bad = [s for s in v if s not in KNOWN_SPECIALTIES]
        if bad:
            raise ValueError(f"unknown specialties {bad}; choose from {list(KNOWN_SPECIALTIES)}")
        if not v:
            raise ValueError("give at least one specialty (or 'generic')")
        return v

    @field_validator("state")
    @classmethod
    def _state(cls, v: str) -> str:
        if v not in US_STATES:
            raise ValueError(
                f"state {v!r} is not a 2-letter US state code; fix: give the practice's state "
                'in capitals, e.g. NY (quote it, "NY", if another tool reads the file)'
            )
        return v

    @field_validator("locality", mode="before")
    @classmethod
    def _loc(cls, v: Any) -> str:
        if not isinstance(v, str) or not _LOCALITY.match(v):
            raise ValueError(
                f'locality {v!r} must be a quoted MAC-locality like "13202-01" (Manhattan)'
            )
        mac, loc = v.split("-")
        return f"{mac}-{int(loc):02d}"

    @field_validator("inputs")
    @classmethod
    def _inputs(cls, v: list[str]) -> list[str]:
        if not v:
            raise ValueError("inputs is empty; list the 835 folder or export files to read")
        return v

    @model_validator(mode="after")
    def _done(self) -> RunConfig:
        return self

    # --- helpers -----------------------------------------------------------------------------

    def notebook_parameters(self) -> dict[str, Any]:
        """The values injected into every notebook's parameters cell."""
        return self.model_dump(mode="json")


#: Fixes for pydantic's own error types (our validators state their fix in the message).
_FIXES = {
    "finite_number": "give a finite number such as 1.5 (.inf and .nan are not allowed)",
    "int_parsing": "give a whole number",
    "int_from_float": "give a whole number",
    "int_type": "give a whole number",
    "float_parsing": "give a number",
    "float_type": "give a number",
    "string_type": 'quote the value: "..."',
    "list_type": "give a list, e.g. [a, b] or one '- item' per line",
    "greater_than": "give a larger value",
    "greater_than_equal": "give a larger value",
    "less_than": "give a smaller value",
    "less_than_equal": "give a smaller value",
    "model_type": "give a mapping of keys (indented under this key)",
    "dict_type": "give a mapping of keys (indented under this key)",
}


def _unquoted_numbers(doc: Any, loc: tuple[Any, ...]) -> list[str]:
    """Source text of the unquoted numbers at ``loc`` (the value itself or its list items)."""
    import yaml

    node = doc.nodes.get(tuple(loc))
    items = node.value if isinstance(node, yaml.SequenceNode) else [node]
    return [
        doc.text[n.start_mark.index : n.end_mark.index]
        for n in items
        if isinstance(n, yaml.ScalarNode)
        and n.style is None
        and n.tag in ("tag:yaml.org,2002:int", "tag:yaml.org,2002:float")
    ]


def _format_errors(path: Path, err: ValidationError, doc: Any = None) -> str:
    """One line per validation error: line, key, the value as written, the problem, the fix."""
    lines = [f"{path}: invalid params file"]
    for e in err.errors():
        loc = tuple(e["loc"])
        key = ".".join(str(p) for p in loc) or "(top level)"
        line = doc.line_of(loc) if doc is not None else None
        at = f"line {line}: " if line else ""
        if e["type"] == "extra_forbidden":
            allowed = ", ".join(RunConfig.model_fields)
            lines.append(
                f"  - {at}{key}: unknown key; remove it or fix the spelling (known: {allowed})"
            )
            continue
        if e["type"] == "missing":
            lines.append(f"  - {key}: required key is missing; add it")
            continue
        msg = e["msg"].removeprefix("Value error, ")
        written = doc.source_of(loc) if doc is not None else None
        value = written if written is not None and "\n" not in written else repr(e.get("input"))
        if "Quote it" in msg and doc is not None:
            codes = _unquoted_numbers(doc, loc)
            if codes:
                quoted = ", ".join(f'"{c}"' for c in codes)
                msg = re.sub(r"Quote it: .*$", f"Quote it as written: {quoted}", msg)
        if len(value) > 80:
            value = f"{value[:60]}... ({len(value)} characters)"
        fix = _FIXES.get(e["type"])
        lines.append(f"  - {at}{key} = {value}: {msg}" + (f"; fix: {fix}" if fix else ""))
    return "\n".join(lines)


def read_params_yaml(path: Path) -> dict[str, Any]:
    """Read a params YAML safely (YAML 1.2 booleans, dates as strings, bounded aliases)."""
    from oonplaybook.params_yaml import load_params_yaml

    return load_params_yaml(Path(path)).data


def load_config(path: str | Path, check_inputs: bool = True) -> tuple[RunConfig, Path]:
    """Load and validate a params file; return the config and the folder paths resolve from.

    Raises :class:`ParamsError` naming the file, the key, the bad value and the fix.
    """
    path = Path(path)
    if not path.is_file():
        raise ParamsError(f"{path}: params file not found")
    from oonplaybook.params_yaml import load_params_yaml

    doc = load_params_yaml(path)
    try:
        cfg = RunConfig.model_validate(doc.data)
    except ValidationError as e:
        raise ParamsError(_format_errors(path, e, doc)) from None
    base = path.resolve().parent
    if check_inputs:
        missing = [p for p in cfg.inputs if not resolve_inputs([p], base)]
        extra = [cfg.appeals_file] if cfg.appeals_file else []
        extra += [cfg.benchmark.fair_health_file] if cfg.benchmark.fair_health_file else []
        extra += list(cfg.benchmark.allowed_amounts_files)
        extra += list(cfg.benchmark.ncci_files)
        extra += (
            [cfg.benchmark.tic_in_network_dataset] if cfg.benchmark.tic_in_network_dataset else []
        )
        missing += [p for p in extra if not (base / p).exists()]
        if missing:
            raise ParamsError(
                f"{path}: input not found: {missing} (paths are relative to {base}); "
                "fix the path or create the file"
            )
    return cfg, base


def resolve_inputs(patterns: list[str], base: Path) -> list[Path]:
    """Expand files, folders (recursively, sorted) and globs relative to ``base``."""
    out: list[Path] = []
    for pat in patterns:
        p = Path(pat)
        p = p if p.is_absolute() else base / p
        if any(ch in pat for ch in "*?["):
            root = Path(p.anchor) if p.is_absolute() else base
            rel = p.relative_to(root) if p.is_absolute() else Path(pat)
            out.extend(sorted(x for x in root.glob(str(rel)) if x.is_file()))
        elif p.is_dir():
            out.extend(
                sorted(x for x in p.rglob("*") if x.is_file() and not x.name.startswith("."))
            )
        elif p.is_file():
            out.append(p)
    seen: set[Path] = set()
    uniq = []
    for x in out:
        if x not in seen:
            seen.add(x)
            uniq.append(x)
    return uniq


def dump_params(cfg: RunConfig) -> str:
    """The config as YAML with every code quoted (for manifests and prepared notebooks)."""
    return yaml.safe_dump(cfg.model_dump(mode="json"), sort_keys=False)
