"""The preset agreements in `models/` (shipped in the wheel as `riskshare/_models`).

Each preset is a TOML file a user can load, read and edit; its comment header says what it
models and where its parameters come from, and its `sample` key names the bundled system it is
designed for. `list_presets()` and `load_preset(name)` drive the CLI, the app's picker and the
tests; the catalogue itself (names, order, paths, headers) is `riskshare.agreements.catalogue`.
"""

from __future__ import annotations

from riskshare.agreements.catalogue import (
    ORDER,
    list_presets,
    models_dir,
    preset_header,
    preset_path,
)
from riskshare.agreements.spec import Agreement, load_agreement

__all__ = ["ORDER", "list_presets", "load_preset", "models_dir", "preset_header", "preset_path"]


def load_preset(name: str) -> Agreement:
    """The preset called `name` (a file stem in `models/`), validated."""
    return load_agreement(preset_path(name))
