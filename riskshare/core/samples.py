"""The registry of bundled sample systems, and synthetic systems of any size.

`SAMPLES` is the one list that drives `rs.list_samples()`, `rs.load_sample(name)`, the app's
picker, the CLI and the tests. Each sample is a folder under `sample_data/` (shipped inside the
wheel as `riskshare/_sample_data`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from riskshare.core.errors import UnknownSampleError, UsageError
from riskshare.core.schema import KINDS
from riskshare.core.system import System

if TYPE_CHECKING:
    from riskshare.core.monthly import Monthly

DEFAULT_SAMPLE = "northshire_2018_19"


@dataclass(frozen=True)
class Sample:
    """One bundled sample system: its folder under `sample_data/` (`name`), a title and a
    description."""

    name: str
    title: str
    description: str

    @property
    def path(self) -> Path:
        return data_dir() / self.name


SAMPLES: dict[str, Sample] = {
    s.name: s
    for s in (
        Sample("northshire_2018_19", "Northshire and Vale, 2018/19",
               "Nine members under the 2018/19 regime: six NHS trusts and the clinical "
               "commissioning group inside the system control total, with PSF and CSF at stake; "
               "the county council and a GP federation outside it. The SCT asks £3.65m more "
               "than the sum of organisational control totals, and two targets look "
               "unrealistic."),
        Sample("workshop_4", "Workshop system (4 members)",
               "Four members with round numbers for teaching: every figure can be checked by "
               "hand."),
        Sample("vale_2025_26", "Vale, 2025/26",
               "Today's regime: the ICB and six NHS trusts share a system plan that breaks even "
               "only with £52.0m of deficit support (held by the three deficit trusts), and the "
               "county council pools adult social care with the ICB outside the system control "
               "total; forecasts are £18.2m behind plan, with an elective recovery fund line "
               "and the ICB's mental health investment standard line."),
        Sample("pooled_budget_2", "Better Care Fund pooled budget (2 partners)",
               "The ICB and the county council share a section 75 pooled budget pro rata to "
               "contributions (£48.2m and £31.5m); it overspends by £4.7m."),
        Sample("corridor_2", "Risk corridor: plan and payer",
               "A plan with a £10m target amount and £11m of allowable costs, and its payer: for "
               "the ACA and Medicare Part D risk corridors."),
        Sample("mssp_2", "Shared savings: ACO and payer",
               "An accountable care organisation £5m (5%) under its £100m benchmark, and its "
               "payer: for the Medicare Shared Savings Program."),
        Sample("erf_2", "Elective recovery fund: trust and commissioner",
               "An acute trust with a £40.0m elective recovery fund allocation, £15.0m short of "
               "its £520.0m elective activity target (104% of a £500.0m baseline), and the "
               "commissioner that pays it: for the ERF presets."),
        Sample("nec_2", "Target cost contract: contractor and client",
               "A contractor forecast to overrun a £20m target by £3m (15%), and its client: "
               "for NEC target-cost share ranges."),
    )
}


def bundled_dir(folder: str) -> Path:
    """A folder shipped with riskshare (`sample_data`, `models`): inside the installed package
    as `riskshare/_<folder>`, else at the top of the source tree."""
    here = Path(__file__).resolve().parents[1]   # the riskshare package
    for candidate in (here / f"_{folder}", here.parent / folder):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(f"riskshare's {folder} folder is missing from this installation")


def data_dir() -> Path:
    """Where the sample folders live."""
    return bundled_dir("sample_data")


def list_samples() -> list[str]:
    """Names of the bundled sample systems, in registry order.

    Returns
    -------
    list of str
        The sample names, each one `load_sample` takes (e.g. "northshire_2018_19").
    """
    return list(SAMPLES)


def catalogue() -> pd.DataFrame:
    """One row per sample: title, members and description (for the CLI and the app)."""
    rows = []
    for s in SAMPLES.values():
        system = load_sample(s.name)
        rows.append({"name": s.name, "title": s.title, "members": system.n,
                     "description": s.description})
    return pd.DataFrame(rows).set_index("name")


def info(name: str) -> Sample:
    """The registry entry of the sample called `name`; UnknownSampleError, listing the samples,
    when there is none."""
    try:
        return SAMPLES[name]
    except KeyError:
        raise UnknownSampleError(f"no sample called '{name}' (samples: "
                                 f"{', '.join(SAMPLES)})") from None


def load_sample(name: str) -> System:
    """Load a bundled sample system by name (see `list_samples()`).

    Parameters
    ----------
    name : str
        The sample's name, e.g. "northshire_2018_19" or "workshop_4".

    Returns
    -------
    System
        The sample's members and system control total (money in £).

    Raises
    ------
    UnknownSampleError
        When there is no sample called `name` (the message lists the samples).
    """
    from riskshare.core.io import load_system

    return load_system(info(name).path)


def sample_monthly(name: str, system: System | None = None,
                   phasing: str = "even") -> Monthly | None:
    """The monthly table (plans and actuals month by month) bundled with a sample, if any.

    `northshire_2018_19` and `vale_2025_26` have one, closed to month 9 (December) for every
    member; the other samples have none.

    Parameters
    ----------
    name : str
        The sample's name, e.g. "vale_2025_26" (see `list_samples`).
    system : System, optional
        The system the table is read against (its members, and their control totals phase any
        plan left blank); default the sample itself (`load_sample(name)`), so pass a changed
        system only when it keeps the sample's members.
    phasing : str, default "even"
        How members the table gives no plan have their control totals phased (`PHASINGS` in
        `riskshare.core.monthly`).

    Returns
    -------
    Monthly or None
        Every member's twelve months (plan, actual and forecast in £), or None when the sample
        has no monthly table.

    Raises
    ------
    UnknownSampleError
        When there is no sample called `name` (the message lists the samples).
    ValidationError
        When `system` does not fit the sample's table (members it does not have, plans that do
        not add up to its control totals).
    """
    from riskshare.core.monthly import MONTHLY_FILE, load_monthly

    folder = info(name).path
    if not (folder / MONTHLY_FILE).is_file():
        return None
    return load_monthly(folder, load_sample(name) if system is None else system, phasing)


#: The public name (`rs.load_sample_monthly`), beside `load_sample`.
load_sample_monthly = sample_monthly


def sample_register(name: str, system: System | None = None):
    """The risk register bundled with a sample, if any.

    `northshire_2018_19` and `vale_2025_26` have one (winter pressure, CIP slippage, the pay
    award funding gap, ERF under-delivery, reserve releases, vacancy slippage, ...); the other
    samples have none.

    Parameters
    ----------
    name : str
        The sample's name (see `list_samples`).
    system : System, optional
        The system the register is read against; default the sample itself.

    Returns
    -------
    Register or None
        The register (`rs.load_register`), or None when the sample has none.

    Raises
    ------
    UnknownSampleError
        When there is no sample called `name`.
    ValidationError
        When `system` does not have the members the register names.
    """
    from riskshare.core.register import REGISTER_FILE, load_register

    folder = info(name).path
    if not (folder / REGISTER_FILE).is_file():
        return None
    return load_register(folder, load_sample(name) if system is None else system)


#: The public name (`rs.load_sample_register`).
load_sample_register = sample_register


# -- synthetic systems ----------------------------------------------------------------------------
# Kind mix and turnover ranges (£m) loosely follow English ICSs: a commissioner, a council, a few
# acute trusts, and community, mental health, ambulance, specialist and primary-care providers.
_MIX = {"acute": 0.30, "community": 0.14, "mental_health": 0.14, "ambulance": 0.06,
        "specialist": 0.08, "primary_care": 0.14, "local_authority": 0.07, "other": 0.07}
_TURNOVER_M = {"acute": (250, 900), "community": (80, 250), "mental_health": (120, 350),
               "ambulance": (40, 120), "specialist": (100, 400), "commissioner": (1000, 3500),
               "local_authority": (250, 700), "primary_care": (10, 60), "other": (20, 150)}
_PROVIDERS = {"acute", "community", "mental_health", "ambulance", "specialist"}


#: The most members `synthetic` draws (England's largest systems have a few dozen members).
MAX_SYNTHETIC = 100_000


def synthetic(n: int, seed: int = 0, name: str | None = None) -> System:
    """A plausible system of `n` members (n ≥ 1), reproducible from `seed`.

    The first member is the commissioner (ICB). Control totals lie within ±1.5% of turnover,
    forecasts differ from them by a draw of mean −0.3% and s.d. 1% of turnover, providers hold
    support worth 1–2.5% of turnover, and the system control total differs from the sum of
    organisational control totals by up to ±0.5% of the total turnover of trusts. Money is in
    whole pounds.
    """
    if not isinstance(n, (int, np.integer)) or isinstance(n, bool) or n < 1:
        raise UsageError(f"n must be a whole number of members, at least 1 (got {n!r})")
    if n > MAX_SYNTHETIC:
        raise UsageError(f"n must be at most {MAX_SYNTHETIC:,} members (got {n:,}): a system "
                         "larger than any in England, refused before anything is drawn")
    from riskshare.core.seed import check_seed

    bad_seed = check_seed(seed)
    if bad_seed:
        raise UsageError(f"{bad_seed[0].rule.removeprefix('the ')} (got {seed!r})")
    rng = np.random.default_rng(seed)
    kinds = ["commissioner"] + list(rng.choice(list(_MIX), size=n - 1, p=list(_MIX.values())))
    low = np.array([_TURNOVER_M[k][0] for k in kinds], dtype=float)
    high = np.array([_TURNOVER_M[k][1] for k in kinds], dtype=float)
    turnover = np.round(np.exp(rng.uniform(np.log(low), np.log(high))) * 10) * 100_000
    oct_ = np.round(turnover * rng.uniform(-0.015, 0.015, n), -4)
    forecast = np.round(oct_ + turnover * rng.normal(-0.003, 0.01, n), -4)
    provider = np.array([k in _PROVIDERS for k in kinds])
    support = np.where(provider, np.round(turnover * rng.uniform(0.01, 0.025, n), -5), 0.0)
    support[0] = np.round(turnover[0] * 0.005, -5)
    volatility = np.array([KINDS[k].default_volatility for k in kinds])
    volatility = np.round(volatility * rng.uniform(0.7, 1.3, n), 2)
    width = len(str(n))
    ids = [f"M{i:0{width}d}" for i in range(1, n + 1)]
    names = [f"{KINDS[k].label} {i}" for i, k in enumerate(kinds, start=1)]
    orgs = pd.DataFrame({"org_id": ids, "name": names, "kind": kinds, "turnover": turnover,
                         "control_total": oct_, "forecast": forecast, "support": support,
                         "volatility": volatility})
    trusts = turnover[provider].sum() if provider.any() else turnover.sum()
    sct = float(np.round(oct_.sum() + trusts * rng.uniform(-0.005, 0.005), -4))
    return System.from_frame(orgs, sct, name or f"Synthetic system ({n} members, seed {seed})",
                             "synthetic")
