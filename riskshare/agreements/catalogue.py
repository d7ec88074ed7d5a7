"""The catalogue of preset agreements: which TOML files in `models/` exist, in what order they
are offered, where each lives and its plain-English header. Loading one is
`riskshare.agreements.presets.load_preset` (or `load_agreement(name)`)."""

from __future__ import annotations

from pathlib import Path

from riskshare.core.errors import UnknownSampleError
from riskshare.core.samples import bundled_dir

__all__ = ["ORDER", "models_dir", "list_presets", "preset_path", "preset_header"]

#: Display order: NHS designs first, then the external designs they can be compared with.
ORDER = ("standalone", "full_pooling_turnover", "gain_loss_50_50_deadband",
         "pooled_budget_reserve", "support_cliff_2018_19", "system_support_taper_2020_21",
         "deficit_support_2025_26",
         "erf_2022_23", "erf_2023_24", "aca_risk_corridors", "medicare_part_d_corridors", "mssp_one_sided", "mssp_two_sided",
         "nec_target_cost", "worst_placed_first")


def models_dir() -> Path:
    """The folder of bundled preset agreements (`models/`), one .toml file per preset."""
    return bundled_dir("models")


def list_presets() -> list[str]:
    """Preset names (file stems), in display order; files not in ORDER come last."""
    names = [p.stem for p in models_dir().glob("*.toml")]
    return [n for n in ORDER if n in names] + sorted(n for n in names if n not in ORDER)


def preset_path(name: str) -> Path:
    """The .toml file of the preset called `name`; UnknownSampleError, listing the presets,
    when there is none."""
    path = models_dir() / f"{name}.toml"
    if not path.exists():
        raise UnknownSampleError(f"no preset called '{name}' (presets: "
                                 f"{', '.join(list_presets())})")
    return path


def preset_header(name: str) -> str:
    """The preset's plain-English comment header (without the '#' marks)."""
    lines = []
    for line in preset_path(name).read_text(encoding="utf-8").splitlines():
        if not line.startswith("#"):
            break
        lines.append(line.lstrip("#").strip())
    return " ".join(lines)
