"""CMS LOCCO (locality/county) parser on CMS's own 2017 file and on synthetic quirks."""

from __future__ import annotations

from pathlib import Path

import pytest

from oonplaybook.reference import pfs
from oonplaybook.reference.localities import county_locality, read_locco

#: CMS's 2017 LOCCO file, copied into the repository (tests/data/README.md gives its provenance).
LOCCO = Path(__file__).resolve().parent / "data" / "real" / "cms_2017_locality_county_crosswalk.txt"


def test_cms_2017_locco_file():
    df = read_locco(LOCCO)
    assert len(df) == 112 and df["locality"].is_unique
    # the duplicated MO 99 row is dropped and reported, not silently
    assert df.attrs["duplicates"] == [{"locality": "05302-99", "source_row": 101}]
    ny = df.set_index("locality").loc["13202-02"]
    assert (
        ny["state"] == "NY" and "KINGS" in ny["counties"]
    )  # state carried down from the group's first row
    assert df.set_index("locality").loc[
        "05202-00", "footnote"
    ]  # "STATEWIDE*" footnote mark kept as a flag
    assert county_locality(df, "NY", "Queens") == "13292-04"
    assert county_locality(df, "IL", "Will County") == "06102-15"
    assert county_locality(df, "TX", "Bexar") == "04412-99"  # rest of state
    assert county_locality(df, "CA", "Kern") == "01112-54"
    assert county_locality(df, "ZZ", "x") is None


def test_synthetic_comma_file_and_conflicts():
    text = (
        b"COUNTIES INCLUDED IN 2025 LOCALITIES\n,,,,\n"
        b"Medicare Administrative Contractor,Locality Number,State,Fee Schedule Area,Counties\n"
        b'13202,1,NEW YORK,MANHATTAN,NEW YORK\n13282,99,,REST OF STATE,"ALL OTHER COUNTIES"\n'
    )
    df = read_locco(text, name="25LOCCO.csv")
    assert df["locality"].tolist() == ["13202-01", "13282-99"]
    assert df["state"].tolist() == ["NY", "NY"]
    clash = text + b"13202,01,NEW YORK,MIDTOWN,NEW YORK\n"
    with pytest.raises(pfs.ReferenceError, match="13202-01 appears on rows"):
        read_locco(clash, name="25LOCCO.csv")
    with pytest.raises(pfs.ReferenceError, match="LOCCO layout"):
        read_locco(b"a,b\n1,2\n", name="x.csv")
