"""An agreement in plain English, written from the parameters in force.

The `name` and `description` of an agreement are the user's own words (a preset's are written
for the preset's parameters); what the agreement *does* is always said by this module, from
the parameters themselves, so an edited cap or band is never described as it was:

- `explain(agreement)`: one sentence per layer (schedules, exempt members, distribution, caps,
  reserve, support), in the order the engine applies them;
- `summary(agreement)`: those sentences as one paragraph;
- `headline(agreement)`: the same in a few words, for a sidebar or a picker;
- `edited(agreement)` / `title(agreement)`: whether the name and description were written for
  other parameters (`Agreement.description_for`), and the name marked "(edited)" if so;
- `fit(agreement, system)`: "" when the agreement can be applied to the system, else why not
  in a few words ("needs member PAYER and column target, not in this system");
- `toml_header(agreement)`: the summary as TOML comment lines (`Agreement.to_toml` writes it).

Units: every percentage is a percent number of the agreement's scale column ("3% of target");
shares of a band are shown as percentages of the pound ("50%"); money (a reserve) in £m.
Gains are favourable variances (surplus +), losses adverse ones; a member "pools" part of its
own variance and "keeps" (a gain) or "bears" (a loss) the rest.

This module reads an Agreement but does not import `spec`, which imports it for `to_toml`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from riskshare.core.errors import visible
from riskshare.core.format import amount
from riskshare.core.schema import numeric_columns

if TYPE_CHECKING:
    from riskshare.agreements.spec import Agreement, Band, Schedule
    from riskshare.core.system import System

__all__ = ["explain", "summary", "headline", "edited", "title", "fit", "toml_header",
           "EDITED", "EDITED_NOTE"]

#: The mark after a name written for other parameters.
EDITED = "(edited)"
#: What the mark means, in a sentence.
EDITED_NOTE = ("The name and description were written for earlier parameters; the parameters "
               "have been edited since.")

RULE_WORDS = {"proportional": "in proportion to their shortfalls",
              "cea": "by constrained equal awards", "cel": "by constrained equal losses",
              "talmud": "by the Talmud rule", "random_arrival": "by the random-arrival rule"}
RULE_SHORT = {"proportional": "proportional", "cea": "constrained equal awards",
              "cel": "constrained equal losses", "talmud": "Talmud", "random_arrival":
              "random arrival"}


# -- numbers in words ------------------------------------------------------------------------------
def pct(percent: float) -> str:
    """A percent number of scale, as written in an agreement: 0.5 -> '0.5%', 2.0 -> '2%'."""
    return f"{round(float(percent), 4):,g}%"


def share(fraction: float) -> str:
    """A share of a pound: 0 -> 'none', 1 -> 'all', 0.5 -> '50%', 1/3 -> '33.33%'."""
    if fraction == 0:
        return "none"
    if fraction == 1:
        return "all"
    return f"{round(float(fraction) * 100, 2):g}%"


def _text(value: object) -> str:
    """A name from the agreement or the system (an org_id, a column) on one visible line."""
    return visible(str(value)).replace("\n", "\\n")


def _join(words: list[str]) -> str:
    """'a', 'a and b', 'a, b and c'."""
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]


# -- the schedules ---------------------------------------------------------------------------------
def _band_parts(bands: tuple[Band, ...], scale: str) -> list[str]:
    """'none of the part up to 0.5% of turnover', '50% of the part beyond 0.5%'."""
    parts, low = [], 0.0
    for i, band in enumerate(bands):
        if i == 0:
            where = f"up to {pct(band.upto or 0)} of {scale}"
        elif band.upto is None:
            where = f"beyond {pct(low)}"
        else:
            where = f"from {pct(low)} to {pct(band.upto)}"
        parts.append(f"{share(band.pool)} of the part {where}")
        low = band.upto if band.upto is not None else low
    return parts


def _pools(bands: tuple[Band, ...], scale: str, from_first: bool) -> str:
    """What the bands pool: 'all of it', '60% of it, from the first £', or band by band."""
    if len(bands) == 1:
        return f"{share(bands[0].pool)} of it" + (", from the first £" if from_first else "")
    return _join(_band_parts(bands, scale))


def _schedule_sentence(s: Schedule, side: str, scale: str) -> str:
    """One sentence for a schedule; `side` is 'gain', 'loss' or 'gain or a loss'."""
    keep = {"gain": "keeps", "loss": "bears"}.get(side, "keeps or bears")
    if s.threshold is not None:
        t = pct(s.threshold)
        text = (f"Of a {side} below {t} of {scale}, a member pools {share(s.below_threshold_pool)}"
                f" of it; of a {side} of {t} or more, it pools "
                f"{_pools(s.bands, scale, from_first=True)}")
    else:
        text = f"Of a {side}, a member pools {_pools(s.bands, scale, from_first=False)}"
    caps = scale if s.caps_of is None else _text(s.caps_of)
    if s.max_pool is not None:
        text += f"; it pools at most {pct(s.max_pool)} of {caps}"
    if s.max_keep is not None:
        text += f"; it {keep} at most {pct(s.max_keep)} of {caps} and the rest is pooled"
    return text + "."


def _line(a: Agreement) -> str:
    """The sentence for a `[variance]` line, or ""."""
    line = a.variance
    if line is None:
        return ""
    actual, plan = _text(line.actual), _text(line.plan)
    if line.favourable == "under":
        measured = (f"{plan} − {actual}. A shortfall against {plan} counts as the line's gain "
                    f"(the part pooled is clawed back from the member) and {actual} above "
                    f"{plan} as its loss (the part pooled is paid to the member)")
    else:
        measured = (f"{actual} − {plan}: {actual} above {plan} is the line's gain, below it "
                    "its loss")
    return (f"The schedules read the line {measured}. The member's own variance (forecast − "
            "control total) is not shared: the line's pooled amounts come on top of it.")


def _schedules(a: Agreement, scale: str) -> list[str]:
    if a.gains.shares_nothing and a.losses.shares_nothing:
        return ["Each member keeps all of a gain and bears all of a loss: nothing is pooled."]
    if a.gains == a.losses:
        return [_schedule_sentence(a.gains, "gain or a loss", scale)]
    return [("A member keeps all of a gain." if a.gains.shares_nothing
             else _schedule_sentence(a.gains, "gain", scale)),
            ("A member bears all of a loss." if a.losses.shares_nothing
             else _schedule_sentence(a.losses, "loss", scale))]


def pools_nothing(a: Agreement) -> bool:
    """True when neither schedule can put anything into the pool."""
    return a.gains.shares_nothing and a.losses.shares_nothing


# -- the pool --------------------------------------------------------------------------------------
def _basis(a: Agreement) -> str:
    basis = a.pool.basis
    if isinstance(basis, tuple):
        total = sum(w for _, w in basis) or 1.0
        return "by agreed weights (" + ", ".join(
            f"{_text(m)} {round(100 * w / total, 1):g}%" for m, w in basis) + ")"
    if basis == "equal":
        return "equally between the members"
    return f"pro rata to {COLUMN_WORDS.get(basis, _text(basis))}"


#: Columns named in words where their name reads badly in a sentence.
COLUMN_WORDS = {"net_turnover": "net turnover"}


def _distribution(a: Agreement, scale: str) -> str:
    p = a.pool
    if p.distribute == "counterparty":
        who = _text(p.counterparty)
        return (f"The whole net pool goes to {who}: it takes a net pooled gain and bears a net "
                "pooled loss.")
    if p.distribute == "claims":
        return ("A net pooled gain goes first to members still short of their control total, "
                f"{RULE_WORDS.get(p.rule, p.rule)}; the rest of a gain, and any net pooled loss, "
                f"is shared {_basis(a)}.")
    if p.distribute == "optimise":
        return (f"The net pool lifts the worst-placed member (as % of {scale}) first, until "
                "members are level or at their caps.")
    return f"The net pool is shared {_basis(a)}."


def _caps(a: Agreement, scale: str) -> str:
    charge, award = a.pool.max_charge, a.pool.max_award
    if charge is not None and award is not None:
        if charge == award:
            return (f"Charges and awards from the pool are capped at {pct(charge)} of {scale} "
                    "per member.")
        return (f"Charges from the pool are capped at {pct(charge)} of {scale} per member and "
                f"awards at {pct(award)}.")
    if charge is not None:
        return (f"Charges from the pool are capped at {pct(charge)} of {scale} per member; "
                "awards have no cap.")
    if award is not None:
        return (f"Awards from the pool are capped at {pct(award)} of {scale} per member; "
                "charges have no cap.")
    return "Charges and awards from the pool have no cap."


# -- support ---------------------------------------------------------------------------------------
def _support(a: Agreement, scale: str) -> list[str]:
    s = a.support
    if s.test == "none":
        return ["Support funding is paid whatever happens (no support test)."] + \
            _published_rules(a, scale)
    if s.test == "system" or s.system_share == 1:
        text = ("Each member earns its support funding only if the system meets its system "
                "control total")
    elif s.system_share:
        text = (f"{share(1 - s.system_share)} of each member's support funding is earned by "
                f"meeting its own control total and {share(s.system_share)} by the system "
                "meeting its system control total")
    else:
        text = "Each member earns its support funding by meeting its own control total"
    text += ", judged after the risk share" if s.after_sharing else \
        ", judged before the risk share"
    text += (", all or nothing (a cliff edge)." if s.taper <= 0 else
             f", in full at target and tapering to nothing {pct(s.taper)} of {scale} below it.")
    unearned = ("Support not earned is lost." if s.unearned == "lost" else
                "Support not earned goes to the members that earned all of theirs, pro rata to "
                "their support.")
    return [text, *_quarters(a), unearned] + _published_rules(a, scale)


def _quarters(a: Agreement) -> list[str]:
    """The in-year support keys in a sentence (none when support is judged on the year)."""
    s = a.support
    if s.period != "quarter":
        return []
    w = s.quarter_weights
    parts = ("four equal quarters" if len(set(w)) == 1 else
             "four quarters of " + ", ".join(share(x) for x in w[:-1])
             + f" and {share(w[-1])}")
    when = ("on the year to date against the plan to date at the quarter's end (in arrears)"
            if s.timing == "arrears" else
            "in advance, on the year to date against the plan to date at the previous "
            "quarter's end (the first quarter on the agreed plan)")
    text = f"The support is paid in {parts}, each judged {when}"
    if s.catch_up:
        text += "; quarters missed are paid if the year-end test passes"
    return [text + "."]


def _published_rules(a: Agreement, scale: str) -> list[str]:
    """Sentences for the keys published rules need (issue 16 §3), when they are set."""
    out = []
    for side, word in (("gains", "savings"), ("losses", "losses")):
        sched = getattr(a, side)
        if sched.threshold_by is not None and sched.threshold_table:
            first, last = sched.threshold_table[0], sched.threshold_table[-1]
            out.append(f"The {word} threshold depends on each member's {_text(sched.threshold_by)}: "
                       f"{pct(first[1])} of {scale} at {first[0]:,.0f} down to {pct(last[1])} at "
                       f"{last[0]:,.0f} or more (read linearly between "
                       f"{len(sched.threshold_table)} points).")
        if sched.quality_by is not None:
            out.append(f"What a member keeps of its {word} is multiplied by its "
                       f"{_text(sched.quality_by)} score (0–1); the rest is pooled.")
    s = a.support
    if s.deficit_only:
        out.append("Support is paid only to members with a deficit control total; the others "
                   "have none at stake.")
    if s.surplus_reward:
        out.append(f"Members inside the SCT with a control total of breakeven or better earn a "
                   f"reward of {pct(s.surplus_reward)} of {scale} if their outturn is at least "
                   "breakeven.")
    if s.performance_share:
        out.append(f"{share(s.performance_share)} of each member's support is a performance "
                   f"element, earned by the share in its {_text(s.performance_by or '')} column "
                   "(a system without that column has no performance element).")
    if s.incentive_rate:
        cap = (f", up to {pct(s.incentive_cap)} of {scale}" if s.incentive_cap is not None
               else ", with no cap")
        out.append(f"Each £1 of a member's position above its control total earns "
                   f"£{s.incentive_rate:g} of incentive funding{cap}.")
    return out


# -- the public words ------------------------------------------------------------------------------
def explain(agreement: Agreement) -> list[str]:
    """The agreement in plain-English sentences, one per layer, from its parameters in force
    (never from its name or description): schedules, exempt members, distribution, caps,
    reserve, support. Percentages are of the scale column; money in £m."""
    a = agreement
    scale = _text(a.scale)
    out = ([_line(a)] if a.variance is not None else []) + _schedules(a, scale)
    if not pools_nothing(a):
        if a.exempt:
            who = _join([_text(m) for m in a.exempt])
            out.append(f"{who} is exempt: its own variance is not pooled (it still takes part "
                       "in the distribution)." if len(a.exempt) == 1 else
                       f"{who} are exempt: their own variances are not pooled (they still take "
                       "part in the distribution).")
        out.append(_distribution(a, scale))
        out.append(_caps(a, scale))
    if a.reserve is not None:
        holder = _text(a.reserve.holder)
        out.append(f"A reserve of {amount(a.reserve.amount)} held by {holder} meets a net "
                   f"pooled loss first ({holder} is charged what it uses).")
    out += _support(a, scale)
    if a.carry is not None:
        out.append(_carry(a, scale))
    return out


def _carry(a: Agreement, scale: str) -> str:
    """The `[carry]` section in a sentence (it acts over the years ahead only)."""
    c = a.carry
    assert c is not None
    what = [w for w, on in (("a shortfall against the control total is repaid",
                             c.adverse == "repay"),
                            ("a surplus beyond it is banked", c.favourable == "bank")) if on]
    if not what:
        return "Over the years ahead nothing is carried into later control totals."
    years = "the next year's control total" if c.years == 1 else \
        f"the next {c.years} years' control totals in equal parts"
    caps = [cap for cap, on in ((f"{pct(c.max_carry or 0)} of {scale}", c.max_carry is not None),
                                (amount(c.max_carry_amount or 0),
                                 c.max_carry_amount is not None)) if on]
    capped = (f", at most {' or '.join(caps)} carried from any one year (the rest written off to the pool)"
              if caps else "")
    position = "after the risk share" if c.after_sharing else "before the risk share"
    return (f"Over the years ahead, {' and '.join(what)} through {years}{capped}, judged "
            f"{position}.")


def summary(agreement: Agreement) -> str:
    """`explain` as one paragraph."""
    return " ".join(explain(agreement))


def _compact_schedule(s: Schedule, scale: str) -> str:
    """'50% beyond 0.5% of turnover', 'all', 'all below 2% of benchmark, then 60% from the
    first £, kept at most 10%'."""
    if s.shares_nothing:
        return "none"
    bands = s.bands
    if len(bands) == 1:
        text = share(bands[0].pool)
        if s.threshold is not None:
            text = (f"{share(s.below_threshold_pool)} below {pct(s.threshold)} of {scale}, then "
                    f"{text} from the first £")
    else:
        parts, low, named = [], 0.0, False
        for i, band in enumerate(bands):
            if i == 0 and band.pool == 0:      # a deadband: said by where the next band starts
                low = band.upto or 0.0
                continue
            where = ("up to " + pct(band.upto or 0) if i == 0 else
                     f"beyond {pct(low)}" if band.upto is None else
                     f"from {pct(low)} to {pct(band.upto)}")
            parts.append(f"{share(band.pool)} {where}" + ("" if named else f" of {scale}"))
            named = True
            low = band.upto if band.upto is not None else low
        text = ", ".join(parts)
        if s.threshold is not None:
            text = (f"{share(s.below_threshold_pool)} below {pct(s.threshold)} of {scale}, then "
                    + text)
    of = "" if s.caps_of is None else f" of {_text(s.caps_of)}"
    if s.max_pool is not None:
        text += f", at most {pct(s.max_pool)}{of}"
    if s.max_keep is not None:
        text += f", kept at most {pct(s.max_keep)}{of}"
    return text


