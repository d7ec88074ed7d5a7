"""README.md's examples, run as written, so they cannot drift from the code.

Every fenced ```python block runs, and every `riskshare ...` line of a ```sh (shell, bash or
console) block runs through the CLI in process and must exit 0. Each block is its own test,
named by its README section and its number in that section (`reconciliation-1`), and a failure
shows the block with its README line numbers.

- The README reads section by section: the blocks of one `## ` section share one namespace and
  one working directory (a fresh temporary folder per section), in order, so a block may use
  what an earlier block of its section defined or wrote, as a reader following that section
  would. Selecting one block (`-k`) runs the earlier blocks of its section first.
- A DeprecationWarning from riskshare is an error, and a Python block importing a module by its
  old flat path (`riskshare.session`) fails even when the module was imported earlier in the
  process, so the README always shows today's import paths.
- A CLI line that deliberately shows an error says so at its end, `# exits 2: why`, and must
  exit with that status instead.
- A block that genuinely cannot run in a test (`make app`) is skipped only when the line before
  it is `<!-- not run: reason -->`; any other block that is not all riskshare commands fails.
  `<!-- needs: chromium -->` skips a block only where Chromium cannot be found.
- Blocks in other languages (```text, ```toml, no language) show output or file contents and are
  not run.
"""

from __future__ import annotations

import ast
import re
import shlex
import traceback
import types
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import pytest

import riskshare
from tests.integration.cli_runner import run as run_cli

README = Path(__file__).resolve().parents[2] / "README.md"

PYTHON = {"python", "py"}
SHELL = {"sh", "shell", "bash", "console"}
FENCE = re.compile(r"^(?P<fence>`{3,}|~{3,})\s*(?P<lang>[\w+-]*)")
NOT_RUN = re.compile(r"^<!--\s*not run:\s*(?P<reason>\S.*?)\s*-->$")
NEEDS = re.compile(r"^<!--\s*needs:\s*(?P<what>\S.*?)\s*-->$")
MARKER = re.compile(r"^<!--\s*(not run|needs)\b")
EXITS = re.compile(r"#\s*exits\s+(?P<code>\d+)\b")


def _chromium() -> bool:
    from riskshare.workshop.printable import pdf_available

    return pdf_available()


NEEDED = {"chromium": _chromium}


@dataclass(frozen=True)
class Block:
    section: str
    index: int          # 1-based, among the section's Python and shell blocks
    lang: str
    line: int           # README line of the block's first line of code
    code: str
    not_run: str = ""   # the reason given in <!-- not run: ... -->
    needs: str = ""     # what <!-- needs: ... --> names

    @property
    def id(self) -> str:
        """The section's title up to any colon, and the block's number: `fair-shares-1`."""
        return f"{slug(self.section.split(':')[0])}-{self.index}"

    def listing(self) -> str:
        lines = self.code.splitlines()
        width = len(str(self.line + len(lines)))
        shown = "\n".join(f"{self.line + k:>{width}} | {text}" for k, text in enumerate(lines))
        return (f"README.md, section '{self.section}', block {self.index} ({self.lang}, "
                f"line {self.line}):\n{shown}")


