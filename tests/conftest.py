"""Shared pytest configuration for the whole suite."""

import os

import pandas as pd
from hypothesis import settings

# Hypothesis explores fresh random cases on every local run (that is how it finds bugs), but on CI
# (`CI=true`) it draws the same cases every time, so a red CI run is reproducible and a green one
# is not luck. Every failure prints its reproduction blob either way.
settings.register_profile("ci", derandomize=True, print_blob=True)
settings.register_profile("dev", print_blob=True)
settings.load_profile("ci" if os.environ.get("CI", "").lower() in {"1", "true", "yes"} else "dev")


def pytest_configure(config):
    # Copy-on-write pandas (3.x) has no SettingWithCopyWarning; under pandas 2.x make it an error,
    # as pyproject.toml used to (naming it there breaks pytest's start-up under pandas 3).
    if hasattr(pd.errors, "SettingWithCopyWarning"):
        config.addinivalue_line("filterwarnings", "error::pandas.errors.SettingWithCopyWarning")