def headline(agreement: Agreement) -> str:
    """The agreement in a few words, from its parameters in force: 'pooled: 50% beyond 0.5%
    of turnover; shared pro rata to turnover; capped at 1% of turnover'. Support is named
    only when it differs from the default (each member on its own control total, after
    sharing, cliff edge, unearned support lost)."""
    a = agreement
    scale = _text(a.scale)
    parts = []
    if a.variance is not None:
        line = a.variance
        parts.append(f"on the line {_text(line.plan)} − {_text(line.actual)}"
                     if line.favourable == "under" else
                     f"on the line {_text(line.actual)} − {_text(line.plan)}")
    if pools_nothing(a):
        parts.append("no sharing")
    else:
        if a.gains == a.losses:
            parts.append(f"pooled: {_compact_schedule(a.gains, scale)}")
        else:
            parts.append(f"gains pooled: {_compact_schedule(a.gains, scale)}")
            parts.append(f"losses pooled: {_compact_schedule(a.losses, scale)}")
        if a.exempt:
            parts.append(_join([_text(m) for m in a.exempt]) + " exempt")
        p = a.pool
        parts.append({"counterparty": f"all to {_text(p.counterparty)}",
                      "claims": f"claims first ({RULE_SHORT.get(p.rule, p.rule)}), then "
                                f"{_basis(a)}",
                      "optimise": "worst-placed first"}.get(p.distribute, f"shared {_basis(a)}"))
        charge, award = p.max_charge, p.max_award
        if charge is not None and charge == award:
            parts.append(f"capped at {pct(charge)} of {scale}")
        elif charge is not None and award is not None:
            parts.append(f"charges capped at {pct(charge)}, awards at {pct(award)} of {scale}")
        elif charge is not None:
            parts.append(f"charges capped at {pct(charge)} of {scale}")
        elif award is not None:
            parts.append(f"awards capped at {pct(award)} of {scale}")
    if a.reserve is not None:
        parts.append(f"{amount(a.reserve.amount)} reserve held by {_text(a.reserve.holder)}")
    s = a.support
    default = (s.test == "organisation" and not s.system_share and s.after_sharing
               and s.taper <= 0 and s.unearned == "lost" and s.period == "year")
    if s.test == "none":
        parts.append("support unconditional")
    elif not default:
        test = ("system control total" if s.test == "system" else
                f"{share(s.system_share)} system-linked" if s.system_share else
                "own control total")
        words = [f"support: {test}"]
        if not s.after_sharing:
            words.append("before sharing")
        words.append("cliff edge" if s.taper <= 0 else f"tapered over {pct(s.taper)} of {scale}")
        if s.period == "quarter":
            words.append(f"quarterly in {s.timing}" + (" with catch-up" if s.catch_up else ""))
        if s.unearned == "redistribute":
            words.append("unearned redistributed")
        parts.append(", ".join(words))
    # the published-rule keys, when set (the sentences say them in full)
    for side in ("gains", "losses"):
        sched = getattr(a, side)
        if sched.threshold_by is not None:
            parts.append(f"{side} threshold by {_text(sched.threshold_by)}")
        if sched.quality_by is not None:
            parts.append(f"savings kept × {_text(sched.quality_by)}")
    if s.deficit_only:
        parts.append("support for deficit control totals only")
    if s.surplus_reward:
        parts.append(f"{pct(s.surplus_reward)} of {scale} reward at breakeven or better "
                     "(members planning breakeven or a surplus)")
    if s.performance_share:
        parts.append(f"{share(s.performance_share)} performance element "
                     f"({_text(s.performance_by or '')})")
    if s.incentive_rate:
        parts.append(f"incentive {s.incentive_rate:g} × surplus beyond target"
                     + (f", capped at {pct(s.incentive_cap)} of {scale}"
                        if s.incentive_cap is not None else ""))
    return "; ".join(parts)


