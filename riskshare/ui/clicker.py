"""The presentation clicker: in presentation mode the clicker's keys move between steps whatever
has focus, and the keyboard never changes a what-if.

A presentation clicker sends PageDown / PageUp (some send the arrow keys). Left to the browser, a
focused What-if slider takes PageDown for itself (75% → 65%, recomputing the figures in front of
the room), and a focused toggle swallows it. `install` puts a small script on the page that
listens to every key press before anything on the page sees it (a capture-phase listener on the
window) and, while the page is in presentation mode:

- PageDown, ArrowRight, ArrowDown press the Next button; PageUp, ArrowLeft, ArrowUp press Back
  (held keys repeat nothing; with Ctrl, Alt or Cmd the key is left to the browser);
- any other key aimed at the what-if panel is dropped (Tab and Escape excepted, so focus can
  still move on): only the mouse or a touch changes a what-if.

The listener is added once per browser tab and does nothing unless the marker container
(`st-key-<marker>`, drawn only in presentation mode) is on the page, so leaving presentation
mode turns it off. Entering presentation mode takes focus off whatever had it (the toggle), so
the first PageDown works without a click. Space is left alone: it presses a focused button.
"""

from __future__ import annotations

import json

import streamlit as st

NEXT_KEYS = ("PageDown", "ArrowRight", "ArrowDown")
BACK_KEYS = ("PageUp", "ArrowLeft", "ArrowUp")
PASS_KEYS = ("Tab", "Escape", "Shift", "Control", "Alt", "Meta")   # allowed in the guarded area

_SCRIPT = """
(() => {
  const cfg = %(config)s;
  const all = (window.__riskshareClicker = window.__riskshareClicker || {});
  if (!all[cfg.marker]) {
    all[cfg.marker] = true;
    const onKey = (e) => {
      if (!document.querySelector(".st-key-" + cfg.marker)) return;   // not presenting
      const modified = e.ctrlKey || e.altKey || e.metaKey;
      const move = modified ? null : cfg.next.includes(e.key) ? cfg.nextKey
        : cfg.back.includes(e.key) ? cfg.backKey : null;
      if (move) {
        e.preventDefault();
        e.stopImmediatePropagation();
        if (e.repeat) return;
        const button = document.querySelector(".st-key-" + move + " button");
        if (button && !button.disabled) button.click();
        return;
      }
      const target = e.target;
      if (cfg.guard && target && target.closest && target.closest(".st-key-" + cfg.guard)
          && !cfg.pass.includes(e.key)) {
        e.preventDefault();
        e.stopImmediatePropagation();
      }
    };
    window.addEventListener("keydown", onKey, true);
  }
  // entering presentation mode: the page, not the toggle just clicked, has the keyboard
  const active = document.activeElement;
  if (active && active !== document.body && active.blur) active.blur();
  window.focus();
})();
"""


def script(next_key: str, back_key: str, marker: str, guard: str | None) -> str:
    """The listener's JavaScript for these widget keys (each a Streamlit `key=`)."""
    config = {"next": list(NEXT_KEYS), "back": list(BACK_KEYS), "pass": list(PASS_KEYS),
              "nextKey": next_key, "backKey": back_key, "marker": marker, "guard": guard}
    return _SCRIPT % {"config": json.dumps(config)}


def install(next_key: str, back_key: str, marker: str, guard: str | None = None) -> None:
    """Draw the clicker for the buttons keyed `next_key` and `back_key`: a hidden container
    keyed `marker` holding the script. Call it only in presentation mode, on every run (the
    script runs once, when the container first appears). Keys aimed at the container keyed
    `guard` (the what-if panel) are dropped, except Tab and Escape."""
    _hidden_script(marker, script(next_key, back_key, marker, guard))


_TO_TOP = """
(() => {
  // step %(token)s: the new step starts at its title, wherever the last one was scrolled to
  const main = document.querySelector('[data-testid="stMain"]');
  if (main) main.scrollTo({top: 0});
  window.scrollTo({top: 0});
})();
"""


def to_top(token: str, marker: str) -> None:
    """Scroll the page back to its top whenever `token` changes (the step on screen): after a
    facilitator scrolled down to the what-if panel, the next step must open at its title and
    chart, not half-way down. A rerun with the same `token` (a what-if moved) leaves the scroll
    alone: the script is only run again when its text changes."""
    _hidden_script(marker, _TO_TOP % {"token": json.dumps(str(token))})


def _hidden_script(marker: str, javascript: str) -> None:
    """`javascript` run on the page from a container keyed `marker` that takes no room."""
    with st.container(key=marker):
        hidden = (f".st-key-{marker}, "
                  f"[data-testid='stLayoutWrapper']:has(> .st-key-{marker})")
        st.html(f"<style>{hidden} {{ display: none; }}</style><script>{javascript}</script>",
                unsafe_allow_javascript=True)
