"""Ring-fenced floors (mental health investment standard) in optimised rebalancing,
in rs.optimise and on the command line. The rule (reconciliation/ringfence.py): a change to a
member's position falls on its spending pro rata to the line's share of turnover, and
line − change × line/turnover ≥ last year × (1 + growth).

The hand-worked case: the ICB spent £150.0m on mental health last year; at 4.4% growth its
floor is 150.0 × 1.044 = £156.6m. It plans £157.5m this year on a turnover of £1,575.0m, a share
of 157.5 / 1,575.0 = 10%, so its position may move against it by at most
(157.5 − 156.6) / 0.10 = £9.0m."""

from __future__ import annotations

import pandas as pd
import pytest

import riskshare as rs
from riskshare.core.errors import InfeasibleError, ValidationError
from riskshare.reconciliation import ringfence
from tests.integration.cli_runner import run

M = 1_000_000.0


def three(sct_m: float = 0.0, forecasts=(0.0, 0.0, 0.0)):
    frame = pd.DataFrame({
        "org_id": ["ICB", "ACU", "MHT"], "name": ["ICB", "Acute trust", "Mental health trust"],
        "kind": ["commissioner", "acute", "mental_health"],
        "turnover": [1575.0 * M, 500.0 * M, 200.0 * M], "control_total": [0.0, 0.0, 0.0],
        "forecast": [f * M for f in forecasts],
        "mh_spend": [157.5 * M, 0.0, 0.0], "mh_spend_last_year": [150.0 * M, 0.0, 0.0],
    }).set_index("org_id")
    return rs.System.from_frame(frame, control_total=sct_m * M, name="Ring")


def test_the_floor_is_last_year_plus_growth():
    fence = ringfence.parse({"ICB": 4.4}, "ring_fence", [])[0]
    assert ringfence.floor(fence, three()) == pytest.approx(156.6 * M)     # 150.0 × 1.044


def test_rebalancing_stops_the_icbs_rise_at_9m():
    # SCT +£14.0m: left alone, minimax_change would give the ICB 14 × 1575/2275 = £9.69m; the
    # ring fence stops it at £9.0m, and the other £5.0m goes to ACU and MHT at the same % of
    # turnover: 5.0 × 500/700 = £3,571,428.57 and 5.0 × 200/700 = £1,428,571.43
    reb = rs.rebalance(three(14.0), "minimax_change", ring_fence={"ICB": 4.4})
    assert reb.table.loc["ICB", "change"] == pytest.approx(9.0 * M, abs=0.01)
    assert reb.table.loc["ACU", "change"] == pytest.approx(3_571_428.57, abs=0.01)
    assert reb.table.loc["MHT", "change"] == pytest.approx(1_428_571.43, abs=0.01)
    assert reb.total == pytest.approx(14.0 * M, abs=0.001)


def test_a_rebalancing_that_breaks_the_ring_fence_says_so_and_by_how_much():
    # ACU and MHT kept: the ICB must take all £12.0m; its line would fall by 12.0 × 10% = £1.2m
    # to £156.3m, £0.3m below the £156.6m floor
    with pytest.raises(InfeasibleError) as err:
        rs.rebalance(three(12.0), "minimax_change", keep=("ACU", "MHT"),
                     ring_fence={"ICB": 4.4})
    message = str(err.value)
    assert "ICB's ring-fenced spend stays at or above its floor of £156.60m" in message
    fence = [c for c in err.value.relaxations if c.family == "ring_fence"]
    assert len(fence) == 1 and fence[0].give == pytest.approx(0.3 * M, abs=1.0)
    assert "let ICB's ring-fenced spend end £0.30m below its floor" in message


def test_optimise_charges_the_icb_at_most_9m():
    # full pooling: the ICB pools its +£20.0m, ACU −£8.0m and MHT −£4.0m. The smallest largest
    # shortfall would charge the ICB more (everyone at +8/2275 of turnover); the ring fence
    # keeps its net charge to £9.0m (final +£11.0m), and ACU and MHT share the remaining −£3.0m
    # at the same % of turnover: −3.0 × 500/700 = −£2.142857m and −3.0 × 200/700 = −£0.857143m
    result = rs.optimise(three(0.0, (20.0, -8.0, -4.0)), "full_pooling_turnover",
                         objective="minimax_shortfall", constraints={"ring_fence": {"ICB": 4.4}})
    table = result.table
    assert table.loc["ICB", "net_transfer"] == pytest.approx(-9.0 * M, abs=0.02)
    assert table.loc["ACU", "final"] == pytest.approx(-2_142_857.14, abs=0.02)
    assert table.loc["MHT", "final"] == pytest.approx(-857_142.86, abs=0.02)


