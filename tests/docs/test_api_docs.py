"""Every public function of the API documents its parameters and what it returns (numpydoc).

The functions are read from `riskshare.__all__` and `riskshare.games.__all__` (classes,
constants and modules left out), so a function added to the public API without a "Parameters"
section naming each of its parameters (`name : type`), or without a "Returns" section, fails
here with its name. The methods `Allocation.alternatives` and `Outcome.explain` are held to the
same rule.
"""

from __future__ import annotations

import inspect
import re

import pytest

import riskshare
import riskshare.games


def public_functions() -> list[tuple[str, object]]:
    out = []
    for module in (riskshare, riskshare.games):
        for name in module.__all__:
            value = getattr(module, name)
            if inspect.isfunction(value):
                out.append((f"{module.__name__}.{name}", value))
    return out


def methods() -> list[tuple[str, object]]:
    return [("riskshare.Allocation.alternatives", riskshare.Allocation.alternatives),
            ("riskshare.Outcome.explain", riskshare.Outcome.explain)]


FUNCTIONS = public_functions() + methods()


def section(doc: str, title: str) -> str | None:
    """The body of the numpydoc section `title` (up to the next section), or None."""
    lines = doc.splitlines()
    for i in range(len(lines) - 1):
        if lines[i].strip() == title and re.fullmatch(r"-{3,}", lines[i + 1].strip()):
            body = []
            for j in range(i + 2, len(lines)):
                if j + 1 < len(lines) and re.fullmatch(r"-{3,}", lines[j + 1].strip()) \
                        and lines[j].strip():
                    break
                body.append(lines[j])
            return "\n".join(body)
    return None


def parameters(function) -> list[str]:
    return [p.name for p in inspect.signature(function).parameters.values()
            if p.name not in ("self", "cls")]


def test_the_api_is_found():
    names = {name for name, _ in FUNCTIONS}
    assert len(FUNCTIONS) >= 25, f"only {len(FUNCTIONS)} public functions found: {sorted(names)}"
    for expected in ("riskshare.apply", "riskshare.load_system", "riskshare.games.shapley"):
        assert expected in names


@pytest.mark.parametrize("name, function", FUNCTIONS, ids=[name for name, _ in FUNCTIONS])
def test_docstring_has_numpydoc_sections(name, function):
    doc = inspect.getdoc(function)
    assert doc, f"{name} has no docstring"
    assert section(doc, "Returns") is not None, f"{name}: the docstring has no 'Returns' section"
    wanted = parameters(function)
    if not wanted:
        return
    body = section(doc, "Parameters")
    assert body is not None, (f"{name}: the docstring has no 'Parameters' section (parameters: "
                              f"{', '.join(wanted)})")
    listed = {m.group(1) for m in re.finditer(r"^(\w+) :", body, re.MULTILINE)}
    missing = [p for p in wanted if p not in listed]
    assert not missing, (f"{name}: the 'Parameters' section does not list "
                         f"{', '.join(missing)} (a line '<name> : <type>' each)")
