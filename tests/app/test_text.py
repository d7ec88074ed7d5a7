"""User text is shown as text: `md` escapes Markdown, and a web or e-mail address in a member's
name never becomes a live link (GitHub-flavoured Markdown links bare addresses even when their
punctuation is escaped; a fresh-eyes review found `=HYPERLINK("http://evil.example", …)` in a
member name rendered as a clickable link on Reconcile)."""

from __future__ import annotations

import re

from riskshare.ui.text import WORD_JOINER, md
from tests.app.conftest import rendered


def test_addresses_are_broken_by_an_invisible_joiner_and_read_the_same():
    name = '=HYPERLINK("http://evil.example","click") www.bad.com x@y.com'
    escaped = md(name)
    assert "http\\:" + WORD_JOINER + "\\/\\/" in escaped
    assert "www" + WORD_JOINER + "\\." in escaped
    assert "\\@" + WORD_JOINER in escaped
    # what a reader sees: the name exactly, the joiner being invisible
    assert rendered(escaped).replace(WORD_JOINER, "") == name
    # no bare scheme or www. left for an autolinker to find
    assert not re.search(r"https?://|www\.", rendered(escaped))


def test_ordinary_text_is_only_escaped():
    assert md("NGH · Northshire [north] **x** :smile:") == \
        "NGH · Northshire \\[north\\] \\*\\*x\\*\\* \\:smile\\:"
