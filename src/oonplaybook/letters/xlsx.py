"""Keep ``playbook.xlsx``'s letter column in step when ``oonplaybook letters --all`` writes more.

The workbook is written once by the playbook stage; a later ``letters --all`` call writes more
letters and updates ``worklist.csv``. This module updates the same column in every workbook
sheet that lists worklist rows (a header row holding the "Rank" and "Letter" labels), row by
row keyed on the worklist rank, so the workbook and the CSV name the same files.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd


def update_workbook_letters(path: str | Path, worklist: pd.DataFrame) -> int:
    """Set the letter cells of ``path``'s worklist sheets from ``worklist``; return cells changed.

    A sheet counts when one of its first 5 rows holds the labels of ``rank`` and ``letter``
    (``formatting.label``); other sheets are left untouched. Missing file: nothing to do.
    """
    from openpyxl import load_workbook

    from oonplaybook.formatting import label

    p = Path(path)
    if not p.exists():
        return 0
    letter_of = {int(r): str(f) for r, f in zip(worklist["rank"], worklist["letter"], strict=True)}
    want = {label("rank"), label("letter")}
    wb = load_workbook(p)
    changed = 0
    for ws in wb.worksheets:
        for row in ws.iter_rows(min_row=1, max_row=min(5, ws.max_row)):
            heads = {str(c.value): c.column for c in row if c.value is not None}
            if not want <= set(heads):
                continue
            rank_col, letter_col = heads[label("rank")], heads[label("letter")]
            for r in range(row[0].row + 1, ws.max_row + 1):
                rank = ws.cell(r, rank_col).value
                if not isinstance(rank, int | float) or int(rank) not in letter_of:
                    continue
                cell = ws.cell(r, letter_col)
                new = letter_of[int(rank)] or None
                if cell.value != new:
                    cell.value = new
                    changed += 1
            break
    if changed:
        wb.save(p)
    return changed