def test_an_optimisation_that_breaks_the_ring_fence_names_it_and_the_amount():
    # the ICB's receipt fixed at £8.0m against £20.0m pooled: a net charge of £12.0m, so its
    # line falls £1.2m, to £0.3m below the floor
    with pytest.raises(InfeasibleError) as err:
        rs.optimise(three(0.0, (20.0, -8.0, -4.0)), "full_pooling_turnover",
                    constraints={"ring_fence": {"ICB": 4.4}, "fixed": {"ICB": 8.0 * M}})
    fence = [c for c in err.value.relaxations if c.family == "ring_fence"]
    assert len(fence) == 1 and fence[0].give == pytest.approx(0.3 * M, abs=1.0)
    assert "ring-fenced spend" in str(err.value)


def test_constraints_round_trip_and_bad_requests_are_named():
    cons = rs.optimisation.Constraints.from_dict(
        {"ring_fence": {"ICB": 4.4, "ACU": {"growth": 2.0, "line": "x", "last_year": "y"}}})
    assert cons.to_dict() == {"ring_fence": {"ACU": {"growth": 2.0, "line": "x",
                                                     "last_year": "y"}, "ICB": 4.4}}
    with pytest.raises(ValidationError) as err:
        rs.optimisation.Constraints.from_dict({"ring_fence": {"ICB": "lots",
                                                              "ACU": {"grow": 1.0}}})
    assert "ring_fence.ICB" in str(err.value) and "ring_fence.ACU.grow" in str(err.value)
    with pytest.raises(ValidationError) as err:
        rs.rebalance(three(), "minimax_change", ring_fence={"NOPE": 4.4, "ACU": 4.4})
    assert "ring_fence.NOPE" in str(err.value)
    assert "ring_fence.ACU" in str(err.value)          # ACU has no mental-health line (0)
    with pytest.raises(ValidationError):
        rs.rebalance(three(), "basis", ring_fence={"ICB": 4.4})


def _folder(tmp_path, sct_m: float, forecasts):
    system = three(sct_m, forecasts)
    folder = tmp_path / "ring"
    folder.mkdir()
    system.orgs.to_csv(folder / "organisations.csv")
    (folder / "system.toml").write_text(f'name = "Ring"\ncontrol_total = {sct_m * M}\n',
                                        encoding="utf-8")
    return str(folder)


def test_the_cli_offers_the_ring_fence(tmp_path, capsys):
    folder = _folder(tmp_path, 12.0, (0.0, 0.0, 0.0))
    code, out, err = run(["reconcile", folder, "--method", "minimax_change", "--keep", "ACU",
                          "--keep", "MHT", "--ring-fence", "ICB=4.4"], capsys)
    assert code != 0
    assert "ring-fenced spend" in err + out and "£0.30m" in err + out
    code, out, err = run(["reconcile", folder, "--method", "minimax_change",
                          "--ring-fence", "ICB=4.4"], capsys)
    assert code == 0, err
    code, out, err = run(["optimise", folder, "--fixed", "ICB=-12000000",
                          "--ring-fence", "ICB=4.4"], capsys)
    # no agreement: the ICB's net charge is its fixed £12.0m ⇒ £0.3m below the floor
    assert code != 0 and "ring-fenced spend" in err + out and "£0.30m" in err + out


@pytest.mark.parametrize("given,said", [
    (["ICB=abc"], "--ring-fence expects ORG_ID=GROWTH in % (a number ≥ 0) (e.g. ICB=4.4), got "
                  "'ICB=abc': the growth is not a number"),
    (["ICB=-5"], "got 'ICB=-5': growth cannot be negative"),
    (["ICB=4", "ICB=1"], "--ring-fence gives ICB twice (4% and 1%): give each member once"),
])
def test_the_cli_ring_fence_option_speaks_of_growth(capsys, given, said):
    argv = ["optimise", "vale_2025_26"]
    for pair in given:
        argv += ["--ring-fence", pair]
    code, out, err = run(argv, capsys)
    assert code == 2 and said in err


def test_a_negative_growth_is_refused_by_the_library_too():
    problems: list = []
    assert ringfence.parse({"ICB": -5.0}, "ring_fence", problems) == ()
    assert [p.column for p in problems] == ["ring_fence.ICB"]
    assert "must lie between 0 and 1,000" in problems[0].rule
