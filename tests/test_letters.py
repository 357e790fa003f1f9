"""Letters by audience: every type renders (.md, .docx, staff note), external letters carry no
internal content, patient letters speak to the patient and show no past deadline as open, the
worklist names the files written, and the merge fills fields outside the run folder only."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pandas as pd
import pytest

from oonplaybook import letters
from oonplaybook.config import BenchmarkSettings, PlaybookSettings, RunConfig
from oonplaybook.letters.audiences import PATIENT, PAYER, internal_content
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
PROFILES = ["emergency_medicine", "orthopedic_surgery"]


def _fixture_frames() -> dict:
    lines = portfolio()
    a = assessment(lines)
    t = build_targets(lines, None, None, None, S, nsa_assessment=a, priors=PRIORS)
    wl = build_worklist(
        lines, None, a, t, None, as_of=AS_OF, settings=S, appeals=appeals(), priors=PRIORS
    )
    d = idr_disputes(lines, None, a, wl, t, as_of=AS_OF, priors=PRIORS)
    b = build_idr_batches(d, as_of=AS_OF, settings=S)
    wl = link_idr_batches(wl, d, b)
    return {
        "lines": lines,
        "targets": t,
        "wl": wl,
        "d": d,
        "b": b,
        "prot": patient_protections(lines, a),
    }


def _write(f: dict, out: Path, **kw: object) -> letters.LetterRun:
    args = dict(
        claim_lines=f["lines"],
        targets=f["targets"],
        out_dir=out,
        as_of=AS_OF,
        client_name="Acme Emergency Physicians",
        profiles=load_profiles(PROFILES),
        disputes=f["d"],
        batches=f["b"],
        protections=f["prot"],
        appeals=appeals(),
        contact="Billing office · billing@acme.example · 555-0100",
        limit=20,
    )
    args.update(kw)
    return letters.write_letters(f["wl"], **args)


@pytest.fixture(scope="module")
def fixture_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[letters.LetterRun, Path, dict]:
    f = _fixture_frames()
    out = tmp_path_factory.mktemp("letters")
    return _write(f, out), out, f


def _one(run: letters.LetterRun, out: Path, kind: str, claim: str = "") -> str:
    idx = run.index[run.index["letter_type"].eq(kind)]
    if claim:
        idx = idx[idx["claim_id"].eq(claim)]
    assert len(idx), f"no {kind} letter for {claim or 'any claim'} in {list(run.index['file'])}"
    return (out / idx["file"].iloc[0]).read_text()


# --- the hand-built portfolio ----------------------------------------------------------------


def test_every_letter_has_docx_and_a_staff_note(fixture_run: tuple) -> None:
    run, out, _ = fixture_run
    assert {"appeal", "open_negotiation_notice", "idr_offer_brief"} <= set(run.index["letter_type"])
    for r in run.index.to_dict("records"):
        assert (out / r["file"]).exists() and (out / r["docx"]).exists()
        note = (out / r["internal_note"]).read_text()
        assert note.startswith("# Staff cover note") and "INTERNAL: do not send" in note
        assert r["file"] in note
    from docx import Document

    docx = (
        out / run.index.loc[run.index["letter_type"].eq("open_negotiation_notice"), "docx"].iloc[0]
    )
    tables = Document(str(docx)).tables
    assert any("Offer" in " ".join(c.text for c in t.rows[0].cells) for t in tables)


def test_open_negotiation_notice_content_point_by_point(fixture_run: tuple) -> None:
    run, out, _ = fixture_run
    text = _one(run, out, "open_negotiation_notice", "E1")
    # 45 CFR 149.510(b)(1)(ii)(A): items with dates, service code, initial payment or denial, offer,
    # the initiating party's contact; the send date and the clocks are fill-ins, never the as-of date
    assert "2025-06-01" in text and "99285" in text
    assert "denied 2025-06-20" in text
    assert "$1,000.00" in text  # offer = QPA $400 x 2.5
    assert "billing@acme.example" in text
    assert "«DATE_SENT»" in text and "«OPEN_NEGOTIATION_END»" in text and "«IDR_WINDOW_END»" in text
    assert "June 30, 2025" not in text and "2025-06-30" not in text  # the as-of date
    assert "30 business days" in text and "4 business days" in text
    assert "«MEMBER_ID»" in text and "award" not in text.lower()  # how the offer was built


def test_notice_without_a_qpa_offers_the_opening_ask_not_the_target(tmp_path: Path) -> None:
    from oonplaybook.playbook._adapters import line_frame
    from oonplaybook.playbook.targets import line_targets

    f = _fixture_frames()
    f["lines"] = f["lines"].assign(qpa=float("nan"))
    f["d"] = f["d"].iloc[:0]
    run = _write(f, tmp_path, batches=None)
    lines = line_frame(f["lines"], None)
    lt = pd.concat([lines[["claim_id"]], line_targets(lines, f["targets"])], axis=1)
    notices = run.index[run.index["letter_type"].eq("open_negotiation_notice")]
    assert len(notices)
    for r in notices.to_dict("records"):
        text = (tmp_path / r["file"]).read_text()
        t = lt[lt["claim_id"] == r["claim_id"]].iloc[0]
        assert f"${t['line_opening_ask']:,.2f}" in text
        if abs(t["line_target"] - t["line_opening_ask"]) > 0.005:
            assert f"${t['line_target']:,.2f}" not in text


def test_notice_cover_note_has_the_send_on_table(fixture_run: tuple) -> None:
    run, out, _ = fixture_run
    row = run.index[
        run.index["letter_type"].eq("open_negotiation_notice") & run.index["claim_id"].eq("E1")
    ]
    note = (out / row["internal_note"].iloc[0]).read_text()
    assert "If the notice is sent on" in note
    # E1's denial arrived 2025-06-20: 30 business days later is the last day to send (2025-08-01)
    assert "| 2025-08-01 |" in note


def test_idr_offer_has_every_required_field_and_only_supported_circumstances(
    fixture_run: tuple,
) -> None:
    run, out, _ = fixture_run
    text = _one(run, out, "idr_offer_brief")
    for field in (
        "Practice size",
        "Dispute number",
        "Plan type",
        "Coverage area",
        "Open negotiation",
        "earliest",
        "latest",
    ):
        assert field in text, field
    assert "«PRACTICE_SIZE»" in text  # params lack it ...
    assert any("practice size" in w for w in run.warnings)  # ... and the run warns
    assert "% of QPA" in text and "250%" in text
    body = text.split("This submission does not rely on")[0].lower()
    for banned in ("medicare", "billed charge", "usual and customary", "ucr", "board-certified"):
        assert banned not in body, banned
    # the emergency E/M line is a fact from the data, stated with its count
    assert "CPT 99285" in text


def test_appeal_carries_erisa_content(fixture_run: tuple) -> None:
    run, out, _ = fixture_run
    text = _one(run, out, "appeal", "M2")
    assert "CO-50" in text and "Medical records" in text
    for field in ("«PATIENT_NAME»", "«MEMBER_ID»", "«DATE_OF_BIRTH»", "«GROUP_NUMBER»"):
        assert field in text
    assert "2560.503-1(h)(3)(iv)" in text and "experts" in text
    assert " or could not have been" not in text
    assert "not less than" not in text  # no conceded amount


def test_level2_appeal_names_the_level1_decision(fixture_run: tuple) -> None:
    run, out, _ = fixture_run
    l2 = run.index[run.index["route"].eq("appeal_l2")]
    assert len(l2), "the fixture's upheld level-1 appeal (M2) should lead to a level-2 letter"
    text = (out / l2["file"].iloc[0]).read_text()
    assert "Previous appeal" in text and "«L1_APPEAL_REFERENCE»" in text


def test_external_letters_fail_loudly_on_internal_content() -> None:
    assert internal_content("Floor: payer's median = 1.72x, p=5.6e-23", PAYER)
    assert internal_content("Set `playbook.contact` in the params", PAYER)
    assert internal_content("the patient may ask for a review", PATIENT)
    assert not internal_content("«MEMBER_ID» · Member ID", PAYER)


def test_payer_letters_cite_only_published_payment_levels() -> None:
    from oonplaybook.letters.contexts import published_benchmarks

    em, anes = load_profiles(["emergency_medicine", "anesthesiology"])
    assert any("257% of QPA" in b for b in published_benchmarks(em))
    # a patient-exposure statistic is not a payment benchmark for a payer
    assert not any("$794" in b for b in published_benchmarks(anes))


def test_limit_is_per_type_and_due_rows_come_first(fixture_run: tuple, tmp_path: Path) -> None:
    _, _, f = fixture_run
    cand = letters.candidate_rows(f["wl"])
    run = _write(f, tmp_path, limit=1, due_days=30)
    per_type = (
        run.index[run.index["letter_type"].ne("idr_offer_brief")].groupby("letter_type").size()
    )
    assert len(per_type) and (per_type <= 1).all()
    days = (pd.to_datetime(cand["deadline"]) - pd.Timestamp(AS_OF)).dt.days
    for kind, g in cand.assign(days=days).groupby("letter_type"):
        soon = g[g["days"].between(0, 30)]
        chosen = run.index[run.index["letter_type"].eq(kind)]
        if len(soon) and len(chosen):  # a row due within 30 days goes before one with more time
            assert chosen["claim_id"].iloc[0] in set(soon["claim_id"])
    cov = run.coverage.set_index("Letter")
    assert (cov["Not yet written"] == cov["Needed"] - cov["Written"]).all()
    assert (cov["Due soon, not written"] <= cov["Due within 30 days"]).all()
    every = _write(f, tmp_path / "all", limit=None)
    got = set(zip(every.index["claim_id"], every.index["route"], strict=True))
    assert set(zip(cand["claim_id"], cand["route"], strict=True)) <= got


def test_worklist_letter_names_the_file_written(fixture_run: tuple) -> None:
    run, out, f = fixture_run
    w = letters.with_letter_files(f["wl"], run.index)
    named = w["letter"][w["letter"].ne("")]
    assert len(named) and all((out / n).exists() for n in named)
    assert w.loc[w["status"].ne("open"), "letter"].eq("").all()


def test_docx_is_byte_identical_across_saves(tmp_path: Path) -> None:
    import time

    from docx import Document

    md = "# Notice\n\nThe plan paid **$10.00**.\n\n- item\n\n| a | b |\n|---|---|\n| 1 | $2,000.00 |\n"
    first = letters.markdown_to_docx(md, tmp_path / "a.docx").read_bytes()
    time.sleep(2.1)  # zip entry times have a 2-second resolution
    second = letters.markdown_to_docx(md, tmp_path / "b.docx").read_bytes()
    assert first == second
    doc = Document(str(tmp_path / "b.docx"))
    assert "The plan paid $10.00." in [p.text for p in doc.paragraphs]
    cell = doc.tables[0].rows[1].cells[1]
    assert cell.text == "$2,000.00" and "noWrap" in cell._tc.xml  # a figure never wraps


# --- the demo run ----------------------------------------------------------------------------

MONTH_DATE = re.compile(
    r"\bby (January|February|March|April|May|June|July|August|September|October|November|December) (\d{1,2}), (\d{4})"
)


def _params_keys() -> set[str]:
    keys = (
        set(RunConfig.model_fields)
        | set(PlaybookSettings.model_fields)
        | set(BenchmarkSettings.model_fields)
    )
    return {k for k in keys if "_" in k}


def _demo(demo_run: Path) -> dict:
    from oonplaybook import playbook as pb
    from oonplaybook.playbook.targets import line_targets

    art = demo_run / "artifacts"
    frames = letters.load_inputs(demo_run)
    idx = pd.read_csv(art / "letters" / "index.csv", dtype="str", keep_default_na=False)
    lines = pb._adapters.line_frame(
        pd.read_parquet(art / "claim_lines.parquet"), pb.read_benchmarks(art / "benchmarks.parquet")
    )
    lt = pd.concat(
        [
            lines[["claim_id", "line_no", "billed", "allowed", "paid"]],
            line_targets(lines, frames["targets"]),
        ],
        axis=1,
    )
    return {
        "art": art,
        "idx": idx,
        "lt": lt,
        "frames": frames,
        "as_of": letters.load_as_of(demo_run),
    }


def test_demo_every_letter_type_is_written(demo_run: Path) -> None:
    d = _demo(demo_run)
    assert set(d["idx"]["letter_type"]) == set(letters.LETTER_TYPES)


def test_demo_external_letters_carry_no_internal_content(demo_run: Path) -> None:
    d = _demo(demo_run)
    profiles = load_profiles(sorted(set(d["frames"]["worklist"]["specialty"])))
    tactics = {t.tactic for p in profiles for t in p.payer_tactics} | {
        t.counter for p in profiles for t in p.payer_tactics
    }
    keys = _params_keys()
    wl = d["frames"]["worklist"].set_index(["claim_id", "route"])
    explanations = set(d["frames"]["protections"]["explanation"])
    checked = 0
    for r in d["idx"].to_dict("records"):
        text = (d["art"] / "letters" / r["file"]).read_text()
        aud = letters.LETTER_TYPES[r["letter_type"]].audience
        assert not internal_content(text, aud), (r["file"], internal_content(text, aud)[:3])
        assert "INTERNAL" not in text and "cover note" not in text.lower()
        assert not [t for t in tactics if t in text], r["file"]
        assert not [k for k in keys if k in text], r["file"]
        assert not [e for e in explanations if e in text], r["file"]  # staff sentences
        if r["claim_id"] and r["letter_type"] != "patient_explanation":
            row = wl.loc[(r["claim_id"], r["route"])]
            nos = [int(x) for x in str(row["lines"]).split(":") if x.isdigit()]
            t = d["lt"][(d["lt"]["claim_id"] == r["claim_id"]) & d["lt"]["line_no"].isin(nos)]
            for _, x in t.iterrows():  # walk-away and target never printed (unless they equal
                shown = [float(x[c]) for c in ("line_opening_ask", "billed", "allowed", "paid")]
                for col in ("line_walk_away", "line_target"):  # an amount the letter must show)
                    v = float(x[col])
                    if v == v and all(abs(v - a) > 0.005 for a in shown):
                        assert f"${v:,.2f}" not in text, (r["file"], col, v)
            checked += 1
    assert checked >= 50


def test_demo_patient_letters_speak_to_the_patient(demo_run: Path) -> None:
    d = _demo(demo_run)
    pat = d["idx"][d["idx"]["letter_type"].eq("patient_explanation")]
    wl = d["frames"]["worklist"]
    patient_rows = set(wl.loc[wl["letter_type"].eq("patient_explanation"), "claim_id"])
    assert len(pat) and set(pat["claim_id"]) <= patient_rows  # only the worklist's patient rows
    for f in pat["file"]:
        text = (d["art"] / "letters" / f).read_text()
        assert "Dear «PATIENT_NAME»," in text and "Dear patient" not in text
        assert not internal_content(text, PATIENT), f
        assert " you" in text.lower()
        for m in MONTH_DATE.finditer(text):  # every "by <date>" still ahead on the as-of date
            when = pd.Timestamp(f"{m.group(1)} {m.group(2)}, {m.group(3)}").date()
            assert when >= d["as_of"], (f, m.group(0))


def test_demo_worklist_letter_names_a_file_that_exists(demo_run: Path) -> None:
    art = demo_run / "artifacts"
    w = pd.read_csv(art / "worklist.csv", dtype="str", keep_default_na=False)
    named = w.loc[w["letter"].ne(""), "letter"]
    assert len(named) >= 100
    missing = [n for n in named if not (art / "letters" / n).exists()]
    assert not missing, missing[:5]
    assert w.loc[w["status"].ne("open"), "letter"].eq("").all()
    idx = pd.read_csv(art / "letters" / "index.csv", dtype="str", keep_default_na=False)
    assert set(named) <= set(idx["file"])


def test_demo_merge_fills_fields_and_stays_out_of_the_run(demo_run: Path, tmp_path: Path) -> None:
    art = demo_run / "artifacts"
    idx = pd.read_csv(art / "letters" / "index.csv", dtype="str", keep_default_na=False)
    notice = idx[idx["letter_type"].eq("open_negotiation_notice")].iloc[0]
    xw = tmp_path / "crosswalk.csv"
    pd.DataFrame(
        {
            "claim_id": [notice["claim_id"]],
            "Member ID": ["W123456789"],
            "patient_name": ["Pat Example"],
        }
    ).to_csv(xw, index=False)
    out = tmp_path / "merged"
    res = letters.merge_letters(
        demo_run, xw, out, sent_on=date(2026, 12, 2), values={"SIGNER_NAME": "Jane Roe"}, docx=False
    )
    text = (out / notice["file"]).read_text()
    assert "W123456789" in text and "Pat Example" in text and "Jane Roe" in text
    assert "December 2, 2026" in text  # the send date (the day after the demo as-of)
    assert "«OPEN_NEGOTIATION_END»" not in text and "«IDR_WINDOW_END»" not in text  # clocks filled
    assert notice["file"] in res.unfilled  # still unfilled: the practice address, for one
    # the run folder holds no PHI
    assert not any("W123456789" in p.read_text() for p in (art / "letters").glob("*.md"))
    listed = letters.merge_letters(
        demo_run, xw, tmp_path / "listed", sent_on=date(2026, 12, 2), docx=False, only_listed=True
    )
    assert [p.name for p in listed.written] == [notice["file"]]
    with pytest.raises(letters.MergeError, match="outside"):
        letters.merge_letters(demo_run, xw, art / "merged", sent_on=date(2026, 12, 2))
    bad = tmp_path / "bad.csv"
    bad.write_text("account,member_id\nX,1\n")
    with pytest.raises(letters.MergeError, match="claim_id"):
        letters.merge_letters(demo_run, bad, out, sent_on=date(2026, 2, 2))


def test_demo_cli_letters_all_writes_the_rest(demo_run: Path, tmp_path: Path) -> None:
    import shutil

    from typer.testing import CliRunner

    from oonplaybook.cli import app

    run = tmp_path / "run"
    shutil.copytree(demo_run, run)
    before = len(pd.read_csv(run / "artifacts" / "letters" / "index.csv"))
    res = CliRunner().invoke(app, ["letters", str(run), "--all", "--no-docx"])
    assert res.exit_code == 0, res.output
    idx = pd.read_csv(
        run / "artifacts" / "letters" / "index.csv", dtype="str", keep_default_na=False
    )
    frames = letters.load_inputs(run)
    need = letters.candidate_rows(frames["worklist"])
    assert len(idx) > before
    assert set(zip(need["claim_id"], need["route"], strict=True)) <= set(
        zip(idx["claim_id"], idx["route"], strict=True)
    ) | {
        (c, r)
        for c, r, t in zip(need["claim_id"], need["route"], need["letter_type"], strict=True)
        if t == "patient_explanation"
    }
    w = pd.read_csv(run / "artifacts" / "worklist.csv", dtype="str", keep_default_na=False)
    assert all((run / "artifacts" / "letters" / n).exists() for n in w["letter"] if n)
    from openpyxl import load_workbook

    from oonplaybook.formatting import label

    wb = load_workbook(run / "artifacts" / "playbook.xlsx", read_only=True)
    in_book = set()
    for ws in wb.worksheets:
        rows = ws.iter_rows(values_only=True)
        head = [str(h) for h in next(rows, ())]
        if label("letter") in head and label("rank") in head:
            i = head.index(label("letter"))
            in_book |= {r[i] for r in rows if r[i]}
    assert in_book == set(w["letter"]) - {""}  # the workbook names the same files as the CSV
    res = CliRunner().invoke(
        app,
        [
            "letters",
            "merge",
            str(run),
            "--crosswalk",
            str(tmp_path / "none.csv"),
            "--out",
            str(tmp_path / "m"),
        ],
    )
    assert res.exit_code == 2 and "crosswalk file not found" in res.output
