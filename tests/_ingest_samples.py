"""A clean synthetic 835 (built here independently of the project's writer) and its variants.

Each claim: billed 200.00, paid 120.00, patient 30.00; line 1 99213-25 120.00 -> 70.00 with
CAS*CO*45*20**253*5 and CAS*PR*1*10**2*15 (two triplets each), AMT*B6 95, LQ*HE*N130; line 2
99214 80.00 -> 50.00 with CO-45 25 and PR-3 5. So per claim 6 CAS pairs, adjustments 80.00.
"""

from __future__ import annotations

N_CLAIMS = 20
CLAIM_BILLED, CLAIM_PAID, CLAIM_PR, CLAIM_ADJ = 200.0, 120.0, 30.0, 80.0
PAIRS_PER_CLAIM = 6


def claim_segments(i: int, *, comp: str = ":", clp03: str = "200.00") -> list[str]:
    """The segments of claim ``i`` (element separator "*")."""
    return [
        f"CLP*C{i:03d}*1*{clp03}*120.00*30.00*12*PCN{i:05d}*11*1",
        f"NM1*QC*1*DOE*JANE****MI*M{i:04d}",
        "NM1*82*1*DOCTOR*ANN****XX*1234567893",
        "DTM*050*20250103",
        f"SVC*HC{comp}99213{comp}25*120.00*70.00**1",
        "DTM*472*20250101",
        "CAS*CO*45*20.00**253*5.00",
        "CAS*PR*1*10.00**2*15.00",
        "REF*6R*1",
        "AMT*B6*95.00",
        "LQ*HE*N130",
        f"SVC*HC{comp}99214*80.00*50.00**1",
        "DTM*472*20250101",
        "CAS*CO*45*25.00",
        "CAS*PR*3*5.00",
        "REF*6R*2",
        "AMT*B6*55.00",
    ]


def header_segments(n_claims: int, *, payer: bool = True) -> list[str]:
    """BPR..LX of one 835 transaction paying ``n_claims`` clean claims."""
    segs = [
        f"BPR*I*{CLAIM_PAID * n_claims:.2f}*C*ACH*CCP*01*999999999*DA*123456*1512345678**01"
        "*999999999*DA*654321*20250110",
        "TRN*1*EFT0001*1512345678",
        "DTM*405*20250109",
    ]
    if payer:
        segs += [
            "N1*PR*ACME HEALTH PLAN",
            "N3*PO BOX 1",
            "N4*HARTFORD*CT*06101",
            "REF*2U*ACME1",
            "PER*BL*PROVIDER SERVICES*TE*8005551212",
        ]
    segs += ["N1*PE*GOOD DOCTORS PC*XX*1234567893", "REF*TJ*123456789", "LX*1"]
    return segs


def isa(
    elem: str = "*", comp: str = ":", term: str = "~", rep: str = "^", ver: str = "00501"
) -> str:
    """An ISA header with the given delimiters (fixed-width fields)."""
    f = [
        "ISA",
        "00",
        " " * 10,
        "00",
        " " * 10,
        "ZZ",
        "PAYER".ljust(15),
        "ZZ",
        "PROVIDER".ljust(15),
        "250110",
        "1200",
        rep,
        ver,
        "000000001",
        "0",
        "P",
        comp,
    ]
    return elem.join(f) + term


def make_835(
    n_claims: int = N_CLAIMS,
    *,
    elem: str = "*",
    comp: str = ":",
    term: str = "~",
    sep_after: str = "",
    version: str = "005010X221A1",
    isa_version: str = "00501",
    envelope: bool = True,
    payer: bool = True,
    data_comp: str | None = None,
    se_count: int | None = None,
    extra_in_claim: dict[int, list[str]] | None = None,
    clp03: dict[int, str] | None = None,
) -> str:
    """A clean 835 as text; the keyword arguments make the malformed variants of X12.md §4."""
    dc = data_comp if data_comp is not None else comp
    body = header_segments(n_claims, payer=payer)
    for i in range(1, n_claims + 1):
        segs = claim_segments(i, comp=dc, clp03=(clp03 or {}).get(i, "200.00"))
        if extra_in_claim and i in extra_in_claim:
            segs = segs[:4] + extra_in_claim[i] + segs[4:]
        body += segs
    st = ["ST*835*0001"] + body
    st.append(f"SE*{se_count if se_count is not None else len(st) + 1}*0001")
    segs = st
    if envelope:
        segs = (
            [f"GS*HP*PAYER*PROVIDER*20250110*1200*1*X*{version}"]
            + st
            + ["GE*1*1", "IEA*1*000000001"]
        )
    text = "".join(s.replace("*", elem) + term + sep_after for s in segs)
    if envelope:
        return (
            isa(
                elem, comp, term, ver=isa_version, rep="^" if "^" not in (elem, comp, term) else "U"
            )
            + sep_after
            + text
        )
    return text
