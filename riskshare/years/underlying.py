"""`rs.underlying(system)`: the position with the one-offs taken out.

Per member and for the system (the SYSTEM row adds up the members inside the SCT, its control
total the SCT), in £ (+ surplus, − deficit):

    forecast                      the forecast outturn, as reported
    non_recurrent                 one-off benefit inside it (≥ 0), and each of its nr_ lines
    underlying                    forecast − non_recurrent: the recurrent position
    forecast_vs_control_total     forecast − control total (+ better)
    underlying_vs_control_total   underlying − control total
    one_offs_only                 True where the forecast meets the control total but the
                                  underlying position does not: met only through one-offs

Figures are in whole pennies; the SYSTEM row is the sum of the members' figures inside the SCT.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from riskshare.core.constants import HALF_PENNY
from riskshare.core.format import money_m, named
from riskshare.core.schema import nr_lines
from riskshare.core.system import System, require_system

SYSTEM_ROW = "SYSTEM"


@dataclass(frozen=True, eq=False)
class Underlying:
    """The underlying position (see the module docstring). `table`: one row per member and the
    SYSTEM row; `lines`: the nr_ columns that make up `non_recurrent` (in the table too)."""

    system: System
    table: pd.DataFrame
    lines: tuple[str, ...]

    def one_offs_only(self) -> list[str]:
        """The members (org_ids) that meet their control total only through one-offs."""
        members = self.table.drop(index=SYSTEM_ROW)
        return [str(m) for m in members.index[members["one_offs_only"]]]

    def sentences(self) -> list[str]:
        """The position in sentences for a board paper, every figure naming its reference."""
        s = self.table.loc[SYSTEM_ROW]
        where = "the system inside the SCT" if self.system.outside_members else "the system"

        def against(gap: float) -> str:
            return ("meeting the SCT exactly" if abs(gap) < HALF_PENNY else
                    f"{money_m(abs(gap))} {'better than' if gap > 0 else 'short of'} the SCT")

        out = [f"As reported, {where} forecasts {money_m(s['forecast'])}, "
               f"{against(float(s['forecast_vs_control_total']))}; with "
               f"{money_m(s['non_recurrent'])} of one-off benefit taken out, its underlying "
               f"position is {money_m(s['underlying'])}, "
               f"{against(float(s['underlying_vs_control_total']))}."]
        if self.lines and float(s["non_recurrent"]) >= HALF_PENNY:
            parts = [f"{money_m(s[c])} {c[3:].replace('_', ' ')}" for c in self.lines
                     if float(s[c]) >= HALF_PENNY]
            out.append(f"The one-offs: {named(parts)}.")
        only = self.one_offs_only()
        if only:
            t = self.table
            out.append("Meeting the control total only through one-offs: " + named(
                [f"{m} (its underlying position {money_m(t.loc[m, 'underlying'])}, "
                 f"{money_m(abs(t.loc[m, 'underlying_vs_control_total']))} short of its "
                 "control total)" for m in only]) + ".")
        return out


def underlying(system: System) -> Underlying:
    """Each member's and the system's underlying (recurrent) position (see the module
    docstring).

    Parameters
    ----------
    system : System
        The members: forecast, control total and `non_recurrent` (with its nr_ lines), £.

    Returns
    -------
    Underlying
        `.table` (per member and SYSTEM, £ in whole pennies), `.lines`, `.one_offs_only()` and
        `.sentences()`.

    Raises
    ------
    ArgumentTypeError
        When `system` is not a System.
    """
    require_system(system, "underlying")
    orgs = system.orgs
    lines = tuple(nr_lines(orgs.columns))
    frame = pd.DataFrame({
        "name": orgs["name"], "in_sct": system.inside,
        "control_total": orgs["control_total"].astype(float),
        "forecast": orgs["forecast"].astype(float),
        "non_recurrent": orgs["non_recurrent"].astype(float),
        **{c: orgs[c].astype(float) for c in lines}}, index=system.members)
    frame["underlying"] = (frame["forecast"] - frame["non_recurrent"]).round(2)
    summed = ["control_total", "forecast", "non_recurrent", *lines, "underlying"]
    inside = system.inside
    total: dict[str, object] = {c: round(float(frame.loc[inside, c].sum()), 2) for c in summed}
    total.update(name="System (inside the SCT)", in_sct=True,
                 control_total=float(system.control_total))
    frame = pd.concat([frame, pd.DataFrame([total], index=[SYSTEM_ROW])])
    for c in ("forecast", "underlying"):
        frame[f"{c}_vs_control_total"] = (frame[c] - frame["control_total"]).round(2)
    frame["one_offs_only"] = ((frame["forecast_vs_control_total"] >= -HALF_PENNY)
                              & (frame["underlying_vs_control_total"] <= -HALF_PENNY))
    frame.index.name = "org_id"
    money = [c for c in frame.columns if c not in ("name", "in_sct", "one_offs_only")]
    frame[money] = frame[money].astype(float) + 0.0
    frame["in_sct"] = frame["in_sct"].astype(bool)
    frame["one_offs_only"] = frame["one_offs_only"].astype(bool)
    return Underlying(system, frame, lines)


__all__ = ["Underlying", "underlying", "SYSTEM_ROW"]
