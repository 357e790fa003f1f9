"""Letters by audience, rendered from the worklist: one module per concern.

- :mod:`~oonplaybook.letters.audiences`: each letter type's recipient, its merge fields and
  the rule that nothing internal reaches an external recipient;
- :mod:`~oonplaybook.letters.select`: which worklist rows and IDR batches get a letter, and the
  coverage per type;
- :mod:`~oonplaybook.letters.arguments`: what the letters say (grounds, enclosures, the IDR
  circumstances the data supports);
- :mod:`~oonplaybook.letters.contexts`: the fields each template reads, and the staff cover note;
- :mod:`~oonplaybook.letters.render`: jinja2 to Markdown, Markdown to .docx;
- :mod:`~oonplaybook.letters.write`: writing a run's letters, cover notes and ``index.csv``;
- :mod:`~oonplaybook.letters.inputs`: the stage-40 frames kept for ``oonplaybook letters --all``;
- :mod:`~oonplaybook.letters.merge`: filling merge fields from a practice-held crosswalk;
- :mod:`~oonplaybook.letters.xlsx`: the workbook's letter column after ``letters --all``.
"""

from oonplaybook.letters.audiences import (
    LETTER_TYPES,
    MERGE_FIELD,
    Audience,
    LetterType,
    internal_content,
    merge_fields_in,
)
from oonplaybook.letters.inputs import load_as_of, load_inputs, save_inputs
from oonplaybook.letters.merge import MergeError, MergeResult, merge_letters, read_crosswalk
from oonplaybook.letters.render import markdown_to_docx, render_markdown
from oonplaybook.letters.select import candidate_rows, coverage, letter_types, select_rows
from oonplaybook.letters.write import INDEX_FILE, LetterRun, with_letter_files, write_letters
from oonplaybook.letters.xlsx import update_workbook_letters

__all__ = [
    "INDEX_FILE",
    "LETTER_TYPES",
    "MERGE_FIELD",
    "Audience",
    "LetterRun",
    "LetterType",
    "MergeError",
    "MergeResult",
    "candidate_rows",
    "coverage",
    "internal_content",
    "load_as_of",
    "load_inputs",
    "letter_types",
    "markdown_to_docx",
    "merge_fields_in",
    "merge_letters",
    "read_crosswalk",
    "render_markdown",
    "save_inputs",
    "select_rows",
    "update_workbook_letters",
    "with_letter_files",
    "write_letters",
]
