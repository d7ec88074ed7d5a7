"""Every preset names its source in its header comment, and the presets changed for issue 16 §3
state the key facts of the rule they follow."""

from __future__ import annotations

from pathlib import Path

import pytest

MODELS = Path(__file__).resolve().parents[3] / "models"

#: the facts each changed preset's header must state
FACTS = {
    "support_cliff_2018_19": ["70%", "30%", "A&E", "quarterly in arrears", "15%, 20%, 30% and "
                              "35%", "Not modelled"],
    "deficit_support_2025_26": ["in advance", "month 9", "Q1", "system", "Not modelled"],
    "system_support_taper_2020_21": ["0.5%", "deficit", "surplus", "50%", "Not modelled"],
    "mssp_one_sided": ["425.604", "5,000 → 3.9%", "60,000 or more → 2.0%", "quality",
                       "Not modelled"],
    "mssp_two_sided": ["425.610", "quality", "Not modelled"],
}


def header(path: Path) -> str:
    lines = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.startswith("#"):
            break
        lines.append(line.lstrip("# "))
    return " ".join(lines)


@pytest.mark.parametrize("path", sorted(MODELS.glob("*.toml")), ids=lambda p: p.stem)
def test_every_preset_header_names_its_source(path):
    assert "source:" in header(path).lower(), \
        f"{path.name}: the header comment needs a 'Source:'"


@pytest.mark.parametrize(("stem", "facts"), sorted(FACTS.items()))
def test_changed_presets_state_their_key_facts(stem, facts):
    text = header(MODELS / f"{stem}.toml")
    for fact in facts:
        assert fact in text, f"{stem}: the header should state {fact!r}"
