"""Letters: every template renders to Markdown and .docx, from the data, with no PHI."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from oonplaybook import letters
from oonplaybook.config import PlaybookSettings
from oonplaybook.playbook import (
    build_idr_batches,
    build_targets,
    build_worklist,
    idr_disputes,
    patient_protections,
)
from oonplaybook.playbook.worklist import link_idr_batches
from oonplaybook.specialties import load_profiles
from tests._playbook_fixtures import AS_OF, PRIORS, appeals, assessment, portfolio

S = PlaybookSettings()


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> tuple[list[Path], pd.DataFrame]:
    lines = portfolio()
    a = assessment(lines)
    t = build_targets(lines, None, None, None, S, nsa_assessment=a, priors=PRIORS)
    wl = build_worklist(
        lines, None, a, t, None, as_of=AS_OF, settings=S, appeals=appeals(), priors=PRIORS
    )
    d = idr_disputes(lines, None, a, wl, t, as_of=AS_OF, priors=PRIORS)
    b = build_idr_batches(d, as_of=AS_OF, settings=S)
    wl = link_idr_batches(wl, d, b)
    prot = patient_protections(lines, a)
    out = tmp_path_factory.mktemp("letters")
    paths = letters.render_letters(
        wl,
        claim_lines=lines,
        targets=t,
        out_dir=out,
        limit=20,
        client_name="Acme Emergency Physicians",
        as_of=AS_OF,
        profiles=load_profiles(["emergency_medicine", "orthopedic_surgery"]),
        disputes=d,
        batches=b,
        protections=prot,
        contact="Billing office · billing@acme.example · 555-0100",
    )
    return paths, wl


def _text(paths: list[Path], kind: str) -> str:
    hits = [p for p in paths if kind in p.name and p.suffix == ".md"]
    assert hits, f"no {kind} letter among {[p.name for p in paths]}"
    return hits[0].read_text()


def test_every_letter_type_renders_md_and_docx(rendered: tuple[list[Path], pd.DataFrame]) -> None:
    paths, _ = rendered
    names = " ".join(p.name for p in paths)
    for kind in ("appeal", "open_negotiation_notice", "idr_", "patient_explanation"):
        assert kind in names
    mds = [p for p in paths if p.suffix == ".md"]
    assert len(mds) * 2 == len(paths)  # every .md has its .docx
    from docx import Document

    doc = Document(
        str(next(p for p in paths if p.suffix == ".docx" and "open_negotiation" in p.name))
    )
    assert doc.tables and "Offer" in " ".join(c.text for c in doc.tables[0].rows[0].cells)


def test_open_negotiation_notice_carries_the_required_content(
    rendered: tuple[list[Path], pd.DataFrame],
) -> None:
    text = _text(rendered[0], "open_negotiation_notice_E1")
    # 45 CFR 149.510(b)(1)(ii)(A): dates, service code, initial payment or denial, offer, contact
    assert "2025-06-01" in text and "99285" in text
    assert "denied on 2025-06-20" in text
    assert "$1,000.00" in text  # offer = QPA $400 x 2.5
    assert "billing@acme.example" in text
    assert "30 business days" in text and "4 business days" in text


def test_idr_brief_uses_only_permitted_factors(rendered: tuple[list[Path], pd.DataFrame]) -> None:
    text = _text(rendered[0], "idr_")
    assert "% of QPA" in text and "250%" in text  # $1,000 offer on a $400 QPA
    assert "Acuity of the patient" in text
    body = text.split("## What this brief does not rely on")[0].lower()
    for banned in ("medicare", "billed charge", "usual and customary", "ucr"):
        assert banned not in body


def test_appeal_letter_has_records_and_arguments(rendered: tuple[list[Path], pd.DataFrame]) -> None:
    text = _text(rendered[0], "appeal_M")
    assert "CO-50" in text and "medical records" in text
    assert "29 CFR 2560.503-1" in text


def test_no_phi_in_letters(rendered: tuple[list[Path], pd.DataFrame]) -> None:
    for p in rendered[0]:
        if p.suffix != ".md":
            continue
        t = p.read_text().lower()
        for word in ("patient_name", "member id", "date of birth", "dob", "subscriber"):
            assert word not in t, (p.name, word)


def test_patient_explanation_for_self_pay_over_gfe(tmp_path: Path) -> None:
    lines = portfolio()
    prot = patient_protections(lines, assessment(lines))
    paths = letters.render_patient_letters(
        prot, out_dir=tmp_path, limit=5, client_name="Acme", as_of=AS_OF, docx=False
    )
    text = next(p for p in paths if "S1" in p.name).read_text()
    assert "$500.00 more than that estimate" in text and "120 days" in text


def test_docx_is_byte_identical_across_saves(tmp_path: Path) -> None:
    import time

    from docx import Document

    md = "# Notice\n\nThe plan paid **$10.00**.\n\n- item\n\n| a | b |\n|---|---|\n| 1 | 2 |\n"
    first = letters.markdown_to_docx(md, tmp_path / "a.docx").read_bytes()
    time.sleep(2.1)  # zip entry times have a 2-second resolution
    second = letters.markdown_to_docx(md, tmp_path / "b.docx").read_bytes()
    assert first == second
    text = [p.text for p in Document(str(tmp_path / "b.docx")).paragraphs]
    assert "Notice" in text and "The plan paid $10.00." in text
