"""The command line, `riskshare` (a typer app): every capability of the library as a command.

Errors become one message and exit code 2; user text is printed literally. `main` is the
entry point named in pyproject.toml; `python -m riskshare.cli` runs the same.
"""

from riskshare.cli.commands import app, main

__all__ = ["app", "main"]
