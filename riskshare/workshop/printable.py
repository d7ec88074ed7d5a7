"""The printable workshop report: one self-contained HTML page (A4, one to two printed pages)
with every step's headline figures and findings and the key charts as static SVG images, and a
PDF of it where a Chromium browser is installed.

The charts are rendered offline (Altair → vl-convert → SVG), so the file needs no network, no
JavaScript and no other files: it can be e-mailed, opened and printed as it is. All text from
the session (titles, names, notes) is HTML-escaped.

A step shown under a what-if prints its figures as prepared and, below them, its figures under
the what-if, each labelled "What-if", with the change in words; the header names the what-if in
force, so no figure computed under a what-if reads as the prepared agreement's.
"""

from __future__ import annotations

import datetime as _dt
import html
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from riskshare.core.errors import RiskshareError
from riskshare.reports import charts

CHROMIUMS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
KEY_CHART_KINDS = ("shock", "compare", "fairer", "risks", "years", "walk_away", "agreement",
                   "baseline")
MAX_CHARTS = 3
MAX_FINDINGS = 2   # sentences per step in the printed summary
#: Kinds whose findings print in full up to this many: a years step's sentences are the board
#: paper's (the plan against the SCT, the moves, capital, who would be better off outside).
FINDINGS_BY_KIND = {"years": 6}
CHART_WIDTH = 520  # px of plotting area: two fit side by side on A4 at print scale

_CSS = """
@page { size: A4; margin: 12mm 12mm 14mm 12mm; }
* { box-sizing: border-box; }
body { font-family: "Helvetica Neue", Arial, sans-serif; color: #212B32; font-size: 9pt;
       line-height: 1.3; margin: 0; }
header { border-bottom: 3px solid #005EB8; margin-bottom: 8px; padding-bottom: 4px; }
h1 { font-size: 16pt; margin: 0 0 2px 0; color: #005EB8; }
.meta { color: #425563; font-size: 9pt; }
h2 { font-size: 11pt; margin: 10px 0 3px 0; color: #003087; }
section.step { break-inside: avoid; margin-bottom: 6px; }
.figures { display: flex; flex-wrap: wrap; gap: 4px 8px; margin: 3px 0; }
.figure { border-left: 3px solid #AEB7BD; padding: 0 6px; width: 19%; }
.figure.good { border-color: #009639; } .figure.bad { border-color: #DA291C; }
.figure .label { font-size: 7.5pt; color: #425563; }
.figure .value { font-size: 11pt; font-weight: bold; }
.figure .delta { font-size: 7.5pt; color: #425563; }
ul { margin: 2px 0 0 16px; padding: 0; } li { margin: 1px 0; }
.whatif { font-size: 8.5pt; color: #7C2855; }
.figure.whatif { border-style: dashed; }
.charts { break-before: page; }
.chart { break-inside: avoid; margin: 4px 0 8px 0; text-align: center; }
.chart svg { max-width: 100%; max-height: 80mm; width: auto; height: auto; }
.chart .caption { font-size: 8.5pt; color: #425563; text-align: left; }
footer { margin-top: 8px; font-size: 7.5pt; color: #768692; }
"""


class PdfUnavailableError(RiskshareError):
    """No Chromium to print the HTML report with (the HTML report itself still works)."""


def chromium() -> str | None:
    """The Chromium (or Chrome) executable: $RISKSHARE_CHROMIUM, else the first on PATH."""
    given = os.environ.get("RISKSHARE_CHROMIUM")
    if given:
        return given if Path(given).exists() else None
    for name in CHROMIUMS:
        found = shutil.which(name)
        if found:
            return found
    return None


def pdf_available() -> bool:
    """Whether a PDF can be printed: a Chromium or Chrome was found (see `chromium`)."""
    return chromium() is not None


def key_views(views) -> list:
    """The charts worth printing: the shock, the comparison, the final fairness step, the
    risk register's tornado and the years ahead's bridge (in session order), up to MAX_CHARTS;
    other kinds fill in when a session has fewer."""
    chosen: list = []
    for kind in KEY_CHART_KINDS:
        matching = [v for v in views if v.step.kind == kind and v.chart is not None]
        if matching and len(chosen) < MAX_CHARTS:
            chosen.append(matching[-1])
    return sorted(chosen, key=lambda v: v.number)


def _figure(f, what_if: bool = False) -> str:
    tone = "" if f.good is None else (" good" if f.good else " bad")
    delta = f'<div class="delta">{html.escape(f.delta)}</div>' if f.delta else ""
    label = f"{WHAT_IF_MARK}: {f.label}" if what_if else f.label
    return (f'<div class="figure{tone}{" whatif" if what_if else ""}"><div class="label">'
            f'{html.escape(label)}</div>'
            f'<div class="value">{html.escape(f.text)}</div>{delta}</div>')


WHAT_IF_MARK = "What-if"


