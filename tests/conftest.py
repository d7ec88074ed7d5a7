"""Shared pytest configuration for the whole suite."""

import pandas as pd


def pytest_configure(config):
    # Copy-on-write pandas (3.x) has no SettingWithCopyWarning; under pandas 2.x make it an error,
    # as pyproject.toml used to (naming it there breaks pytest's start-up under pandas 3).
    if hasattr(pd.errors, "SettingWithCopyWarning"):
        config.addinivalue_line("filterwarnings", "error::pandas.errors.SettingWithCopyWarning")
