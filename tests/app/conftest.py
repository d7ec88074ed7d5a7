"""AppTest reads Markdown elements as their source. The app escapes user text (and library
sentences quoting it) with backslashes so it shows literally (riskshare/ui/text.py); a browser
shows it without them. The app tests read what a user reads: the text with CommonMark's
backslash escapes resolved, for markdown, captions, alerts, headings and metric labels."""

from __future__ import annotations

import re

import pytest
from streamlit.runtime.media_file_manager import MediaFileManager
from streamlit.runtime.memory_media_file_storage import MemoryMediaFileStorage
from streamlit.testing.v1 import element_tree as et

_ESCAPE = re.compile(r"\\([!-/:-@\[-`{-~])")


def rendered(text: str) -> str:
    """Markdown source as read: every backslash escape of ASCII punctuation resolved."""
    return _ESCAPE.sub(r"\1", text)


@pytest.fixture(autouse=True, scope="session")
def _read_markdown_as_shown():
    patched = [(et.AlertBase, "value", lambda self: rendered(self.proto.body)),
               (et.Markdown, "value", lambda self: rendered(self.proto.body)),
               (et.HeadingBase, "value", lambda self: rendered(self.proto.body)),
               (et.Metric, "label", lambda self: rendered(self.proto.label))]
    saved = [(cls, name, cls.__dict__.get(name)) for cls, name, _ in patched]
    for cls, name, read in patched:
        setattr(cls, name, property(read))
    yield
    for cls, name, old in saved:
        if old is None:
            delattr(cls, name)
        else:
            setattr(cls, name, old)


class _Downloads(dict):
    """File name -> the bytes the user would save; a download made only when clicked (data given
    as a callable) is made when the test reads it, once."""

    def __getitem__(self, name):
        value = super().__getitem__(name)
        if callable(value):
            value = value()
            self[name] = value
        return value

    def get(self, name, default=None):
        return self[name] if name in self else default


@pytest.fixture
def downloads(monkeypatch) -> dict:
    """Files handed to download buttons, by file name (the bytes the user would save)."""
    files = _Downloads()
    original = MemoryMediaFileStorage.load_and_get_id

    def record(self, path_or_data, mimetype, kind, filename=None):
        if filename:
            files[filename] = path_or_data
        return original(self, path_or_data, mimetype, kind, filename)

    monkeypatch.setattr(MemoryMediaFileStorage, "load_and_get_id", record)

    # a download made only when clicked (data given as a callable): what the click would save
    deferred = MediaFileManager.add_deferred

    def record_deferred(self, data_callable, mimetype, coordinates, file_name=None, **kwargs):
        if file_name:
            files[file_name] = data_callable      # made when the test reads it, as on a click
        return deferred(self, data_callable, mimetype, coordinates, file_name, **kwargs)

    monkeypatch.setattr(MediaFileManager, "add_deferred", record_deferred)
    return files
