"""The underlying position: the worked case of the years ahead (reported −£5.0m including
£20.0m of deficit support and £12.0m of non-recurrent savings ⇒ underlying −£37.0m), the
non_recurrent column and its nr_ lines as the organisations table reads them, and the members
that meet their control total only through one-offs."""

from __future__ import annotations

import pandas as pd
import pytest

import riskshare as rs

M = 1_000_000.0


def frame(**columns) -> pd.DataFrame:
    base = {"org_id": ["A", "B"], "name": ["Acute A", "Community B"],
            "kind": ["acute", "community"], "turnover": [400 * M, 100 * M],
            "control_total": [-5 * M, 1 * M], "forecast": [-5 * M, 1.5 * M]}
    return pd.DataFrame({**base, **columns})


def system(**columns) -> rs.System:
    return rs.System.from_frame(frame(**columns), -4 * M, "Two", "2025/26")


def test_the_worked_case():
    # A reports −5.0 including 20.0 of deficit support and 12.0 of non-recurrent savings:
    # underlying −5.0 − 32.0 = −37.0, 32.0 short of its control total −5.0, which it meets as
    # reported (0.0) — only through one-offs. B has no one-offs: underlying = forecast 1.5.
    two = system(nr_support=[20 * M, 0.0], nr_savings=[12 * M, 0.0])
    out = rs.underlying(two)
    a = out.table.loc["A"]
    assert (a["non_recurrent"], a["nr_support"], a["nr_savings"]) == (32 * M, 20 * M, 12 * M)
    assert a["underlying"] == -37 * M
    assert (a["forecast_vs_control_total"], a["underlying_vs_control_total"]) == (0.0, -32 * M)
    assert bool(a["one_offs_only"]) and not bool(out.table.loc["B", "one_offs_only"])
    assert out.one_offs_only() == ["A"]
    # the system: forecast −5.0 + 1.5 = −3.5 against the SCT −4.0 (+0.5); underlying
    # −37.0 + 1.5 = −35.5, 31.5 short of the SCT
    s = out.table.loc["SYSTEM"]
    assert (s["forecast"], s["underlying"], s["non_recurrent"]) == (-3.5 * M, -35.5 * M, 32 * M)
    assert (s["forecast_vs_control_total"], s["underlying_vs_control_total"]) == (
        0.5 * M, -31.5 * M)
    assert out.sentences()[0] == (
        "As reported, the system forecasts -£3.50m, £0.50m better than the SCT; with £32.00m of "
        "one-off benefit taken out, its underlying position is -£35.50m, £31.50m short of the "
        "SCT.")
    assert out.sentences()[1] == "The one-offs: £20.00m support and £12.00m savings."
    assert out.sentences()[2].startswith(
        "Meeting the control total only through one-offs: A (its underlying position -£37.00m, "
        "£32.00m short of its control total)")


def test_non_recurrent_given_beside_its_lines_must_be_their_total():
    # 20.0 + 12.0 = 32.0: a total of 30.0 is refused, naming the row and the column
    with pytest.raises(rs.ValidationError) as caught:
        system(non_recurrent=[30 * M, 0.0], nr_support=[20 * M, 0.0], nr_savings=[12 * M, 0.0])
    message = str(caught.value)
    assert "column 'non_recurrent'" in message and "row 1" in message
    assert "£30,000,000.00 but its lines (nr_support, nr_savings) add up to £32,000,000.00" \
        in message
    # the right total is accepted; a blank total is the lines' total
    assert system(non_recurrent=[32 * M, 0.0], nr_support=[20 * M, 0.0],
                  nr_savings=[12 * M, 0.0]).orgs.loc["A", "non_recurrent"] == 32 * M
    assert system(non_recurrent=[None, 0.0], nr_support=[20 * M, 0.0],
                  nr_savings=[12 * M, 0.0]).orgs.loc["A", "non_recurrent"] == 32 * M


def test_one_offs_cannot_be_negative_and_default_to_none():
    with pytest.raises(rs.ValidationError, match="column 'nr_income'.*at least £0"):
        system(nr_income=[-1 * M, 0.0])
    with pytest.raises(rs.ValidationError, match="non_recurrent"):
        system(non_recurrent=[-1 * M, 0.0])
    plain = system()
    assert list(plain.orgs["non_recurrent"]) == [0.0, 0.0]
    out = rs.underlying(plain)
    assert list(out.table["underlying"]) == list(out.table["forecast"])
    assert out.one_offs_only() == []


def test_one_offs_are_not_a_sharing_basis():
    two = system(nr_support=[20 * M, 0.0])
    with pytest.raises(rs.ValidationError, match="not a numeric column"):
        rs.apply(rs.load_agreement('name = "x"\nscale = "nr_support"\n'), two)


def test_reordering_members_changes_nothing():
    two = system(nr_support=[20 * M, 3 * M])
    flipped = rs.System.from_frame(frame(nr_support=[20 * M, 3 * M]).iloc[::-1], -4 * M,
                                   "Two", "2025/26")
    a, b = rs.underlying(two).table, rs.underlying(flipped).table
    pd.testing.assert_frame_equal(a.loc[["A", "B", "SYSTEM"]], b.loc[["A", "B", "SYSTEM"]])


def test_files_keep_the_one_offs(tmp_path):
    # written and read back: the total and its lines; a system with none writes no column
    two = system(nr_support=[20 * M, 0.0], nr_savings=[12 * M, 0.0])
    rs.core.write.write_folder(two, tmp_path / "two")
    back = rs.load_system(tmp_path / "two")
    assert back.orgs.loc["A", "non_recurrent"] == 32 * M
    assert back.orgs.loc["A", "nr_savings"] == 12 * M
    plain = tmp_path / "plain"
    rs.core.write.write_folder(system(), plain)
    assert "non_recurrent" not in (plain / "organisations.csv").read_text().splitlines()[0]
