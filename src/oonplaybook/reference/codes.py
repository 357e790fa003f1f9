"""Meanings of claim adjustment reason codes (CARC), remark codes (RARC) and claim statuses.

The code lists are the public X12/WPC code values; the one-line descriptions are our own short
paraphrases (no licensed code text is copied), written for a worklist reader. Each CARC carries
the denial-reason group the playbook routes on (docs/domain.md §4.2 and §4.3):

``medical_necessity`` appeal with records, external review available (29 CFR 2590.715-2719(d)(1));
``authorization`` retro-auth / appeal with the auth record (improper for NSA emergencies);
``coding_bundling`` corrected claim or appeal with modifiers/documentation;
``timely_filing`` appeal only with proof of timely submission;
``eligibility_cob`` verify coverage / resubmit with the primary EOB (no external review);
``non_covered`` benefit/coverage denials (CARC 96, 204, 119): internal appeal; external review
only when the denial turns on medical judgment or NSA compliance (:func:`external_review_eligible`);
``underpayment`` allowed below the fair amount (CO-45 etc.): NSA open negotiation/IDR or a
payer negotiation letter; ``duplicate`` usually not appealable; ``other`` read the RARC.

CARCs that are not denials (cost sharing 1/2/3, sequestration) map to ``not_a_denial``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

#: The groups :func:`denial_reason_group` returns for denials.
DENIAL_GROUPS = (
    "medical_necessity",
    "authorization",
    "non_covered",
    "coding_bundling",
    "timely_filing",
    "eligibility_cob",
    "underpayment",
    "duplicate",
    "other",
)
NOT_A_DENIAL = "not_a_denial"

#: Adjustment group codes (CAS01; docs/domain.md §4.1).
GROUP_CODES: dict[str, str] = {
    "CO": "contractual obligation: provider write-off, not billable to the patient",
    "PR": "patient responsibility",
    "OA": "other adjustment",
    "PI": "payer-initiated reduction",
    "CR": "correction or reversal (legacy 4010 group)",
}

#: CARC -> (short description, denial group). Descriptions are our paraphrases.
CARC: dict[str, tuple[str, str]] = {
    "1": ("deductible", NOT_A_DENIAL),
    "2": ("coinsurance", NOT_A_DENIAL),
    "3": ("copay", NOT_A_DENIAL),
    "4": ("modifier missing or inconsistent with the procedure", "coding_bundling"),
    "5": ("procedure or bill type inconsistent with place of service", "coding_bundling"),
    "6": ("procedure inconsistent with patient age", "coding_bundling"),
    "7": ("procedure inconsistent with patient sex", "coding_bundling"),
    "8": ("procedure inconsistent with provider type or specialty", "coding_bundling"),
    "9": ("diagnosis inconsistent with patient age", "coding_bundling"),
    "11": ("diagnosis inconsistent with the procedure", "coding_bundling"),
    "15": ("authorization number missing or invalid", "authorization"),
    "16": ("claim lacks information or has a billing error (see RARC)", "coding_bundling"),
    "18": ("exact duplicate claim or service", "duplicate"),
    "22": ("care may be covered by another payer (coordination of benefits)", "eligibility_cob"),
    "23": ("adjusted for a prior payer's adjudication", "eligibility_cob"),
    "24": ("covered under a capitation or managed care plan", "eligibility_cob"),
    "26": ("service before coverage began", "eligibility_cob"),
    "27": ("service after coverage ended", "eligibility_cob"),
    "29": ("filing time limit expired", "timely_filing"),
    "31": ("patient not identified as our insured", "eligibility_cob"),
    "32": ("dependent not eligible", "eligibility_cob"),
    "33": ("no dependent coverage", "eligibility_cob"),
    "35": ("lifetime benefit maximum reached", "other"),
    "39": ("authorization was denied when requested", "authorization"),
    "42": ("charge exceeds fee schedule or maximum allowable (retired code)", "underpayment"),
    "45": (
        "charge exceeds fee schedule, maximum allowable or contracted/legislated fee",
        "underpayment",
    ),
    "49": ("routine or preventive service not covered", "other"),
    "50": ("not deemed medically necessary by the payer", "medical_necessity"),
    "55": ("procedure or treatment deemed experimental or investigational", "medical_necessity"),
    "56": ("treatment not shown to be effective", "medical_necessity"),
    "59": ("multiple or concurrent procedure rules applied", "coding_bundling"),
    "62": ("payment reduced or denied for missing precertification", "authorization"),
    "94": ("processed in excess of charges", NOT_A_DENIAL),
    "96": ("non-covered charge", "non_covered"),
    "97": ("included in payment for another service (bundled)", "coding_bundling"),
    "109": ("not covered by this payer; send to the correct payer", "eligibility_cob"),
    "119": ("benefit maximum for the period reached", "non_covered"),
    "125": ("submission or billing error", "coding_bundling"),
    "131": ("claim-specific negotiated discount", "underpayment"),
    "140": ("patient and insured identification do not match", "eligibility_cob"),
    "146": ("diagnosis invalid for the date of service", "coding_bundling"),
    "150": ("level of service not supported by the information given", "medical_necessity"),
    "151": ("number or frequency of services not supported", "medical_necessity"),
    "167": ("diagnosis not covered", "medical_necessity"),
    "170": ("not paid when billed by this provider type", "other"),
    "181": ("procedure code invalid for the date of service", "coding_bundling"),
    "182": ("modifier invalid for the date of service", "coding_bundling"),
    "185": ("rendering provider not eligible to perform the service", "other"),
    "189": ("not-otherwise-classified code used where a specific code exists", "coding_bundling"),
    "197": ("precertification, authorization or notification absent", "authorization"),
    "198": ("precertification or authorization exceeded", "authorization"),
    "200": ("expenses incurred during a coverage lapse", "eligibility_cob"),
    "204": ("service not covered under the patient's current benefit plan", "non_covered"),
    "226": ("requested information not provided or insufficient", "other"),
    "234": ("procedure not paid separately", "coding_bundling"),
    "236": ("procedure or modifier combination not compatible (NCCI)", "coding_bundling"),
    "242": ("services not provided by network or primary care providers", "authorization"),
    "243": ("services not authorized by network or primary care providers", "authorization"),
    "252": ("an attachment or other documentation is required", "other"),
    "253": ("sequestration reduction", NOT_A_DENIAL),
    "279": ("services not provided by a preferred network provider", "authorization"),
    "284": ("authorization number does not cover these services", "authorization"),
    "296": ("authorization not valid for this provider", "authorization"),
    "A1": ("claim or service denied (see RARC)", "other"),
    "B7": ("provider not certified or eligible for this service on this date", "other"),
}

#: RARC -> short description (ours). NSA codes effective 2022-03-01 (docs/domain.md §1.4).
RARC: dict[str, str] = {
    "M15": "separately billed services were bundled",
    "M62": "treatment authorization code missing, incomplete or invalid",
    "M127": "missing patient medical record for this service",
    "MA130": "claim has incomplete or invalid information; resubmit as a new claim",
    "N4": "missing or incomplete prior insurance carrier EOB",
    "N54": "claim information inconsistent with the pre-certified or authorized services",
    "N115": "decision based on a local coverage determination",
    "N130": "consult plan benefit documents or guidelines",
    "N290": "missing or invalid rendering provider identifier",
    "N386": "decision based on a national coverage determination",
    "N830": "processed under balance-billing/No Surprises rules: only PR amounts are collectible",
    "N862": "patient cost share = lesser of QPA or billed charge (NSA)",
    "N864": "No Surprises Act emergency services",
    "N865": "No Surprises Act non-emergency services at an in-network facility",
    "N866": "No Surprises Act air ambulance services",
    "N867": "cost share based on a specified state law",
    "N868": "cost share based on an All-Payer Model Agreement",
    "N869": "cost share based on the QPA",
    "N870": "billed amount lower than the QPA",
    "N871": "initial payment under a specified state law",
    "N873": "final payment under an All-Payer Model Agreement",
    "N872": "final payment under a specified state law",
    "N874": "final payment under the NSA, agreed in open negotiation",
    "N875": "final payment under the NSA: the amount the IDR entity selected",
    "N876": "covered item; notice of denial of payment under the NSA: open negotiation is available",
    "N877": "initial payment under the NSA; open negotiation is available",
    "N878": "notice and consent given but not valid for this service (NSA)",
    "N879": "notice and consent not obtained or not valid (NSA)",
    "N883": "processed according to state law",
    "N884": "No Surprises Act remark (wording not read here; see the X12 RARC list) [unverified]",
    "N885": "No Surprises Act remark (wording not read here; see the X12 RARC list) [unverified]",
}

#: RARCs that mark a remit as processed under the NSA (X12 RARC list, as reproduced in the
#: RPMS/IHS RARC table; docs/domain.md §1.4). N876 is the NSA *denial* notice: it starts the
#: 30-business-day open negotiation clock on a denial. The texts of N884 and N885 were not
#: read here: they are listed as NSA codes per the audit, wording [unverified].
NSA_RARCS = frozenset(
    {
        "N830", "N862", "N864", "N865", "N866", "N869", "N870", "N874", "N875", "N876",
        "N877", "N878", "N879", "N884", "N885",
    }
)  # fmt: skip
#: RARCs that say a state law / All-Payer Model set the payment (N872 final payment under a
#: specified state law; N883 "Processed according to state law"; RPMS/IHS RARC table).
STATE_LAW_RARCS = frozenset({"N867", "N868", "N871", "N872", "N873", "N883"})

#: Coverage/benefit denials: one mapping for every module (``playbook.appeals`` reads it).
NON_COVERED_CARCS = frozenset(c for c, (_, g) in CARC.items() if g == "non_covered")

#: Denial groups always eligible for federal external review: adverse determinations that
#: involve medical judgment (medical necessity, appropriateness, level of care, effectiveness,
#: experimental/investigational) and rescissions (29 CFR 2590.715-2719(d)(1)(i)(A); 45 CFR
#: 147.136(d)(1)); and, since the NSA, whether the plan complied with the surprise-billing and
#: cost-sharing rules of 45 CFR 149.110-149.130 (Commonwealth Fund glossary: external review
#: "involves consideration of whether an insurer is complying with the No Surprises Act").
#: Eligibility denials are excluded ((d)(1)(i)(A)). ``nsa_compliance`` is a ground, set on a
#: claim whose denial or cost sharing breaches the NSA (``nsa.assess_claims``
#: ``improper_under_nsa``).
EXTERNAL_REVIEW_GROUPS = frozenset({"medical_necessity", "rescission", "nsa_compliance"})
#: Groups eligible only when the denial is argued as medical judgment (a network denial argued
#: as "cannot effectively be provided in network", (d)(1)(ii) Example 2) or as NSA compliance.
EXTERNAL_REVIEW_IF_ARGUED = frozenset({"network", "authorization", "non_covered"})


def external_review_eligible(
    group: str, *, medical_judgment: bool = False, nsa_compliance: bool = False
) -> bool:
    """Whether a denial of ``group`` can go to federal external review (29 CFR 2590.715-2719).

    Always for :data:`EXTERNAL_REVIEW_GROUPS`; for :data:`EXTERNAL_REVIEW_IF_ARGUED` only when
    the denial involves medical judgment or NSA compliance; never for eligibility denials.
    """
    if group in EXTERNAL_REVIEW_GROUPS or nsa_compliance:
        return group != "eligibility_cob"
    return group in EXTERNAL_REVIEW_IF_ARGUED and medical_judgment


#: 835 CLP02 claim status codes (X12 835 5010; docs/domain.md §5.1) -> meaning.
CLAIM_STATUS: dict[str, str] = {
    "1": "processed as primary",
    "2": "processed as secondary",
    "3": "processed as tertiary",
    "4": "denied",
    "19": "processed as primary, forwarded to another payer",
    "20": "processed as secondary, forwarded to another payer",
    "21": "processed as tertiary, forwarded to another payer",
    "22": "reversal of a previous payment",
    "23": "not our claim, forwarded to another payer",
    "25": "predetermination pricing only, no payment",
}

#: CARCs that deny for missing prior authorization / precertification. Emergency services must
#: be covered "without the need for any prior authorization determination"
#: (42 U.S.C. 300gg-111(a)(1)(A); 45 CFR 149.110(b)(1)).
PRIOR_AUTH_CARCS = frozenset({"15", "39", "62", "197", "198", "284", "296"})
PRIOR_AUTH_RARCS = frozenset({"N54", "M62"})
#: CARCs that deny for the provider's network status. Emergency services must be covered
#: regardless of network status (45 CFR 149.110(b)(2)), and OON ancillary/non-emergency
#: services at an in-network facility are paid under 45 CFR 149.120 at in-network cost sharing.
NETWORK_CARCS = frozenset({"242", "243", "279"})


def split_carc(carc: str) -> tuple[str, str]:
    """Split ``"CO-45"`` into ``("CO", "45")``; a bare ``"45"`` gives ``("", "45")``."""
    s = str(carc or "").strip().upper()
    if "-" in s:
        g, c = s.split("-", 1)
        return g.strip(), c.strip()
    return "", s


def carc_description(carc: str) -> str:
    """Short description of a CARC (``"unknown CARC x"`` when not in the list)."""
    _, code = split_carc(carc)
    if not code:
        return ""
    return CARC[code][0] if code in CARC else f"unknown CARC {code}"


def rarc_descriptions(rarc: str) -> list[str]:
    """Descriptions of a ``":"``-joined RARC string, in order."""
    return [RARC.get(r, f"unknown RARC {r}") for r in _rarcs(rarc)]


def _rarcs(rarc: str) -> list[str]:
    return [r.strip().upper() for r in str(rarc or "").split(":") if r.strip()]


def denial_reason_group(carc: str, rarc: str = "") -> str:
    """Denial-reason group of a line's primary CARC (RARC N54 marks an authorization issue)."""
    group, code = split_carc(carc)
    rs = set(_rarcs(rarc))
    if not code:
        return "authorization" if rs & PRIOR_AUTH_RARCS else NOT_A_DENIAL
    if code in ("1", "2", "3") and group not in ("", "PR"):
        return "other"  # cost-sharing code under CO/OA is an error worth reading
    g = CARC.get(code, (None, "other"))[1]
    if g == "other" and rs & PRIOR_AUTH_RARCS:
        return "authorization"
    return g


