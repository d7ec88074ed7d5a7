"""Shared tables of bad workshop sessions, shocks, simulation settings, optimiser conditions and
fairness requests (issue 13), for the library, CLI and app tests.

Each case is one defect and the fragments that must ALL appear in the message; `error` is the
riskshare error type expected. Sessions are the bundled `northshire_workshop` with one edit (or
the same session saved with its system inline, for the cases that edit members), so every case
is a real edit of a good file. The whole tables run in the library; the CLI and the app replay a
sample (`representative`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import riskshare as rs
from riskshare.workshop.session import load_session

REPO = Path(__file__).resolve().parents[1]
SESSION = (REPO / "sample_data" / "sessions" / "northshire_workshop.toml").read_text()


def inline_session() -> str:
    """The bundled session saved with its system inline (members as [[system.orgs]] rows)."""
    return load_session("northshire_workshop").to_toml()


@dataclass(frozen=True)
class BadFile:
    id: str
    text: str                  # the whole file (TOML text)
    expected: tuple[str, ...]  # fragments that must all appear in the message
    error: type = rs.ValidationError


def _edit(old: str, new: str, text: str = SESSION) -> str:
    assert old in text, old
    return text.replace(old, new, 1)


def _inline(old: str, new: str) -> str:
    return _edit(old, new, inline_session())


SHOCKS_LIST = "(efficiency_slip, provider_10m, winter_pressure)"

BAD_SESSIONS: tuple[BadFile, ...] = (
    # -- the file rule: a name in a file is never opened as a path --------------------------------
    BadFile("shock_absolute_path", _edit('shocks = ["winter_pressure"]',
                                         'shocks = ["/etc/passwd"]'),
            ("key 'steps[2].shocks'", "'/etc/passwd' is neither a [shocks] table of this "
             "session nor a bundled shock", SHOCKS_LIST)),
    BadFile("shock_relative_path", _edit('shocks = ["winter_pressure"]',
                                         'shocks = ["../../secret.toml"]'),
            ("key 'steps[2].shocks'", "'../../secret.toml' is neither")),
    BadFile("shock_path_to_a_real_bundled_file",
            _edit('shocks = ["winter_pressure"]',
                  'shocks = ["sample_data/shocks/winter_pressure.toml"]'),
            ("'sample_data/shocks/winter_pressure.toml' is neither",)),
    BadFile("preset_path", _edit('preset = "support_cliff_2018_19"',
                                 'preset = "models/standalone.toml"'),
            ("key 'agreements.A.preset'", "'models/standalone.toml' is not a preset")),
    BadFile("preset_absolute_path", _edit('preset = "support_cliff_2018_19"',
                                          'preset = "/etc/passwd"'),
            ("key 'agreements.A.preset'", "'/etc/passwd' is not a preset")),
    BadFile("sample_path", _edit('sample = "northshire_2018_19"',
                                 'sample = "sample_data/workshop_4"'),
            ("key 'system.sample'", "'sample_data/workshop_4' is not a bundled sample")),
    # -- work bounded ------------------------------------------------------------------------------
    BadFile("scenarios_beyond_the_memory_budget", _edit("n = 1000", "n = 1_000_000_000"),
            ("key 'scenarios.n'", "1,000,000,000 scenarios × 9 members would need about",
             "GB of memory", "RISKSHARE_MEMORY_BUDGET")),
    BadFile("fairness_step_beyond_the_time_budget", _edit("n = 1000", "n = 200_000"),
            ("key 'steps[4].judge'", "Judging fairness across 200,000 scenarios",
             "above the budget", "--allow-long")),
    BadFile("no_scenarios", _edit("n = 1000", "n = 0"),
            ("key 'scenarios.n'", "must be a whole number of scenarios, at least 1")),
    BadFile("seed_is_text", _edit("seed = 2018", 'seed = "abc"'),
            ("key 'scenarios.seed'", "'abc' the seed must be a whole number from 0 to "
             "4,294,967,295")),
    BadFile("seed_negative", _edit("seed = 2018", "seed = -1"),
            ("key 'scenarios.seed'", "-1 the seed must be a whole number")),
    BadFile("seed_too_large", _edit("seed = 2018", "seed = 1_099_511_627_776"),
            ("key 'scenarios.seed'", "the seed must be a whole number from 0 to 4,294,967,295")),
    BadFile("volatility_scale_huge", _edit("volatility_scale = 1.0", "volatility_scale = 1e9"),
            ("key 'scenarios.volatility_scale'", "must be a number ≥ 0 and at most 100")),
    BadFile("correlation_nan", _edit("correlation = 0.3", "correlation = nan"),
            ("key 'scenarios.correlation'", "must lie in [0, 1]")),
    # -- text shown on screen and in exports -------------------------------------------------------
    BadFile("title_with_a_control_character",
            _edit('title = "Northshire', 'title = "\\u0007Northshire'),
            ("key 'title'", "contains a control character (U+0007)")),
    BadFile("notes_with_a_control_character",
            _edit('title = "Where we start"\nnotes = """',
                  'title = "Where we start"\nnotes = """\\u0001'),
            ("key 'steps[1].notes'", "contains a control character (U+0001)")),
    BadFile("step_title_with_a_line_break",
            _edit('title = "Where we start"', 'title = "Where we\\nstart"'),
            ("key 'steps[1].title'", "(U+000A, a line break)")),
    BadFile("description_with_an_escape_character",
            _edit('description = "Nine members', 'description = "\\u001bNine members'),
            ("key 'description'", "contains a control character (U+001B)")),
    BadFile("agreement_label_with_a_control_character",
            _edit("[agreements.C]", '[agreements."C\\u0007"]'),
            ("key 'agreements'", "'C\\x07' is an agreement label, and it contains a control "
             "character (U+0007)")),
    # -- inline members: the same rules as any table -----------------------------------------------
    BadFile("inline_sct_nan", _inline("control_total = -4500000.0", "control_total = nan"),
            ("key 'system.control_total'", "nan the system control total must be a finite "
             "number")),
    BadFile("inline_decimal_comma", _inline("turnover = 512400000.0", 'turnover = "512400000,5"'),
            ("column 'turnover'", "is not a number riskshare reads", "a decimal comma")),
    BadFile("inline_control_total_beyond_the_limit",
            _inline("control_total = 1800000.0", "control_total = 1e13"),
            ("column 'control_total'", "must lie within ±£1,000,000,000,000")),
    BadFile("inline_name_is_a_list", _inline('name = "Northshire and Vale"', "name = [1, 2]"),
            ("key 'system.name'", "is a list, but must be text")),
    BadFile("inline_member_name_with_a_control_character",
            _inline('name = "Vale GP Federation"', 'name = "Vale GP\\u0000Federation"'),
            ("column 'name'", "contains a control character (U+0000)")),
    # -- inline shocks and what-ifs ----------------------------------------------------------------
    BadFile("inline_shock_beyond_the_limit",
            _edit('shocks = ["winter_pressure"]', 'shocks = ["huge"]')
            + '\n[shocks.huge]\nname = "Huge"\n[[shocks.huge.effects]]\ntarget = "all"\n'
              "amount = -1e13\n",
            ("key 'shocks.huge.effects[1].amount'", "must lie within ±£1,000,000,000,000")),
    BadFile("what_if_share_typed_as_a_percentage",
            SESSION + '\n[what_if]\nagreement = "B"\npool_share = 50\n',
            ("key 'what_if.pool_share'", "50 must be a number from 0 to 1")),
    BadFile("what_if_unknown_knob", SESSION + '\n[what_if]\nspeed = 2\n',
            ("key 'what_if.speed'", "unknown key")),
    # -- files that cannot be read at all ----------------------------------------------------------
    BadFile("nested_too_deeply", "x = " + "[" * 5000 + "]" * 5000 + "\n",
            ("nested too deeply to read",), rs.InputFileError),
    BadFile("not_toml", 'title = "unterminated\n', ("not valid TOML",), rs.InputFileError),
)

