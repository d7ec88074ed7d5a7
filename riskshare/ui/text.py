"""Text from users shown as text on every Markdown surface of the app.

Streamlit renders Markdown, plus its own directives (":red[...]", ":material/icon:", emoji codes
such as ":smile:", "$maths$"), in markdown, captions, alerts, headings, metric labels, widget
labels and help. Member names and ids, agreement names, session titles and notes, file names
and the library's sentences that quote them are user text: `md` escapes every ASCII punctuation
mark with a backslash (CommonMark's own escape), so "[north site]", "**x**" or ":smile:" show
exactly as written and nothing in a name can format, link, load an image or run maths.
"""

from __future__ import annotations

import re

_PUNCTUATION = re.compile(r"""([!"#$%&'()*+,\-./:;<=>?@\[\\\]^_`{|}~])""")
#: GitHub-flavoured Markdown turns bare "http://…", "www.…" and "name@host.tld" into links even
#: when their punctuation is escaped; a word joiner (U+2060, invisible) inside each breaks that.
_AUTOLINK = re.compile(r"(\\:)(?=\\/\\/)|(?i:(www))(?=\\\.)|(\\@)")
WORD_JOINER = "\u2060"


def md(text) -> str:
    """`text` (any value, shown with str) escaped for Markdown: it displays literally, and a
    web address or e-mail address in it is never made a link."""
    escaped = _PUNCTUATION.sub(r"\\\1", str(text))
    return _AUTOLINK.sub(lambda m: m.group(0) + WORD_JOINER, escaped)


def md_lines(lines, bullet: str = "- ") -> str:
    """Several sentences as a Markdown list, each shown literally."""
    return "\n".join(f"{bullet}{md(line)}" for line in lines)



def unbroken(text: str) -> str:
    """Keep a sign with its amount: no line break inside "-£3.44m" or "+£1.20m" (a word joiner
    after the sign; in Markdown-escaped text too)."""
    return text.replace("-£", f"-{WORD_JOINER}£").replace("+£", f"+{WORD_JOINER}£")


def money_lines(lines, bullet: str = "- ") -> str:
    """Sentences holding £ figures as a Markdown list (`md_lines`), each figure's sign kept
    beside its £ (`unbroken`)."""
    return unbroken(md_lines(lines, bullet))
