"""One shared table of bad risk-share agreement files, for the library, CLI and app tests.

Every case is a whole agreement TOML text with one defect (or, for `several_problems`, three) and
the fragments that must ALL appear in the error message. The fragments name the key path (as
"key 'gains.bands[2].upto'", the way `Problem` prints a key) and the rule, so a test passing
on them proves the message is precise.

`at` says where the defect is caught:

* "load":  `rs.load_agreement(case.toml)` raises `rs.ValidationError` (the file on its own is
  wrong: unknown keys, bands out of order, shares outside [0, 1], negative caps, ...);
* "apply": `rs.load_agreement(case.toml)` works and
  `rs.apply(agreement, rs.load_sample(case.system))` raises `rs.ValidationError` (the agreement
  does not fit the system: members not in it, columns missing or not numeric).

Every case in `BAD_AGREEMENTS` is refused with a `ValidationError` by today's library. A TOML
syntax error is a different kind of failure (`rs.InputFileError`: the file cannot be read at all),
so it is kept out of the table: see `BAD_TOML_SYNTAX`. Cases that expose a known library bug (the
message is not what it should be) are kept in `KNOWN_BUG_AGREEMENTS`, with `bug` saying what is
wrong; `bad_agreement_params(KNOWN_BUG_AGREEMENTS)` marks them `xfail(strict=True)`.

`GOOD_AGREEMENT` is a valid agreement using most features; every bad case in the "load" group
that edits a section is a small variation of the same shapes.
"""

from __future__ import annotations

from dataclasses import dataclass

#: A valid agreement (applies cleanly to workshop_4) touching every section.
GOOD_AGREEMENT = '''\
name = "Test agreement"
description = "Half of each variance beyond 0.5% pooled, capped; reserve; tapered support."
sample = "workshop_4"
scale = "turnover"
exempt = ["D"]

[gains]
bands = [{ upto = 0.5, pool = 0.0 }, { upto = 2.0, pool = 0.5 }, { pool = 0.25 }]
max_pool = 3.0

[losses]
bands = [{ upto = 0.5, pool = 0.0 }, { pool = 0.5 }]
threshold = 0.1
below_threshold_pool = 0.0
max_keep = 5.0

[pool]
distribute = "basis"
basis = "turnover"
max_charge = 1.0
max_award = 1.0

[reserve]
holder = "D"
amount = 500_000

[support]
test = "organisation"
system_share = 0.5
after_sharing = true
taper = 1.0
unearned = "redistribute"
'''

#: The valid top-level keys, as the message lists them.
VALID_TOP_KEYS = ("valid keys: name, description, sample, scale, exempt, gains, losses, pool, "
                  "reserve, support")
VALID_SCHEDULE_KEYS = "valid keys: bands, threshold, below_threshold_pool, max_pool, max_keep"
VALID_POOL_KEYS = "valid keys: distribute, basis, counterparty, rule, max_charge, max_award"
VALID_SUPPORT_KEYS = "valid keys: test, system_share, after_sharing, taper, unearned"
VALID_RESERVE_KEYS = "valid keys: holder, amount"
VALID_BAND_KEYS = "valid keys: upto, pool"
VALID_RULES = "must be one of: proportional, cea, cel, talmud, random_arrival"
WORKSHOP_MEMBERS = "(members: A, B, C, D)"
WORKSHOP_NUMERIC = "turnover, control_total, forecast, support, volatility, net_turnover"


@dataclass(frozen=True)
class BadAgreement:
    id: str                    # short slug
    toml: str                  # a whole agreement TOML text
    expected: tuple[str, ...]  # fragments that must ALL appear in the error message
    system: str = "workshop_4"  # the sample it is applied to (system-dependent checks fail
    #                             only at apply)
    at: str = "load"           # "load": rs.load_agreement raises; "apply": load works,
    #                            rs.apply(agreement, rs.load_sample(system)) raises
    bug: str = ""              # non-empty (KNOWN_BUG_AGREEMENTS only): what the library gets wrong


def _doc(*sections: str, name: str = "Bad agreement") -> str:
    """A TOML text: the name line, then the given sections."""
    return "\n".join([f'name = "{name}"', *sections]) + "\n"


def _losses(*lines: str) -> str:
    return "\n".join(["[losses]", *lines])


def _gains(*lines: str) -> str:
    return "\n".join(["[gains]", *lines])


def _pool(*lines: str) -> str:
    return "\n".join(["[pool]", *lines])