def slug(title: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-") or "top"


def parse(text: str) -> tuple[list[Block], list[str]]:
    """The README's Python and shell blocks, and problems with its markers."""
    blocks: list[Block] = []
    problems: list[str] = []
    section, counts = "", {}
    previous = ""           # the last non-blank line outside a fence
    fence = None            # (fence, lang, marker line, first code line, lines)
    for number, line in enumerate(text.splitlines(), start=1):
        if fence is not None:
            if line.strip().startswith(fence[0]) and not line.strip().strip(fence[0][0]):
                mark, lang = fence[2], fence[1]
                if lang in PYTHON | SHELL:
                    counts[section] = counts.get(section, 0) + 1
                    not_run, needs = NOT_RUN.match(mark), NEEDS.match(mark)
                    blocks.append(Block(section, counts[section], lang, fence[3],
                                        "\n".join(fence[4]),
                                        not_run["reason"] if not_run else "",
                                        needs["what"] if needs else ""))
                elif MARKER.match(mark):
                    problems.append(f"line {fence[3] - 1}: a {lang or 'plain'} block is never "
                                    f"run, so its marker {mark!r} means nothing")
                fence, previous = None, ""
            else:
                fence[4].append(line)
            continue
        opened = FENCE.match(line.strip())
        if opened:
            fence = (opened["fence"], opened["lang"].lower(), previous, number + 1, [])
            continue
        if MARKER.match(previous) and line.strip():
            problems.append(f"line {number - 1}: {previous!r} is not right before a block")
        if line.startswith("## ") or (line.startswith("# ") and not section):
            section = line.lstrip("#").strip()
        if line.strip():
            previous = line.strip()
    if fence is not None:
        problems.append(f"line {fence[3] - 1}: a code block is never closed")
    return blocks, problems


BLOCKS, PROBLEMS = parse(README.read_text(encoding="utf-8"))


# -- Python blocks ---------------------------------------------------------------------------------
def old_module_paths(tree: ast.AST, namespace: dict) -> list[str]:
    """Each use of a module by its old flat path (riskshare.session, rs.session)."""
    moved, public = riskshare._MOVED, set(riskshare.__all__)
    aliases = {name for name, value in namespace.items() if value is riskshare}
    found = []

    def check(dotted: str, node: ast.AST) -> None:
        parts = dotted.split(".")
        if parts[0] == "riskshare" and len(parts) > 1 and parts[1] in moved:
            homes = " and ".join(f"riskshare.{home}" for home in moved[parts[1]])
            found.append(f"line {node.lineno}: riskshare.{parts[1]} is now {homes}")

    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                check(alias.name, node)
                if alias.name == "riskshare":
                    aliases.add(alias.asname or "riskshare")
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            check(node.module, node)
            if node.module == "riskshare":
                for alias in node.names:
                    if alias.name not in public:
                        check(f"riskshare.{alias.name}", node)
    for node in ast.walk(tree):
        if (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name)
                and node.value.id in aliases and node.attr not in public):
            check(f"riskshare.{node.attr}", node)
    return found


def run_python(block: Block, namespace: dict) -> str:
    """Run the block; '' when it ran, else why not."""
    source = "\n" * (block.line - 1) + block.code     # tracebacks name README.md's own lines
    try:
        tree = ast.parse(source, str(README))
    except SyntaxError:
        return traceback.format_exc(limit=0)
    old = old_module_paths(tree, namespace)
    if old:
        return "old import paths (see riskshare/__init__.py _MOVED):\n  " + "\n  ".join(old)
    try:
        exec(compile(tree, str(README), "exec"), namespace)
    except Exception as exc:  # shown with the block, pointing at README.md's lines
        tb = exc.__traceback__.tb_next if exc.__traceback__ else None   # skip this frame
        return "".join(traceback.format_exception(type(exc), exc, tb))
    return ""


# -- shell blocks ----------------------------------------------------------------------------------
def commands(block: Block) -> list[tuple[int, str]]:
    """(README line, command) for each command of a shell block, continuations joined."""
    found, pending, start = [], "", 0
    for k, raw in enumerate(block.code.splitlines()):
        line = raw.strip()
        if block.lang == "console":
            if not pending and not line.startswith("$ "):
                continue                       # output shown in a console block
            line = line.removeprefix("$ ") if not pending else line
        if not pending:
            start = block.line + k
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        command, pending = pending + line, ""
        if command and not command.startswith("#"):
            found.append((start, command))
    return found


def run_shell(block: Block, capsys) -> str:
    """Run the block's riskshare commands; '' when all exited as expected, else why not."""
    cmds = commands(block)
    others = [f"line {n}: {c}" for n, c in cmds if not c.startswith("riskshare ")]
    if others or not cmds:
        return ("this block cannot be run by the test: it holds "
                + ("commands other than riskshare's:\n  " + "\n  ".join(others) if others
                   else "no command")
                + "\nIf it genuinely cannot run in a test, put <!-- not run: reason --> on the "
                "line before it.")
    for number, command in cmds:
        expected = EXITS.search(command)
        want = int(expected["code"]) if expected else 0
        try:
            argv = shlex.split(command, comments=True)[1:]
        except ValueError as exc:
            return f"line {number}: {command}\ncannot be split into arguments: {exc}"
        code, out, err = run_cli(argv, capsys)
        if code != want:
            return (f"line {number}: {command}\nexited {code}, expected {want}\n"
                    f"--- stdout ---\n{out[-4000:]}\n--- stderr ---\n{err[-4000:]}")
    return ""


