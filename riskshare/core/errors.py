"""Errors riskshare raises, and the `Problem` record that validation collects.

Validation never stops at the first problem: it collects every `Problem` it finds and raises one
`ValidationError` listing them all, so a finance director can fix a whole file in one pass. Nothing
is half-loaded: either a complete, valid object comes back or the error does.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

# Control characters (but the line breaks that separate a message's lines) and invisible
# formatting characters: a message quoting what a user typed must not let an escape sequence
# recolour or clear a terminal, or a direction override turn the text round.
#: Characters that show as nothing, or change how the text around them reads: soft hyphen,
#: Arabic letter mark, combining grapheme joiner, Hangul fillers, Khmer inherent vowels,
#: Mongolian vowel separator, zero-width spaces and joiners, direction marks and overrides,
#: line and paragraph separators, word joiners and invisible operators, variation selectors,
#: the byte-order mark, interlinear annotations, tag characters. The one list both the
#: refusal of such names (`schema.control_character`) and the escaping of messages use.
INVISIBLE = ("\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180e\u200b-\u200f\u2028-\u202e"
             "\u2060-\u206f\u3164\ufe00-\ufe0f\ufeff\uffa0\ufff9-\ufffb"
             "\U000e0000-\U000e007f\U000e0100-\U000e01ef")
#: Control characters (C0, DEL, C1) as a regular-expression range.
CONTROL = "\x00-\x1f\x7f-\x9f"
# what a message escapes: CONTROL but the line break, and INVISIBLE
_UNSHOWABLE = re.compile(f"[\x00-\x09\x0b-\x1f\x7f-\x9f{INVISIBLE}]")


def visible(text: str) -> str:
    r"""`text` with every control or invisible character written as an escape ('\x1b',
    '\u202e'), line breaks kept: how a message shows text it quotes from the user."""
    return _UNSHOWABLE.sub(_escape, text)


def _escape(match) -> str:
    code = ord(match.group())
    return (f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}" if code < 0x10000
            else f"\\U{code:08x}")


class RiskshareError(Exception):
    """Base class for errors that carry a message meant for the user (CLI and app show it as is).

    A message is made safe to show as it is built: control and invisible characters it quotes
    from the user's input come out as escapes (see `visible`)."""

    def __init__(self, *args):
        super().__init__(*(visible(a) if isinstance(a, str) else a for a in args))


@dataclass(frozen=True)
class Problem:
    """One thing wrong (or worth a warning) in user input.

    Attributes
    ----------
    rule:     what the input must satisfy, in plain words ("must be greater than 0").
    member:   the org_id concerned, when known.
    column:   the column or key concerned, when there is one.
    value:    the offending value, when there is one (shown with repr-like quoting).
    row:      the row the user sees: a 1-based data row, or the file line/sheet row when loaded
              from a file (the loader says which).
    severity: "error" (blocks loading) or "warning" (loaded, but worth a look).
    """

    rule: str
    member: str | None = None
    column: str | None = None
    value: object = None
    row: int | None = None
    severity: str = "error"
    has_value: bool = False
    label: str = "column"   # what `column` names: a table "column" or a file "key"

    def where(self) -> str:
        """'row 3 (NGH), column 'turnover'' / 'member 'NGH'' / 'column 'kind'' / ''."""
        if self.row is not None:
            who = f"row {self.row}" + (f" ({self.member})" if self.member else "")
        else:
            who = f"member '{self.member}'" if self.member is not None else ""
        col = f"{self.label} '{self.column}'" if self.column is not None else ""
        return ", ".join(p for p in (who, col) if p)

    def __str__(self) -> str:
        where = self.where()
        value = f"{_show(self.value)} " if self.has_value else ""
        text = f"{value}{self.rule}" if value else self.rule
        return visible(f"{where}: {text}" if where else text)


def problem(rule: str, *, member=None, column=None, row=None, severity="error", key=None,
            **kw) -> Problem:
    """Build a Problem; pass `value=` only when there is an offending value to show, and
    `key=` instead of `column=` for a key of a file (e.g. 'gains.bands[2].upto')."""
    label = "key" if key is not None else "column"
    column = key if key is not None else column
    if "value" in kw:
        return Problem(rule, member, column, kw["value"], row, severity, True, label)
    return Problem(rule, member, column, None, row, severity, False, label)


def unknown_keys(section: dict, valid, where: str, problems: list) -> None:
    """Add a problem for each key of `section` not in `valid` (file keys named `where` + key,
    e.g. 'pool.' + 'basis')."""
    for key in section:
        if key not in valid:
            problems.append(problem(f"unknown key (valid keys: {', '.join(valid)})",
                                    key=f"{where}{key}"))


