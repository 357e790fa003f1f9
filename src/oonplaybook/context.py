"""The stage context: what a notebook knows about its run (config, run folder, artifact paths).

Every notebook builds one from its parameters cell with :func:`stage_context`, so paths are
resolved in one place and never from the kernel's working directory by accident.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pandas as pd

from oonplaybook import cluster, partitions
from oonplaybook.config import RunConfig, resolve_inputs

#: Artifact file names, by stage. The single source of truth for where a stage writes.
ARTIFACTS: dict[str, str] = {
    "claim_lines": "claim_lines.parquet",
    "adjustments": "adjustments.parquet",
    "provider_adjustments": "provider_adjustments.parquet",
    "rejects": "rejects.csv",
    "ingest_report": "ingest_report.json",
    "appeals": "appeals.parquet",
    "benchmarks": "benchmarks.parquet",
    "coding_edits": "coding_edits.csv",
    "payer_effects": "payer_effects.csv",
    "scorecard": "scorecard.csv",
    "payer_models": "payer_models.json",
    "playbook": "playbook.xlsx",
    "worklist": "worklist.csv",
    "idr_batches": "idr_batches.csv",
    "targets": "targets.csv",
    "letters": "letters",
    "summary_tables": "summary_tables.json",
}


@dataclass(frozen=True)
class StageContext:
    """Config plus resolved folders for one stage notebook."""

    config: RunConfig
    run_dir: Path
    params_base: Path

    @property
    def artifacts_dir(self) -> Path:
        """``<run>/artifacts``, created on first use."""
        d = self.run_dir / "artifacts"
        d.mkdir(parents=True, exist_ok=True)
        return d

    def artifact(self, name: str) -> Path:
        """Path of a named artifact (see :data:`ARTIFACTS`)."""
        return self.artifacts_dir / ARTIFACTS[name]

    def input_paths(self) -> list[Path]:
        """The params' inputs expanded to files (folders recursively, globs), sorted."""
        return resolve_inputs(self.config.inputs, self.params_base)

    def resolve(self, path: str | None) -> Path | None:
        """A params path resolved against the params file's folder."""
        if not path:
            return None
        p = Path(path)
        return p if p.is_absolute() else self.params_base / p

    def read_table(
        self, name: str, columns: Sequence[str] | None = None, *, present: bool = False
    ) -> pd.DataFrame:
        """Read an earlier stage's parquet/CSV artifact, naming the stage to run when missing.

        A partitioned artifact (a dataset folder, see :mod:`oonplaybook.partitions`) is read
        whole, part by part; pass ``columns`` to hold only what the cell needs (``present``:
        those of them the artifact has, for columns an older run may lack)."""
        path = self._existing(name)
        if path.suffix == ".parquet":
            if present and columns is not None:
                return partitions.read_present(path, columns)
            if partitions.is_dataset(path):
                return partitions.read_all(path, columns)
            return pd.read_parquet(path, columns=list(columns) if columns is not None else None)
        frame = pd.read_csv(path, dtype="str", keep_default_na=False)
        if columns is not None and present:
            columns = [c for c in columns if c in frame.columns]
        return frame[list(columns)] if columns is not None else frame

    def _existing(self, name: str) -> Path:
        path = self.artifact(name)
        if not path.exists():
            raise FileNotFoundError(
                f"{path}: artifact {name!r} is missing; run the earlier stage first "
                "(oonplaybook run PARAMS runs every stage in order)"
            )
        return path

    def parts(self, name: str) -> list[int]:
        """The parts of a partitioned artifact (``[0]`` for a single file)."""
        return partitions.parts(self._existing(name))

    def read_part(self, name: str, part: int, columns: Sequence[str] | None = None) -> pd.DataFrame:
        """One part of a partitioned artifact (whole claims; see :mod:`oonplaybook.partitions`)."""
        return partitions.read_part(self._existing(name), part, columns)

    @property
    def scheduler(self) -> str | None:
        """Where partition work runs: params' ``scale.scheduler``, else ``$OONPLAYBOOK_SCHEDULER``
        (set by ``oonplaybook run --scheduler``), else in-process."""
        return cluster.resolve_scheduler(self.config.scale.scheduler)

    def n_parts(self, n_lines: int) -> int:
        """How many parts a client of ``n_lines`` lines is split into (params' ``scale``)."""
        sc = self.config.scale
        return partitions.n_parts(n_lines, sc.partitions, sc.partition_lines)

    def read_json(self, name: str) -> Any:
        """Read a JSON artifact."""
        return json.loads(self.artifact(name).read_text())

    def as_of_date(self, claim_lines: pd.DataFrame | None = None) -> date:
        """The date deadlines count to: params' playbook.as_of_date, else the data cut-off.

        Never today's date, so the same inputs give the same worklist.
        """
        if self.config.playbook.as_of_date:
            return date.fromisoformat(self.config.playbook.as_of_date)
        if claim_lines is None or claim_lines.empty:
            raise ValueError("no as_of_date in params and no claim lines to take the cut-off from")
        dates = pd.concat(
            [
                claim_lines[c]
                for c in ("remit_date", "submitted_date", "service_date")
                if c in claim_lines
            ]
        ).dropna()
        return dates.max().date()


def stage_context(*, run_dir: str = ".", params_base: str = ".", **params: Any) -> StageContext:
    """Validate a notebook's parameters into a :class:`StageContext` (fails before any work)."""
    cfg = RunConfig.model_validate(params)
    return StageContext(
        config=cfg, run_dir=Path(run_dir).resolve(), params_base=Path(params_base).resolve()
    )
