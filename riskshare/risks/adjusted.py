"""`rs.risk_adjusted(system, register)`: each member's forecast adjusted for the risks and
mitigations it has named, as an ICS board finance paper reports it.

Per member and for the system (the SYSTEM row adds up the members inside the SCT, its control
total the SCT), in £, amounts ≥ 0 and probabilities p from the register:

    forecast              the forecast outturn (the organisations table)
    gross_risk            Σ amount of the risks; expected_risk Σ amount × p
    gross_mitigation      Σ amount of the mitigations; expected_mitigation Σ amount × p
    net_risk              expected_risk − expected_mitigation
    risk_adjusted         forecast − net_risk
    worst                 forecast − gross_risk + the mitigations certain to happen (p = 1)
    best                  forecast + gross_mitigation (no risk happens, every mitigation does)
    *_vs_control_total    risk_adjusted, worst and best less the control total (+ better)

Figures are in whole pennies; the SYSTEM row is the sum of the members' rounded figures, so
the columns add up.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from riskshare.core.constants import HALF_PENNY
from riskshare.core.errors import ArgumentTypeError, UsageError
from riskshare.core.format import money_m, named
from riskshare.core.register import Register
from riskshare.core.system import System, require_system

SYSTEM_ROW = "SYSTEM"
COLUMNS = ("name", "in_sct", "control_total", "forecast", "gross_risk", "expected_risk",
           "gross_mitigation", "expected_mitigation", "net_risk", "risk_adjusted", "worst",
           "best", "risk_adjusted_vs_control_total", "worst_vs_control_total",
           "best_vs_control_total")
_SUMMED = COLUMNS[3:12]


@dataclass(frozen=True, eq=False)
class RiskAdjusted:
    """The risk-adjusted position (see the module docstring). `table`: one row per member and
    the SYSTEM row, `COLUMNS`, £ in whole pennies."""

    system: System
    register: Register
    table: pd.DataFrame

    def sentences(self) -> list[str]:
        """The position in sentences for a board paper, every figure naming its reference."""
        s = self.table.loc[SYSTEM_ROW]
        where = ("the system inside the SCT" if self.system.outside_members else "the system")
        gap = float(s["risk_adjusted_vs_control_total"])
        against = ("meeting the SCT exactly" if abs(gap) < HALF_PENNY else
                   f"{money_m(abs(gap))} {'better than' if gap > 0 else 'short of'} the SCT")
        net = float(s["net_risk"])
        how = (f"less a net risk of {money_m(net)}" if net >= 0 else
               f"plus a net mitigation of {money_m(-net)}")
        out = [f"Risk-adjusted, {where} forecasts {money_m(s['risk_adjusted'])}, {against}: "
               f"the forecast {money_m(s['forecast'])} {how} (expected risks "
               f"{money_m(s['expected_risk'])} less expected mitigations "
               f"{money_m(s['expected_mitigation'])}).",
               f"At worst (every risk happens, only the certain mitigations) "
               f"{money_m(s['worst'])}, {money_m(s['worst_vs_control_total'], sign=True)} "
               f"against the SCT; at best (no risk, every mitigation) {money_m(s['best'])}, "
               f"{money_m(s['best_vs_control_total'], sign=True)} against it."]
        risks = self.register.risks
        if len(risks):
            expected = (risks["amount"] * risks["probability"]).round(2)
            top = expected.sort_values(ascending=False, kind="stable").head(3)
            words = [f"{risks.at[i, 'org_id']}: {risks.at[i, 'item']} ({money_m(v)} expected)"
                     for i, v in top.items()]
            out.append(f"The largest risks by expected value: {named(words)}.")
        return out


def risk_adjusted(system: System, register: Register) -> RiskAdjusted:
    """Each member's and the system's forecast adjusted for the register's risks and
    mitigations (see the module docstring).

    Parameters
    ----------
    system : System
        The members, their forecasts and control totals, and the SCT.
    register : Register
        The risk register of this system (`rs.load_register`).

    Returns
    -------
    RiskAdjusted
        `.table` (per member and SYSTEM, £ in whole pennies) and `.sentences()`.

    Raises
    ------
    ArgumentTypeError
        When `system` is not a System or `register` is not a Register.
    UsageError
        When the register names members the system does not have.
    """
    require_system(system, "risk_adjusted")
    if not isinstance(register, Register):
        raise ArgumentTypeError("register must be a Register (rs.load_register), not "
                                f"{type(register).__name__}")
    t = register.table
    strangers = sorted(set(t["org_id"]) - set(system.members))
    if strangers:
        raise UsageError(f"register: it names {named(strangers)}, not members of this system: "
                         "load it against this system")
    members = system.members
    # each item's member as a position in the member order, then sums by member in one pass
    code = members.get_indexer(t["org_id"])
    amount = t["amount"].to_numpy(dtype=float)
    chance = t["probability"].to_numpy(dtype=float)
    kind = t["type"].to_numpy()
    risk, mitigation = kind == "risk", kind == "mitigation"

    def by_member(mask: np.ndarray) -> np.ndarray:
        return np.bincount(code[mask], weights=amount[mask], minlength=len(members))

    orgs = system.orgs
    expected_risk, expected_mitigation = register.expected(members)
    frame = pd.DataFrame({
        "name": orgs["name"], "in_sct": system.inside,
        "control_total": orgs["control_total"].astype(float),
        "forecast": orgs["forecast"].astype(float),
        "gross_risk": by_member(risk), "expected_risk": expected_risk,
        "gross_mitigation": by_member(mitigation),
        "expected_mitigation": expected_mitigation,
        "certain_mitigation": by_member(mitigation & (chance >= 1.0)),
    }, index=members)
    money = ["forecast", "gross_risk", "expected_risk", "gross_mitigation",
             "expected_mitigation", "certain_mitigation"]
    frame[money] = frame[money].round(2)
    frame["net_risk"] = (frame["expected_risk"] - frame["expected_mitigation"]).round(2)
    frame["risk_adjusted"] = (frame["forecast"] - frame["net_risk"]).round(2)
    frame["worst"] = (frame["forecast"] - frame["gross_risk"]
                      + frame["certain_mitigation"]).round(2)
    frame["best"] = (frame["forecast"] + frame["gross_mitigation"]).round(2)
    inside = system.inside
    total: dict[str, object] = {c: round(float(frame.loc[inside, c].sum()), 2) for c in _SUMMED}
    total.update(name="System (inside the SCT)", in_sct=True,
                 control_total=float(system.control_total))
    frame = pd.concat([frame.drop(columns="certain_mitigation"),
                       pd.DataFrame([total], index=[SYSTEM_ROW])])
    for c in ("risk_adjusted", "worst", "best"):
        frame[f"{c}_vs_control_total"] = (frame[c] - frame["control_total"]).round(2)
    frame.index.name = "org_id"
    frame[list(COLUMNS[2:])] = frame[list(COLUMNS[2:])].astype(float) + 0.0
    frame["in_sct"] = frame["in_sct"].astype(bool)
    return RiskAdjusted(system, register, frame[list(COLUMNS)])


__all__ = ["RiskAdjusted", "risk_adjusted", "COLUMNS", "SYSTEM_ROW"]