def factorize_str(col: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """(int codes, object uniques) of a text column; missing values become ""."""
    c, u = pd.factorize(col.astype("str").fillna(""), sort=False)
    return c.astype(np.int64), np.asarray(u, dtype=object)


def map_unique(func: object, *cols: pd.Series | tuple[np.ndarray, np.ndarray]) -> np.ndarray:
    """Apply a scalar ``func`` to each distinct tuple of ``cols`` once; return the mapped array.

    Each column is a Series or an already factorized ``(codes, uniques)`` pair.
    """
    pairs = [c if isinstance(c, tuple) else factorize_str(c) for c in cols]
    comb = np.zeros(len(pairs[0][0]), dtype=np.int64)
    for c, u in pairs:
        comb = comb * max(len(u), 1) + c
    _, first, inv = np.unique(comb, return_index=True, return_inverse=True)
    vals = np.array([func(*(u[c[i]] for c, u in pairs)) for i in first], dtype=object)
    return vals[inv]


def denial_reason_groups(carc: pd.Series, rarc: pd.Series | None = None) -> pd.Series:
    """Vectorised :func:`denial_reason_group` (each distinct pair computed once)."""
    r = rarc if rarc is not None else pd.Series("", index=carc.index)
    return pd.Series(map_unique(denial_reason_group, carc, r), index=carc.index, dtype="str")


def improper_under_nsa(carc: str, rarc: str, nsa_basis: str) -> str:
    """Why a denial/adjustment is improper for an NSA-protected claim ("" when it is not).

    * emergency + prior-authorization denial (CO-197/198/15/62/39/284/296 or RARC N54/M62):
      42 U.S.C. 300gg-111(a)(1)(A); 45 CFR 149.110(b)(1);
    * emergency or in-network-facility + network-status denial (CO-242/243/279):
      45 CFR 149.110(b)(2), 149.120;
    * any NSA basis + PR-45 (the patient charged the excess over the allowed amount):
      balance billing barred by 45 CFR 149.410/149.420 (patient owes in-network cost sharing).
    """
    if nsa_basis in ("", "none"):
        return ""
    group, code = split_carc(carc)
    rs = set(_rarcs(rarc))
    if nsa_basis == "emergency" and (code in PRIOR_AUTH_CARCS or rs & PRIOR_AUTH_RARCS):
        return (
            "prior authorization denial on an emergency service: emergency services must be "
            "covered without prior authorization (42 U.S.C. 300gg-111(a)(1)(A); "
            "45 CFR 149.110(b)(1))"
        )
    if code in NETWORK_CARCS:
        return (
            "network-status denial of an NSA-protected service: must be covered as if in "
            "network with in-network cost sharing (45 CFR 149.110(b)(2), 149.120)"
        )
    if group == "PR" and code == "45":
        return (
            "charge above the allowed amount assigned to the patient: balance billing is "
            "barred for NSA-protected services (45 CFR 149.410, 149.420)"
        )
    return ""


def improper_under_nsa_frame(carc: pd.Series, rarc: pd.Series, nsa_basis: pd.Series) -> pd.Series:
    """Vectorised :func:`improper_under_nsa` (each distinct triple computed once)."""
    vals = map_unique(improper_under_nsa, carc, rarc, nsa_basis)
    return pd.Series(vals, index=carc.index, dtype="str")