def html_report(session, views=None, generated: _dt.date | None = None) -> str:
    """The printable report of `session` as one self-contained HTML document."""
    from riskshare.workshop.report import prepared_views, what_if_label
    from riskshare.workshop.steps import views as all_views

    views = list(views) if views is not None else all_views(session)
    prepared = prepared_views(session, views)
    generated = generated or _dt.date.today()
    system = session.system
    agreements = "; ".join(f"{label}: {a.name}" for label, a in session.agreements)
    s = session.scenarios
    parts = [
        "<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{html.escape(session.title)}</title><style>{_CSS}</style></head><body>",
        "<header>", f"<h1>{html.escape(session.title)}</h1>",
        f'<div class="meta">{html.escape(system.label)} · {system.n} members · '
        f"{html.escape(f'{generated.day} {generated:%B %Y}')}</div>",
    ]
    if session.description:
        parts.append(f'<div class="meta">{html.escape(session.description)}</div>')
    parts.append(f'<div class="meta">Agreements — {html.escape(agreements)}</div>')
    parts.append(f'<div class="meta">Scenarios: {s.n:,} simulated years (seed {s.seed}, '
                 f"correlation {s.correlation:g}{_register_words(s)}); fairness values each "
                 "member by its average "
                 f"year less {session.risk_aversion:g} × its shortfall in the worst 1-in-20."
                 "</div>")
    changed = [v for v in views if v.changes]
    in_force = ("; ".join(what_if_label(v) for v in changed) + ". Figures marked "
                f"“{WHAT_IF_MARK}” are under it; every other figure is as prepared."
                if changed else "none: every figure is as prepared.")
    parts.append(f'<div class="meta whatif">What-if in force — {html.escape(in_force)}</div>'
                 "</header>")
    for v, p in zip(views, prepared, strict=True):
        parts.append('<section class="step">')
        parts.append(f"<h2>{v.number}. {html.escape(p.title)}</h2>")
        parts.append('<div class="figures">' + "".join(_figure(f) for f in p.figures)
                     + "</div>")
        most = FINDINGS_BY_KIND.get(p.step.kind, MAX_FINDINGS)
        findings = list(p.sentences[:most])
        if findings:
            parts.append("<ul>" + "".join(f"<li>{html.escape(x)}</li>" for x in findings)
                         + "</ul>")
        if v.changes:
            parts.append(f'<div class="whatif">{WHAT_IF_MARK} (as shown in the room): '
                         + html.escape("; ".join(v.changes)) + "</div>")
            parts.append('<div class="figures">'
                         + "".join(_figure(f, what_if=True) for f in v.figures) + "</div>")
            if v.sentences:
                parts.append('<ul class="whatif">' + "".join(
                    f"<li>{WHAT_IF_MARK}: {html.escape(x)}</li>"
                    for x in v.sentences[:most]) + "</ul>")
        parts.append("</section>")
    parts.append("<footer>Money in £m; surplus positive, deficit negative. Produced by riskshare "
                 "from the session file; the Excel report holds every figure.</footer>")
    chosen = key_views(views)
    if chosen:
        parts.append('<div class="charts">')
        for v in chosen:
            svg = charts.to_svg(v.chart, width=CHART_WIDTH)
            mark = (f" — {WHAT_IF_MARK}: " + "; ".join(v.changes)) if v.changes else ""
            parts.append(f'<div class="chart"><div class="caption">Step {v.number}: '
                         f"{html.escape(v.title + mark)}</div>{svg}</div>")
        parts.append("</div>")
    parts.append("</body></html>")
    return "\n".join(parts)


def _register_words(settings) -> str:
    """How the scenarios draw the risk register, for the header ("" when they do not)."""
    if not settings.uses_register():
        return ""
    how = "on top of the volatility" if settings.register == "add" else "instead of the volatility"
    return f"; the risk register's events drawn {how}"


def pdf_bytes(html_text: str, timeout: float = 120.0) -> bytes:
    """Print `html_text` to PDF with headless Chromium; PdfUnavailableError when there is no
    Chromium or it fails."""
    exe = chromium()
    if exe is None:
        raise PdfUnavailableError("a PDF needs Chromium or Chrome, and none was found (set "
                                  "RISKSHARE_CHROMIUM to its path); the HTML report prints to "
                                  "PDF from any browser")
    with tempfile.TemporaryDirectory() as tmp:
        page, pdf = Path(tmp) / "report.html", Path(tmp) / "report.pdf"
        page.write_text(html_text, encoding="utf-8")
        cmd = [exe, "--headless", "--disable-gpu", "--no-sandbox", "--no-pdf-header-footer",
               f"--user-data-dir={tmp}/profile", f"--print-to-pdf={pdf}", page.as_uri()]
        try:
            subprocess.run(cmd, capture_output=True, timeout=timeout, check=False)
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise PdfUnavailableError(f"Chromium could not print the report ({exc})") from None
        if not pdf.exists() or pdf.stat().st_size == 0:
            raise PdfUnavailableError("Chromium did not produce a PDF")
        return pdf.read_bytes()


def write_html(session, target, views=None) -> Path:
    """Write the printable HTML report of `session` (`html_report`) to the path `target`;
    returns the path."""
    target = Path(target)
    target.write_text(html_report(session, views), encoding="utf-8")
    return target


def write_pdf(session, target, views=None) -> Path:
    """Write the printable report of `session` as a PDF to the path `target` and return the
    path; PdfUnavailableError when there is no Chromium or it fails."""
    target = Path(target)
    target.write_bytes(pdf_bytes(html_report(session, views)))
    return target
