"""The ``oonplaybook`` command line (typer + rich).

Each area registers its commands from its own ``cli_<area>.py`` module so the concepts stay
separate: ``run`` (runner), ``demo-data``, ``ingest``, ``price``/``reference``/``benchmark``,
``payers``, ``deadlines``.
"""

from __future__ import annotations

import importlib

import typer

app = typer.Typer(
    name="oonplaybook",
    help="Out-of-network claim analytics and No Surprises Act negotiation playbooks.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

_COMMAND_MODULES = (
    "oonplaybook.cli_run",
    "oonplaybook.cli_demo",
    "oonplaybook.cli_ingest",
    "oonplaybook.cli_reference",
    "oonplaybook.cli_payers",
    "oonplaybook.cli_nsa",
    "oonplaybook.cli_letters",
    "oonplaybook.cli_coding",
    "oonplaybook.cli_tic",
    "oonplaybook.cli_rules",
    "oonplaybook.cli_idr",
)

for _name in _COMMAND_MODULES:
    try:
        _mod = importlib.import_module(_name)
    except ModuleNotFoundError as _e:  # area not built yet
        if _e.name != _name:
            raise
        continue
    _mod.register(app)


def main() -> None:
    """Console-script entry point."""
    app()


if __name__ == "__main__":
    main()