def _show(value: object) -> str:
    if isinstance(value, str):
        return repr(value)
    if isinstance(value, float):
        if abs(value) >= 1e15:          # far past any limit: 1e+308, not 309 digits
            return f"{value:.6g}"
        return f"{value:,.2f}" if abs(value) >= 1000 else f"{value:g}"
    return repr(value) if value is not None else "blank"


#: Problems a message lists before it says how many more there are (a file with 60,000 bad
#: rows gets a readable message, not four megabytes of one).
MAX_LISTED = 100


class ValidationError(RiskshareError, ValueError):
    """Input that cannot be used; `.problems` lists every problem found (errors only)."""

    def __init__(self, problems: Iterable[Problem], source: str = ""):
        # Table-wide problems first, then row by row (stable: columns in schema order).
        self.problems = tuple(sorted(problems, key=lambda p: (p.row is not None, p.row or 0)))
        self.source = source
        super().__init__(self._message())

    def _message(self) -> str:
        n = len(self.problems)
        where = f" in {self.source}" if self.source else ""
        head = f"{n:,} problem{'s' if n != 1 else ''}{where}:"
        lines = [f"  - {p}" for p in self.problems[:MAX_LISTED]]
        if n > MAX_LISTED:
            lines.append(f"  … and {n - MAX_LISTED:,} more (the first {MAX_LISTED} are listed; "
                         "`.problems` holds them all)")
        return "\n".join([head, *lines])


class InputFileError(RiskshareError, ValueError):
    """A file that cannot be read at all (missing, wrong type, missing sheet)."""


class NotFoundError(RiskshareError, KeyError):
    """A name that is not there (a member, an agreement label, a sample); the message lists
    the valid names."""

    def __str__(self) -> str:  # KeyError would quote the message
        return self.args[0] if self.args else ""


class UnknownSampleError(NotFoundError):
    """A sample (or preset) name not in the registry; the message lists the valid names."""


class UsageError(RiskshareError, ValueError):
    """A call that cannot be made as asked: an argument out of range or of the wrong kind
    (the message names the argument and what it must be)."""


class ArgumentTypeError(RiskshareError, TypeError):
    """An argument of the wrong type (say, a file name where a System is needed)."""


class BudgetError(RiskshareError, ValueError):
    """Work that would exceed a documented budget (memory for scenarios, time for fairness
    across scenarios); the message gives the estimate, the budget and what to change."""


def checked(parsed, problems: list[Problem], system, source: str):
    """`parsed` (an agreement or rules read with `problems` collected) once its checks against
    `system` are made too (its `check(system)`), reported in one error with the file's own but
    for keys already in error: what was parsed stands in for each bad value (a default), so
    checking it against the system finds only the problems a system can show."""
    if system is not None:
        flagged = {p.column for p in problems}
        problems = problems + [p for p in parsed.check(system) if p.column not in flagged]
    raise_if_errors(problems, source)
    return parsed


def raise_if_errors(problems: Iterable[Problem], source: str = "") -> tuple[Problem, ...]:
    """Raise `ValidationError` if any problem is an error; otherwise return the warnings."""
    problems = tuple(problems)
    errors = [p for p in problems if p.severity == "error"]
    if errors:
        raise ValidationError(errors, source)
    return problems


@dataclass(frozen=True)
class Conflict:
    """One condition of an infeasible optimisation. family/member: which condition (see
    `conditions.py`); condition: it in words; give: £ it would have to give in the smallest
    relaxation found (None: it conflicts but need not give); give_text: that in words."""

    constraint: str
    family: str
    member: str | None
    condition: str
    give: float | None = None
    give_text: str = ""


class InfeasibleError(RiskshareError, ValueError):
    """No allocation meets every condition. `.conflicts` lists the conditions in conflict
    (found by elastic relaxation); `.relaxations` the smallest set of them that would have to
    give, with the amounts (£)."""

    def __init__(self, headline: str, conflicts, relaxations):
        self.headline = headline
        self.conflicts = tuple(conflicts)
        self.relaxations = tuple(relaxations)
        super().__init__(self._message())

    def _message(self) -> str:
        lines = [f"{self.headline}."]
        if self.conflicts:
            lines.append("These conditions conflict:")
            lines += [f"  - {c.condition}" for c in self.conflicts]
        if self.relaxations:
            lines.append("The smallest change that makes it feasible:")
            lines += [f"  - {c.give_text}" for c in self.relaxations]
        return "\n".join(lines)
