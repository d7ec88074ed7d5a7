"""The reference pages in docs/ kept honest against the code.

Each name the code accepts or produces (a column of the organisations table, a key of the
agreement or session format, a step kind, a risk-table column, a preset) must appear in its page
as `code` (in backticks), read from the modules themselves rather than copied here, so a key
added to the code without a word in the docs fails with its name. Relative links between the
pages must resolve (files and #anchors), docs/README.md must list every page, and no file of the
repository may cite the design file outside it that users never see.
"""

from __future__ import annotations

import ast
import dataclasses
import re
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"


def page(name: str) -> str:
    path = DOCS / name
    assert path.is_file(), f"docs/{name} is missing"
    return path.read_text(encoding="utf-8")


def assert_mentioned(name: str, words, what: str) -> None:
    """Every word appears in docs/`name` as `word` (in backticks)."""
    text = page(name)
    words = list(dict.fromkeys(str(w) for w in words))
    assert words, f"no {what} found in the code to check (has the module changed?)"
    missing = [w for w in words if f"`{w}`" not in text]
    assert not missing, (f"docs/{name} does not mention these {what} (as `name`): "
                         + ", ".join(missing))


def is_keys(name: str, value) -> bool:
    return (name.startswith("_") and name[1:].isupper() and isinstance(value, tuple)
            and bool(value) and all(isinstance(v, str) for v in value))


def key_tuples(module) -> dict[str, tuple[str, ...]]:
    """The module's private tuples of key names (`_TOP`, `_BAND`, ...)."""
    return {name: value for name, value in vars(module).items() if is_keys(name, value)}


def source_tree(relative: str) -> ast.Module:
    return ast.parse((ROOT / relative).read_text(encoding="utf-8"))


def source_key_tuples(relative: str) -> dict[str, tuple[str, ...]]:
    """`key_tuples` of a module read from its source, for the workshop modules: importing
    riskshare.workshop loads the chart libraries (a second), which this fast test avoids."""
    out = {}
    for node in source_tree(relative).body:
        if (isinstance(node, ast.Assign) and len(node.targets) == 1
                and isinstance(node.targets[0], ast.Name)):
            try:
                value = ast.literal_eval(node.value)
            except ValueError:
                continue
            if is_keys(node.targets[0].id, value):
                out[node.targets[0].id] = value
    return out


def knob_keys() -> list[str]:
    """The keys of whatif.KNOBS, read from its source: the first argument of each Knob(...)."""
    for node in source_tree("riskshare/workshop/whatif.py").body:
        if (isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name)
                and node.targets[0].id == "KNOBS"):
            return [call.args[0].value for call in ast.walk(node.value)
                    if isinstance(call, ast.Call) and getattr(call.func, "id", "") == "Knob"]
    return []


# -- data.md ---------------------------------------------------------------------------------------
def test_data_names_every_column_kind_and_system_key():
    from riskshare.core.schema import INDEX, KINDS, ORG_COLUMNS
    from riskshare.core.write import SYSTEM_KEYS

    assert_mentioned("data.md", [INDEX, *(c.name for c in ORG_COLUMNS)],
                     "organisations-table columns")
    assert_mentioned("data.md", KINDS, "kinds")
    assert_mentioned("data.md", SYSTEM_KEYS, "system settings")


def test_data_names_every_sample():
    from riskshare.core.samples import list_samples

    assert_mentioned("data.md", list_samples(), "sample systems")


# -- reconciliation.md -----------------------------------------------------------------------------
def test_reconciliation_names_every_statement_line_and_method():
    from riskshare.reconciliation.rebalance import METHODS
    from riskshare.reconciliation.reconcile import STATEMENT_LINES

    assert_mentioned("reconciliation.md", [key for key, _ in STATEMENT_LINES], "statement lines")
    assert_mentioned("reconciliation.md", METHODS, "rebalancing methods")