BAD_SHOCKS: tuple[BadFile, ...] = (
    BadFile("amount_beyond_the_limit",
            'name = "x"\n[[effects]]\ntarget = "all"\namount = 1e13\n',
            ("key 'effects[1].amount'", "must lie within ±£1,000,000,000,000")),
    BadFile("pct_beyond_the_limit",
            'name = "x"\n[[effects]]\ntarget = "all"\npct = -100000\n',
            ("key 'effects[1].pct'", "must lie within ±1,000 (% of the column)")),
    BadFile("amount_nan", 'name = "x"\n[[effects]]\ntarget = "all"\namount = nan\n',
            ("key 'effects[1].amount'", "must be a finite number")),
    BadFile("name_with_a_control_character",
            'name = "x\\u0007"\n[[effects]]\ntarget = "all"\namount = 1\n',
            ("key 'name'", "contains a control character (U+0007)")),
    BadFile("description_with_a_control_character",
            'name = "x"\ndescription = "a\\u0000b"\n[[effects]]\ntarget = "all"\namount = 1\n',
            ("key 'description'", "contains a control character (U+0000)")),
    BadFile("description_is_a_table",
            'name = "x"\ndescription = {a = 1}\n[[effects]]\ntarget = "all"\namount = 1\n',
            ("key 'description'", "must be text")),
    BadFile("both_pct_and_amount",
            'name = "x"\n[[effects]]\ntarget = "all"\namount = 1\npct = 1\n',
            ("key 'effects[1]'", "needs exactly one of 'pct' or 'amount'")),
    BadFile("target_is_a_path",
            'name = "x"\n[[effects]]\ntarget = "/etc/passwd"\namount = 1\n',
            ("key 'effects[1].target'", "must be 'all', 'kind:<kind>' or 'member:<org_id>'")),
    BadFile("nested_too_deeply", "x = " + "[" * 5000 + "]" * 5000 + "\n",
            ("nested too deeply to read",), rs.InputFileError),
)


