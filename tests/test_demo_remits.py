"""The demo's remittances: 835 files for adjudicated claims only, byte-stable, and read back
by the ingest layer into exactly the generated portfolio."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from oonplaybook import demo

pytest.importorskip("oonplaybook.ingest.x12_writer")


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> tuple[demo.DemoPortfolio, Path]:
    port = demo.generate(4000, seed=21)
    out = tmp_path_factory.mktemp("demo")
    demo.write_demo(port, out, remits=True, claims_per_file=400)
    return port, out


def test_remits_cover_adjudicated_claims_only(folder: tuple[demo.DemoPortfolio, Path]) -> None:
    port, out = folder
    damaged = port.truth["defects"]["remit_file"]
    files = sorted(f for f in (out / "remits").glob("*.835") if f.name != damaged)
    assert files and (out / "remits" / damaged).is_file()
    text = "".join(f.read_text() for f in files)
    clp_ids = {seg.split("*")[1] for seg in text.split("~") if seg.strip().startswith("CLP*")}
    cl = port.claim_lines
    done = set(cl.loc[cl["claim_status"].isin(["paid", "denied"]), "claim_id"])
    assert clp_ids == done
    # the repricer's marks are on the repriced payer's remits; PHI never is
    assert "MULTIPLAN" in text
    ph = port.phi
    for value in ph["patient_name"].head(50).tolist() + ph["member_id"].head(50).tolist():
        if value:
            assert value not in text


def test_remits_byte_stable(folder: tuple[demo.DemoPortfolio, Path], tmp_path: Path) -> None:
    port, out = folder
    demo.write_demo(demo.generate(4000, seed=21), tmp_path, remits=True, claims_per_file=400)

    def digest(d: Path) -> dict[str, str]:
        return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(d.glob("*.835"))}

    assert digest(out / "remits") == digest(tmp_path / "remits")


def test_ingest_reads_back_the_portfolio(folder: tuple[demo.DemoPortfolio, Path]) -> None:
    from oonplaybook.ingest import core

    port, out = folder
    res = core.ingest_paths([out / "claims_export.csv", out / "remits"], salt=demo.DEMO_SALT)
    # the only rejects are the planted defects (tests/test_demo_defects.py checks them exactly)
    d = port.truth["defects"]
    assert len(res.rejects) == len(d["export_rejects"]) + len(d["remit_rejects"])
    key = ["claim_id", "line_no"]
    a = port.claim_lines.set_index(key).sort_index()
    b = res.claim_lines.set_index(key).sort_index().reindex(a.index)
    for col in ("billed", "allowed", "paid", "patient_resp", "qpa", "gfe_amount", "units"):
        np.testing.assert_allclose(a[col].to_numpy(), b[col].to_numpy(), atol=0.001, err_msg=col)
    for col in ("claim_status", "carc", "rarc", "repricer", "patient_key", "payer", "plan_type",
                "cpt", "modifiers", "pos", "locality", "emergency", "facility_in_network",
                "notice_consent", "payer_claim_id", "provider_npi", "specialty"):  # fmt: skip
        assert (a[col].astype("str") == b[col].astype("str")).all(), col
    for col in ("service_date", "submitted_date", "remit_date", "paid_date"):
        pd.testing.assert_series_equal(a[col], b[col].astype(a[col].dtype), check_names=False)
    adj_a = port.adjustments.groupby(["group", "reason"])["amount"].sum().round(2)
    own = res.adjustments["claim_id"].isin(port.claim_lines["claim_id"])
    adj_b = res.adjustments[own].groupby(["group", "reason"])["amount"].sum().round(2)
    pd.testing.assert_series_equal(adj_a, adj_b.reindex(adj_a.index))
