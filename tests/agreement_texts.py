"""Agreements written inline in tests, built by one function so each test states only what is
particular to it (its support test, its basis)."""

from __future__ import annotations

import tomli_w


def full_pooling(name: str, basis: str = "turnover", **support) -> str:
    """TOML text: every variance pooled in full, shared by `basis`, with `support` as the
    [support] section's keys (none: the format's defaults)."""
    document: dict = {"name": name, "gains": {"bands": [{"pool": 1.0}]},
                      "losses": {"bands": [{"pool": 1.0}]},
                      "pool": {"distribute": "basis", "basis": basis}}
    if support:
        document["support"] = support
    return tomli_w.dumps(document)