def edited(agreement: Agreement) -> bool:
    """True when the name and description were written for other parameters than those in
    force (the parameters were changed after them)."""
    return agreement.description_for is not None


def title(agreement: Agreement) -> str:
    """The agreement's name, with "(edited)" after it when the parameters have been changed
    since the name was written."""
    return f"{agreement.name} {EDITED}" if edited(agreement) else agreement.name


def fit(agreement: Agreement, system: System) -> str:
    """Why `agreement` cannot be applied to `system`, in a few words, or "" when it can
    (`Agreement.check`): 'needs member PAYER and column target, not in this system'."""
    problems = agreement.check(system)
    if not problems:
        return ""
    a = agreement
    members = set(system.members)
    usable = numeric_columns(system.orgs)
    basis = a.pool.basis
    named = [*a.exempt, a.pool.counterparty, a.reserve.holder if a.reserve else None,
             *(m for m, _ in (basis if isinstance(basis, tuple) else ()))]
    missing = [m for m in dict.fromkeys(named) if m is not None and m not in members]
    columns = [a.scale] + ([basis] if isinstance(basis, str) and basis != "equal" else [])
    columns += [c for c in (a.gains.caps_of, a.losses.caps_of) if c is not None]
    if a.variance is not None:
        columns += [a.variance.actual, a.variance.plan]
    absent = [c for c in dict.fromkeys(columns) if c not in usable]
    needs = []
    if missing:
        needs.append(("member " if len(missing) == 1 else "members ")
                     + _join([_text(m) for m in missing]))
    if absent:
        needs.append(("column " if len(absent) == 1 else "columns ")
                     + _join([_text(c) for c in absent]))
    if needs:
        return "needs " + " and ".join(needs) + ", not in this system"
    return "; ".join(str(p) for p in problems)


def toml_header(agreement: Agreement) -> str:
    """The summary as TOML comment lines (wrapped at 96 characters), then a blank line."""
    import textwrap

    lines = ["In words (written by riskshare from the parameters below; not read back):"]
    for sentence in explain(agreement):
        lines += textwrap.wrap(sentence, 94, initial_indent="  ", subsequent_indent="  ")
    if edited(agreement):
        lines += textwrap.wrap(EDITED_NOTE, 96)
    return "".join(f"# {line}\n" for line in lines) + "\n"