@dataclass(frozen=True)
class BadCall:
    """A call of the public API with one bad argument: `call(system)` must raise `error` with
    every fragment in its message."""

    id: str
    call: object
    expected: tuple[str, ...]
    error: type = rs.ValidationError
    kwargs: dict = field(default_factory=dict)


def _simulate(**kw):
    return lambda system: rs.simulate(system, **{"n": 100, **kw})


def _optimise(**constraints):
    return lambda system: rs.optimise(system, constraints=constraints)


BAD_CALLS: tuple[BadCall, ...] = (
    # -- simulation settings -----------------------------------------------------------------------
    # 48 bytes per scenario and member: 10⁹ × 9 × 48 = 4.32e11 bytes = 402.3 GiB; 10⁷ × 9 × 48
    # = 4.32e9 = 4.0 GiB, and the 2 GiB budget holds 2³¹ // (9 × 48) = 4,971,026 scenarios
    BadCall("scenarios_1e9", _simulate(n=10**9),
            ("key 'n'", "1,000,000,000 scenarios × 9 members would need about 402.3 GB",
             "use at most", "RISKSHARE_MEMORY_BUDGET")),
    BadCall("scenarios_1e7", _simulate(n=10**7),
            ("key 'n'", "10,000,000 scenarios × 9 members would need about 4.0 GB",
             "above riskshare's budget of 2.0 GB", "use at most 4,971,026 scenarios")),
    BadCall("seed_text", _simulate(seed="abc"),
            ("key 'seed'", "'abc' the seed must be a whole number from 0 to 4,294,967,295")),
    BadCall("seed_negative", _simulate(seed=-1), ("key 'seed'", "-1 the seed must be")),
    BadCall("seed_too_large", _simulate(seed=2**32), ("key 'seed'",)),
    BadCall("seed_fraction", _simulate(seed=1.5), ("key 'seed'", "1.5 the seed must be")),
    BadCall("volatility_scale_huge", _simulate(volatility_scale=1e9),
            ("key 'volatility_scale'", "at most 100")),
    BadCall("correlation_nan", _simulate(correlation=float("nan")),
            ("key 'correlation'", "must lie in [0, 1]")),
    BadCall("scenarios_true", _simulate(n=True),
            ("key 'n'", "must be a whole number of scenarios")),
    BadCall("shock_named_by_a_missing_path", _simulate(shocks=["/no/such/shock.toml"]),
            ("'/no/such/shock.toml' is neither a shock preset",), rs.InputFileError),
    # -- optimiser conditions ------------------------------------------------------------------------
    BadCall("pool_1e20", _optimise(pool=1e20),
            ("key 'pool'", "must lie within ±£1,000,000,000,000 (10¹²)")),
    BadCall("fixed_beyond_the_limit", _optimise(fixed={"NGH": 1e13}),
            ("key 'fixed.NGH'", "must lie within ±£1,000,000,000,000")),
    BadCall("max_charge_percent_huge", _optimise(max_charge=1e6),
            ("key 'max_charge'", "must lie within ±1,000 (% of the scale)")),
    BadCall("floor_gbp_nan", _optimise(floor_gbp=float("nan")),
            ("key 'floor_gbp'", "must be a finite number")),
    BadCall("min_retention_typed_as_a_percentage", _optimise(min_retention=50),
            ("key 'min_retention'", "must be a share between 0 and 1")),
    BadCall("max_award_gbp_negative", _optimise(max_award_gbp=-1),
            ("key 'max_award_gbp'", "must be ≥ 0")),
    # -- fairness: time bounded before anything runs -----------------------------------------------
    BadCall("fairness_across_many_scenarios",
            lambda system: rs.games.certificate(system, "full_pooling_turnover",
                                                rs.simulate(system, 100_000, seed=1)),
            ("Judging fairness across 100,000 scenarios checks 511 members and groups",
             "above the budget of 60 seconds", "Use at most"), rs.BudgetError),
    # -- the wrong thing passed ----------------------------------------------------------------------
    BadCall("apply_to_a_file_name",
            lambda system: rs.apply("standalone", "northshire.csv"),
            ("apply() takes a riskshare System", "not str"), rs.ArgumentTypeError),
    BadCall("variances_text", lambda system: rs.apply("standalone", system, ["x"] * 9),
            ("column 'variances'", "must be numbers of pounds")),
    BadCall("variances_beyond_the_limit",
            lambda system: rs.apply("standalone", system, [3e12] * 9),
            ("column 'variances'", "must lie within ±£2,000,000,000,000")),
    BadCall("empty_agreement_text", lambda system: rs.load_agreement(""),
            ("the agreement text is empty",), rs.InputFileError),
    BadCall("agreement_is_a_number", lambda system: rs.load_agreement(42),
            ("expected a preset name, a .toml path or TOML text, got int",), rs.InputFileError),
    BadCall("explain_a_non_member",
            lambda system: rs.apply("standalone", system).explain("ZZZ"),
            ("'ZZZ' is not a member",), rs.NotFoundError),
    BadCall("unrealistic_pct_negative", lambda system: rs.reconcile(system, -1),
            ("unrealistic_pct must be a percent number ≥ 0",), rs.UsageError),
)


def representative(cases: tuple, every: int = 3) -> tuple:
    """Every `every`-th case: the sample replayed through the CLI and the app."""
    return tuple(c for i, c in enumerate(cases) if i % every == 0)


__all__ = ["BadFile", "BadCall", "BAD_SESSIONS", "BAD_SHOCKS", "BAD_CALLS", "SESSION",
           "inline_session", "representative"]
