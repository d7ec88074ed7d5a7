"""Running the CLI in tests: in process (exit status, stdout, stderr) or as a subprocess."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from riskshare.cli import main

REPO = Path(__file__).resolve().parents[2]
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
# table column separators, whether rich draws them in Unicode or ASCII
BARS = str.maketrans({"│": "|", "┃": "|"})


def run(argv: list[str], capsys) -> tuple[int, str, str]:
    """Run the CLI in process: (exit status, stdout, stderr)."""
    try:
        main(argv)
        code = 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    out, err = capsys.readouterr()
    return code, ANSI.sub("", out).translate(BARS), ANSI.sub("", err)


def run_subprocess(*args: str, cwd: Path = REPO) -> subprocess.CompletedProcess:
    """The real entry point (`python -m riskshare.cli`), without colour, 200 columns wide."""
    env = {**os.environ, "NO_COLOR": "1", "TERM": "dumb", "COLUMNS": "200"}
    env.pop("FORCE_COLOR", None)
    return subprocess.run([sys.executable, "-m", "riskshare.cli", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=60)