# -- agreements.md ---------------------------------------------------------------------------------
def test_agreements_names_every_key_the_parser_accepts():
    from riskshare.agreements import spec

    tuples = key_tuples(spec)
    assert {"_TOP", "_BAND"} <= set(tuples), f"spec.py's key tuples not found: {sorted(tuples)}"
    for name, keys in tuples.items():
        assert_mentioned("agreements.md", keys, f"agreement keys (spec.{name})")


def test_agreements_names_every_choice():
    from riskshare.agreements import spec
    from riskshare.agreements.claims import RULES

    assert_mentioned("agreements.md", [f'"{v}"' for v in spec.DISTRIBUTE],
                     "[pool] distribute values")
    assert_mentioned("agreements.md", [f'"{v}"' for v in spec.TESTS], "[support] test values")
    assert_mentioned("agreements.md", [f'"{v}"' for v in spec.UNEARNED],
                     "[support] unearned values")
    assert_mentioned("agreements.md", RULES, "claims rules")


def test_agreements_names_every_result_column_and_system_line():
    from riskshare.agreements.engine import COLUMNS
    from riskshare.agreements.outcome import SYSTEM_LINES

    assert_mentioned("agreements.md", COLUMNS, "outcome columns")
    assert_mentioned("agreements.md", SYSTEM_LINES, "outcome system lines")


def test_agreements_names_every_preset():
    from riskshare.agreements.catalogue import list_presets

    assert_mentioned("agreements.md", list_presets(), "presets")


# -- metrics.md ------------------------------------------------------------------------------------
def test_metrics_names_every_risk_column_and_reference():
    from riskshare.agreements.risk import METRICS, SYSTEM_ROW
    from riskshare.core.constants import Reference

    assert_mentioned("metrics.md", METRICS, "risk-table columns")
    assert_mentioned("metrics.md", [r.value for r in Reference], "references")
    assert SYSTEM_ROW in page("metrics.md"), f"docs/metrics.md does not mention {SYSTEM_ROW}"


def test_metrics_names_every_incentives_column():
    import riskshare as rs

    table = rs.incentives("standalone", rs.load_sample("workshop_4")).table
    assert_mentioned("metrics.md", table.columns, "incentives columns")


# -- games.md --------------------------------------------------------------------------------------
def test_games_names_every_certificate_allocation():
    from riskshare.games.certificate import METHODS

    assert_mentioned("games.md", METHODS, "certificate allocations")


# -- workshop.md -----------------------------------------------------------------------------------
def test_workshop_names_every_session_key_and_step_kind():
    from riskshare.core.constants import Judge, StepKind  # STEP_KINDS and JUDGES are these

    tuples = source_key_tuples("riskshare/workshop/session.py")
    assert {"_TOP", "_STEP"} <= set(tuples), f"session.py's key tuples not found: {sorted(tuples)}"
    for name, keys in tuples.items():
        assert_mentioned("workshop.md", keys, f"session keys (session.{name})")
    assert_mentioned("workshop.md", [k.value for k in StepKind], "step kinds")
    assert_mentioned("workshop.md", [f'"{j.value}"' for j in Judge], "judges")


def test_workshop_names_every_scenario_setting_knob_and_shock_key():
    from riskshare.scenarios import shocks
    from riskshare.scenarios.simulate import DISTRIBUTIONS, ScenarioSettings

    settings = [f.name for f in dataclasses.fields(ScenarioSettings)] + ["risk_aversion"]
    assert_mentioned("workshop.md", settings, "scenario settings")
    assert_mentioned("workshop.md", [f'"{d}"' for d in DISTRIBUTIONS], "distributions")
    assert_mentioned("workshop.md", knob_keys(), "what-if knobs")
    for name, keys in key_tuples(shocks).items():
        assert_mentioned("workshop.md", keys, f"shock keys (shocks.{name})")
    assert_mentioned("workshop.md", shocks.list_shocks(), "bundled shocks")