# -- the tests -------------------------------------------------------------------------------------
@dataclass
class Section:
    directory: Path
    namespace: dict = field(default_factory=lambda: {"__name__": "__readme__"})
    outcome: dict = field(default_factory=dict)     # block index -> '' (ran) or why it failed


@pytest.fixture(scope="module")
def sections(tmp_path_factory):
    made: dict[str, Section] = {}

    def get(title: str) -> Section:
        if title not in made:
            made[title] = Section(tmp_path_factory.mktemp(f"readme-{slug(title)}"))
        return made[title]

    return get


def skip_reason(block: Block) -> str:
    if block.not_run:
        return f"not run: {block.not_run}"
    for need in filter(None, (n.strip() for n in block.needs.split(","))):
        if need not in NEEDED:
            pytest.fail(f"line {block.line - 2}: <!-- needs: {need} --> is not one of: "
                        f"{', '.join(NEEDED)}", pytrace=False)
        if not NEEDED[need]():
            return f"needs {need}, which is not available here"
    return ""


def run_block(block: Block, section: Section, capsys) -> str:
    with warnings.catch_warnings():
        # moved-module warnings are raised on the importer's behalf, so match them by message
        warnings.filterwarnings("error", category=DeprecationWarning,
                                message=r"(?s).*\briskshare\b")
        warnings.filterwarnings("error", category=DeprecationWarning, module=r"riskshare\b")
        if block.lang in PYTHON:
            why = run_python(block, section.namespace)
        else:
            why = run_shell(block, capsys)
    section.outcome[block.index] = why
    return why


@pytest.mark.parametrize("block", BLOCKS, ids=[b.id for b in BLOCKS])
def test_readme_block(block: Block, sections, monkeypatch, capsys):
    reason = skip_reason(block)
    if reason:
        pytest.skip(f"README.md line {block.line}: {reason}")
    section = sections(block.section)
    monkeypatch.chdir(section.directory)
    # the earlier blocks of the section first (already run, unless this test was selected alone)
    for earlier in (b for b in BLOCKS if b.section == block.section and b.index < block.index):
        if earlier.index not in section.outcome and not skip_reason(earlier):
            run_block(earlier, section, capsys)
        if section.outcome.get(earlier.index):
            pytest.fail(f"{earlier.id} failed, and this block runs after it:\n\n"
                        f"{block.listing()}", pytrace=False)
    why = section.outcome[block.index] if block.index in section.outcome else run_block(
        block, section, capsys)
    if why:
        pytest.fail(f"{block.listing()}\n\n{why}", pytrace=False)


def test_readme_markers_and_examples():
    """The markers sit right before a block that runs, and the README has examples to run."""
    assert not PROBLEMS, "\n".join(PROBLEMS)
    assert sum(b.lang in PYTHON for b in BLOCKS) >= 5
    assert sum(b.lang in SHELL for b in BLOCKS) >= 5
    assert len({b.id for b in BLOCKS}) == len(BLOCKS)


def test_old_module_paths_are_caught():
    """The check that keeps old import paths out of the README, on the paths it must catch."""
    tree = ast.parse("import riskshare as rs\nfrom riskshare.session import load_session\n"
                     "import riskshare.engine\nfrom riskshare import report, apply, workshop\n"
                     "from riskshare.workshop import view\nrs.presets; rs.simulate\n")
    found = old_module_paths(tree, {})
    assert [f.split(":")[0] for f in found] == ["line 2", "line 3", "line 4", "line 6"], found
    assert old_module_paths(ast.parse("x.session"), {"x": riskshare}) != []
    assert old_module_paths(ast.parse("x.session"), {"x": types.SimpleNamespace()}) == []