def _support(*lines: str) -> str:
    return "\n".join(["[support]", *lines])


def _reserve(*lines: str) -> str:
    return "\n".join(["[reserve]", *lines])


BAD_AGREEMENTS: tuple[BadAgreement, ...] = (
    # -- unknown keys ----------------------------------------------------------------------------
    BadAgreement("unknown_top_level_key", _doc('colour = "red"'),
                 ("1 problem", "key 'colour'", "unknown key", VALID_TOP_KEYS)),
    BadAgreement("unknown_key_in_gains", _doc(_gains("bands = [{ pool = 0.5 }]", "maxpool = 1.0")),
                 ("key 'gains.maxpool'", "unknown key", VALID_SCHEDULE_KEYS)),
    BadAgreement("unknown_key_in_losses", _doc(_losses("bands = [{ pool = 0.5 }]",
                                                       "treshold = 1.0")),
                 ("key 'losses.treshold'", "unknown key", VALID_SCHEDULE_KEYS)),
    BadAgreement("unknown_key_in_pool", _doc(_pool('bais = "equal"')),
                 ("key 'pool.bais'", "unknown key", VALID_POOL_KEYS)),
    BadAgreement("unknown_key_in_support", _doc(_support("tapper = 1.0")),
                 ("key 'support.tapper'", "unknown key", VALID_SUPPORT_KEYS)),
    BadAgreement("unknown_key_in_reserve", _doc(_reserve('holder = "D"', "amount = 1000",
                                                         "limit = 5")),
                 ("key 'reserve.limit'", "unknown key", VALID_RESERVE_KEYS)),
    BadAgreement("unknown_key_in_band",
                 _doc(_losses("bands = [{ upto = 1.0, pool = 0.5, cap = 3.0 }, { pool = 0.0 }]")),
                 ("key 'losses.bands[1].cap'", "unknown key", VALID_BAND_KEYS)),
    # -- bands -------------------------------------------------------------------------------------
    BadAgreement("bands_out_of_order",
                 _doc(_losses("bands = [{ upto = 2.0, pool = 0.5 }, { upto = 1.0, pool = 0.2 }, "
                              "{ pool = 0.0 }]")),
                 ("key 'losses.bands[2].upto'",
                  "bands must rise: 'upto' 1 is not above the previous band's 2")),
    BadAgreement("bands_equal_upto",
                 _doc(_gains("bands = [{ upto = 2.0, pool = 0.5 }, { upto = 2.0, pool = 0.2 }, "
                             "{ pool = 0.0 }]")),
                 ("key 'gains.bands[2].upto'",
                  "bands must rise: 'upto' 2 is not above the previous band's 2")),
    BadAgreement("bands_overlap_third",
                 _doc(_gains("bands = [{ upto = 1.0, pool = 0.0 }, { upto = 4.0, pool = 0.5 }, "
                             "{ upto = 3.0, pool = 0.2 }, { pool = 0.8 }]")),
                 ("key 'gains.bands[3].upto'",
                  "bands must rise: 'upto' 3 is not above the previous band's 4")),
    BadAgreement("last_band_has_upto",
                 _doc(_gains("bands = [{ upto = 2.0, pool = 0.5 }, { upto = 3.0, pool = 0.2 }]")),
                 ("key 'gains.bands[2].upto'", "the last band must have no 'upto'",
                  "add a final band such as { pool = 0.0 }")),
    BadAgreement("non_last_band_without_upto",
                 _doc(_gains("bands = [{ pool = 0.5 }, { upto = 3.0, pool = 0.2 }, "
                             "{ pool = 0.0 }]")),
                 ("key 'gains.bands[1]'", "only the last band may have no 'upto'")),
    BadAgreement("band_without_pool",
                 _doc(_gains("bands = [{ upto = 1.0 }, { pool = 0.2 }]")),
                 ("key 'gains.bands[1]'", "needs a 'pool' share")),
    BadAgreement("bands_empty", _doc(_gains("bands = []")),
                 ("key 'gains.bands'", "must be a non-empty list of {upto, pool} tables")),
    BadAgreement("band_upto_text",
                 _doc(_gains('bands = [{ upto = "2%", pool = 0.5 }, { pool = 0.0 }]')),
                 ("key 'gains.bands[1].upto'", "'2%' must be a finite number")),
    BadAgreement("band_pool_above_one", _doc(_gains("bands = [{ pool = 1.5 }]")),
                 ("key 'gains.bands[1].pool'", "1.5 is a share and must lie in [0, 1]")),
    BadAgreement("band_pool_negative", _doc(_losses("bands = [{ pool = -0.1 }]")),
                 ("key 'losses.bands[1].pool'", "-0.1 is a share and must lie in [0, 1]")),
    # -- negative caps -----------------------------------------------------------------------------
    BadAgreement("max_pool_negative", _doc(_losses("bands = [{ pool = 0.5 }]", "max_pool = -1.0")),
                 ("key 'losses.max_pool'", "-1 must be at least 0")),
    BadAgreement("max_keep_negative", _doc(_gains("bands = [{ pool = 0.5 }]", "max_keep = -2.5")),
                 ("key 'gains.max_keep'", "-2.5 must be at least 0")),
    BadAgreement("threshold_negative", _doc(_gains("bands = [{ pool = 0.5 }]",
                                                   "threshold = -1.0")),
                 ("key 'gains.threshold'", "-1 must be at least 0")),
    BadAgreement("below_threshold_pool_above_one",
                 _doc(_gains("bands = [{ pool = 0.5 }]", "threshold = 1.0",
                             "below_threshold_pool = 2.0")),
                 ("key 'gains.below_threshold_pool'", "2 is a share and must lie in [0, 1]")),
    BadAgreement("below_threshold_pool_without_threshold",
                 _doc(_gains("bands = [{ pool = 0.5 }]", "below_threshold_pool = 0.5")),
                 ("key 'gains.below_threshold_pool'", "has no effect without a 'threshold'")),
    BadAgreement("max_charge_negative", _doc(_pool("max_charge = -1.0")),
                 ("key 'pool.max_charge'", "-1 must be at least 0")),
    BadAgreement("max_award_negative", _doc(_pool("max_award = -0.5")),
                 ("key 'pool.max_award'", "-0.5 must be at least 0")),
    BadAgreement("taper_negative", _doc(_support("taper = -1.0")),
                 ("key 'support.taper'", "-1 must be at least 0")),
    # -- pool --------------------------------------------------------------------------------------
    BadAgreement("distribute_unknown", _doc(_pool('distribute = "everyone"')),
                 ("key 'pool.distribute'",
                  "'everyone' must be one of: basis, counterparty, claims")),
    BadAgreement("counterparty_missing", _doc(_pool('distribute = "counterparty"')),
                 ("key 'pool.counterparty'",
                  "distribute = 'counterparty' needs a 'counterparty' member")),
    BadAgreement("counterparty_without_distribute_counterparty",
                 _doc(_pool('counterparty = "D"')),
                 ("key 'pool.counterparty'", "is only used with distribute = 'counterparty'")),
    BadAgreement("rule_unknown", _doc(_pool('distribute = "claims"', 'rule = "biggest_first"')),
                 ("key 'pool.rule'", "'biggest_first'", VALID_RULES)),
    BadAgreement("rule_without_claims", _doc(_pool('rule = "cea"')),
                 ("key 'pool.rule'", "is only used with distribute = 'claims'")),
    BadAgreement("inline_weights_all_zero", _doc(_pool("basis = { A = 0, B = 0, C = 0, D = 0 }")),
                 ("key 'pool.basis'", "inline weights are all zero")),
    BadAgreement("inline_weight_negative", _doc(_pool("basis = { A = -1, B = 1, C = 1, D = 1 }")),
                 ("key 'pool.basis.A'", "-1 must be at least 0")),
    # -- support -----------------------------------------------------------------------------------
    BadAgreement("support_test_unknown", _doc(_support('test = "region"')),
                 ("key 'support.test'", "'region' must be one of: organisation, system, none")),
    BadAgreement("system_share_above_one", _doc(_support("system_share = 1.2")),
                 ("key 'support.system_share'", "1.2 is a share and must lie in [0, 1]")),
    BadAgreement("system_share_negative", _doc(_support("system_share = -0.5")),
                 ("key 'support.system_share'", "-0.5 is a share and must lie in [0, 1]")),
    BadAgreement("system_share_with_system_test",
                 _doc(_support('test = "system"', "system_share = 0.5")),
                 ("key 'support.system_share'", "is only used with test = 'organisation'")),
    BadAgreement("after_sharing_not_boolean", _doc(_support('after_sharing = "yes"')),
                 ("key 'support.after_sharing'", "'yes' must be true or false")),
    BadAgreement("unearned_unknown", _doc(_support('unearned = "kept"')),
                 ("key 'support.unearned'", "'kept' must be one of: lost, redistribute")),
    # -- top level ---------------------------------------------------------------------------------
    BadAgreement("name_missing", 'description = "no name"\n',
                 ("key 'name'", "every agreement needs a non-empty 'name'")),
    BadAgreement("name_blank", 'name = "   "\n',
                 ("key 'name'", "every agreement needs a non-empty 'name'")),
    BadAgreement("exempt_not_a_list", _doc('exempt = "A"'),
                 ("key 'exempt'", "must be a list of org_ids")),
    BadAgreement("section_not_a_table", _doc("gains = 3"),
                 ("key 'gains'", "must be a table")),
    # -- reserve -----------------------------------------------------------------------------------
    BadAgreement("reserve_without_holder", _doc(_reserve("amount = 1_000_000")),
                 ("key 'reserve.holder'", "needs a 'holder' member")),
    BadAgreement("reserve_amount_negative", _doc(_reserve('holder = "D"', "amount = -5.0")),
                 ("key 'reserve.amount'", "-5 must be at least 0")),
    # -- several at once ---------------------------------------------------------------------------
    BadAgreement("several_problems",
                 _doc("colour = 1", _gains("bands = [{ pool = 1.5 }]"), _support('test = "x"')),
                 ("3 problems", "key 'colour': unknown key",
                  "key 'gains.bands[1].pool': 1.5 is a share and must lie in [0, 1]",
                  "key 'support.test': 'x' must be one of: organisation, system, none")),
    # -- caught when applied to a system -----------------------------------------------------------
    BadAgreement("counterparty_not_a_member",
                 _doc(_pool('distribute = "counterparty"', 'counterparty = "Z"')),
                 ("1 problem in agreement 'Bad agreement' on Workshop system 2019/20",
                  "key 'pool.counterparty'", "names 'Z', which is not a member of the system",
                  WORKSHOP_MEMBERS), at="apply"),
    BadAgreement("reserve_holder_not_a_member", _doc(_reserve('holder = "Z"', "amount = 1.0")),
                 ("key 'reserve.holder'", "names 'Z', which is not a member of the system",
                  WORKSHOP_MEMBERS), at="apply"),
    BadAgreement("exempt_not_a_member", _doc('exempt = ["A", "Q"]'),
                 ("key 'exempt'", "names 'Q', which is not a member of the system",
                  WORKSHOP_MEMBERS), at="apply"),
    BadAgreement("scale_column_missing", _doc('scale = "contribution"'),
                 ("key 'scale'", "'contribution' is not a numeric column of the system",
                  f"(numeric columns: {WORKSHOP_NUMERIC})"), at="apply"),
    BadAgreement("scale_column_not_numeric", _doc('scale = "kind"'),
                 ("key 'scale'", "'kind' is not a numeric column of the system"), at="apply"),
    BadAgreement("scale_column_has_zero", _doc('scale = "support"'),
                 ("key 'scale'", "the scale column 'support' must be > 0 for every member",
                  "(not for D)"), at="apply"),
    BadAgreement("scale_column_negative", _doc('scale = "control_total"'),
                 ("key 'scale'", "the scale column 'control_total' must be > 0",
                  "(not for A, C, D)"), at="apply"),
    BadAgreement("basis_column_missing", _doc(_pool('basis = "contribution"')),
                 ("key 'pool.basis'", "'contribution' is not a numeric column of the system",
                  "use 'equal'", "or an inline table of weights"), at="apply"),
    BadAgreement("basis_column_not_numeric", _doc(_pool('basis = "name"')),
                 ("key 'pool.basis'", "'name' is not a numeric column of the system"),
                 at="apply"),
    BadAgreement("basis_column_negative", _doc(_pool('basis = "control_total"')),
                 ("key 'pool.basis'", "the basis column 'control_total' must be ≥ 0 and not "
                  "all zero"), at="apply"),
    BadAgreement("inline_weights_miss_a_member", _doc(_pool("basis = { A = 1, B = 1, C = 1 }")),
                 ("key 'pool.basis'", "inline weights miss members D"), at="apply"),
    BadAgreement("inline_weights_name_a_non_member",
                 _doc(_pool("basis = { A = 1, B = 1, C = 1, D = 1, E = 2 }")),
                 ("key 'pool.basis'", "names 'E', which is not a member of the system"),
                 at="apply"),
    BadAgreement("counterparty_not_a_member_of_corridor",
                 _doc(_pool('distribute = "counterparty"', 'counterparty = "A"')),
                 ("key 'pool.counterparty'", "names 'A'", "(members: PLAN, PAYER)"),
                 system="corridor_2", at="apply"),
    BadAgreement("reserve_without_amount", _doc(_reserve('holder = "D"')),
                 ("key 'reserve.amount'", "needs an 'amount'")),
    # -- issue 13: shares never clamped, money and percentages bounded, text shown as text ---------
    BadAgreement("share_typed_as_a_percentage", _doc(_losses("bands = [{ pool = 50 }]")),
                 ("key 'losses.bands[1].pool'", "50 is a share and must lie in [0, 1]",
                  "(a fraction: for 50% write 0.5)")),
    BadAgreement("system_share_typed_as_a_percentage", _doc(_support("system_share = 50")),
                 ("key 'support.system_share'", "for 50% write 0.5")),
    BadAgreement("reserve_beyond_the_limit", _doc(_reserve('holder = "D"', "amount = 1e13")),
                 ("key 'reserve.amount'", "must lie within ±£1,000,000,000,000 (10¹²)")),
    BadAgreement("cap_beyond_the_limit", _doc(_pool("max_charge = 1e20")),
                 ("key 'pool.max_charge'", "must be at most 1,000 (% of the scale)")),
    BadAgreement("taper_beyond_the_limit", _doc(_support("taper = 5000")),
                 ("key 'support.taper'", "must be at most 1,000 (% of the scale)")),
    BadAgreement("inline_weight_beyond_the_limit",
                 _doc(_pool("basis = { A = 1e13, B = 1, C = 1, D = 1 }")),
                 ("key 'pool.basis.A'", "must lie within ±£1,000,000,000,000")),
    BadAgreement("name_with_a_control_character", 'name = "Half\\u0007 and half"\n',
                 ("key 'name'", "contains a control character (U+0007)")),
    BadAgreement("description_with_a_control_character",
                 _doc('description = "a\\u0000b"'),
                 ("key 'description'", "contains a control character (U+0000)")),
)