# -- links and the index ---------------------------------------------------------------------------
FENCE = re.compile(r"^\s*(`{3,}|~{3,})")
HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
LINK = re.compile(r"\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
CODE_SPAN = re.compile(r"`+[^`]*`+")


def prose_lines(text: str):
    """(line number, line) for the lines of a Markdown text outside fenced code blocks."""
    fence = None
    for number, line in enumerate(text.splitlines(), start=1):
        match = FENCE.match(line)
        if match:
            marker = match.group(1)
            if fence is None:
                fence = marker[0] * len(marker)
            elif marker.startswith(fence):
                fence = None
            continue
        if fence is None:
            yield number, line


def anchors(path: Path) -> set[str]:
    """The anchors GitHub gives the headings of a Markdown file."""
    seen: dict[str, int] = {}
    out = set()
    for _, line in prose_lines(path.read_text(encoding="utf-8")):
        match = HEADING.match(line)
        if not match:
            continue
        slug = re.sub(r"[^\w\- ]", "", match.group(2).strip().lower()).replace(" ", "-")
        count = seen.get(slug, 0)
        seen[slug] = count + 1
        out.add(slug if count == 0 else f"{slug}-{count}")
    return out


def doc_pages() -> list[Path]:
    pages = sorted(DOCS.glob("*.md"))
    assert pages, "docs/ has no pages"
    return pages


@pytest.mark.parametrize("path", doc_pages(), ids=lambda p: p.name)
def test_relative_links_resolve(path: Path):
    broken = []
    for number, line in prose_lines(path.read_text(encoding="utf-8")):
        for target in LINK.findall(CODE_SPAN.sub("", line)):
            if re.match(r"^[a-z][a-z0-9+.-]*:", target, re.IGNORECASE):
                continue                        # http:, https:, mailto:
            file, _, anchor = target.partition("#")
            linked = path if file == "" else (path.parent / file).resolve()
            if not linked.exists():
                broken.append(f"line {number}: {target} (no such file)")
            elif anchor and linked.suffix == ".md" and anchor not in anchors(linked):
                broken.append(f"line {number}: {target} (no heading gives #{anchor})")
    assert not broken, f"docs/{path.name} has broken links: " + "; ".join(broken)


def test_index_lists_every_page():
    index = page("README.md")
    missing = [p.name for p in doc_pages() if p.name != "README.md"
               and f"]({p.name})" not in index]
    assert not missing, "docs/README.md does not link to: " + ", ".join(missing)


# -- no citation of the design file outside the repository -----------------------------------------
# Built from pieces so that this file does not match itself.
FORBIDDEN = ("DOMAIN" + ".md", "DOMAIN" + " §")
SKIPPED = {".git", ".venv"}


def repository_files() -> list[Path]:
    """The repository's files: tracked ones and new ones not ignored (git), else every file
    outside .git and .venv."""
    git = shutil.which("git")
    if git:
        done = subprocess.run([git, "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                              cwd=ROOT, capture_output=True, check=False)
        if done.returncode == 0:
            names = [n for n in done.stdout.decode("utf-8", "replace").split("\0") if n]
            return [ROOT / n for n in names
                    if not SKIPPED & set(Path(n).parts) and (ROOT / n).is_file()]
    return [p for p in ROOT.rglob("*")
            if p.is_file() and not SKIPPED & set(p.relative_to(ROOT).parts)]


def test_no_file_cites_the_design_file_outside_the_repository():
    found = []
    for path in repository_files():
        data = path.read_bytes()
        if b"\0" in data[:8192]:
            continue                                    # a binary file
        for number, line in enumerate(data.decode("utf-8", "replace").splitlines(), start=1):
            if any(word in line for word in FORBIDDEN):
                found.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()[:80]}")
    assert not found, ("these lines cite a design file users never see; point them at the "
                       "page in docs/ instead:\n" + "\n".join(found))