assert len({c.id for c in BAD_AGREEMENTS}) == len(BAD_AGREEMENTS), "ids must be unique"
assert all(c.at in ("load", "apply") and not c.bug for c in BAD_AGREEMENTS)

#: Not valid TOML at all: `rs.load_agreement` raises `rs.InputFileError` (not ValidationError).
BAD_TOML_SYNTAX = BadAgreement("invalid_toml_syntax", 'name = "unterminated\n[gains\n',
                               ("not valid TOML",))

#: Cases whose message is not what it should be today (see `bug`); the expected fragments are
#: what the message *should* say. Filled in by tests/unit/agreements/test_agreements.py's findings.
KNOWN_BUG_AGREEMENTS: tuple[BadAgreement, ...] = ()


def bad_agreement_params(cases: tuple[BadAgreement, ...] = BAD_AGREEMENTS) -> list:
    """`pytest.param`s with ids; known-bug cases marked `xfail(strict=True)`."""
    import pytest

    return [pytest.param(c, id=c.id,
                         marks=[pytest.mark.xfail(strict=True, reason="BUG: " + c.bug)]
                         if c.bug else [])
            for c in cases]


def representative(cases: tuple[BadAgreement, ...] = BAD_AGREEMENTS, every: int = 3) -> tuple:
    """Every `every`-th case, and every case caught only on applying: the sample replayed
    through the app (the library and the CLI replay the whole table)."""
    return tuple(c for i, c in enumerate(cases) if i % every == 0 or c.at == "apply")


__all__ = ["BadAgreement", "BAD_AGREEMENTS", "BAD_TOML_SYNTAX", "GOOD_AGREEMENT",
           "KNOWN_BUG_AGREEMENTS", "bad_agreement_params", "representative"]

#: An agreement wrong in every way a stranger might try, at once: every problem of its own and,
#: with a system, its scale and exempt members are reported in one pass.
NONSENSE = """name = "Nonsense"
scale = "banana"
exempt = ["NOPE"]
colour = "red"

[gains]
bands = [{ pool = 1.5, upto = 2.0 }, { pool = -1 }]
max_pool = -3

[pool]
distribute = "somewhere"
rule = "talmud"
max_award = "lots"

[support]
test = "maybe"
taper = -1
"""
