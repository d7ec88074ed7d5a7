"""Where riskshare's own files come from: a bundled name, text given inline, or a path the caller
gave — and the rule that keeps a file from reaching outside what it may name.

**The file rule.** A path is opened only when the *caller* gives it: an argument on the command
line, or a Python call such as `rs.load_agreement("my_agreement.toml")`. Anything written *inside*
a file (a session's shocks, presets and sample, a `system.toml`'s table) may only name a bundled
item or define it inline; a name that is neither is refused by name, and nothing is opened for it.
So a session uploaded to the app can never make the server read one of its files.

`resolve` sorts what a caller gave into a bundled name, a path or TOML text; `read_text` and
`parse_toml` read it, turning every way a file can be unreadable (missing, a folder, not UTF-8,
not TOML, nested deeper than a parser can follow) into one `InputFileError` naming it.
"""

from __future__ import annotations

import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from riskshare.core.errors import InputFileError

Origin = Literal["bundled", "path", "text"]


@dataclass(frozen=True)
class Source:
    """What a caller's value turned out to be. origin: "bundled" (`path` is the bundled file),
    "path" (a file the caller named) or "text" (TOML given inline, in `text`); `label` names it
    in messages."""

    origin: Origin
    label: str
    path: Path | None = None
    text: str | None = None

    def read(self) -> str:
        """The TOML text (read from the file for bundled names and paths)."""
        return self.text if self.text is not None else read_text(self.path)


def resolve(value, kind: str, bundled: Callable[[], list[str]],
            bundled_path: Callable[[str], Path], word: str = "") -> Source:
    """Sort `value` (a Path, or a str) into a bundled `kind` ("agreement", "shock", "session"),
    a .toml path or TOML text. `word` is what the bundled ones are called ("shock preset";
    default "bundled <kind>").

    A str with a line break is TOML text; a one-line str is a bundled name if it is one, a path
    if it ends in .toml or names an existing file, TOML text if it holds an '=', and otherwise a
    mistake named in the message with the bundled names. An empty str is refused as empty."""
    word = word or f"bundled {kind}"
    if isinstance(value, str) and "\n" in value:
        return Source("text", kind, text=value)
    if isinstance(value, str):
        name = value.strip()
        if name == "":
            raise InputFileError(f"the {kind} text is empty: give a {word} name, a .toml file "
                                 "or the TOML text itself")
        if name in bundled():
            return Source("bundled", name, path=bundled_path(name))
        if not (name.lower().endswith(".toml") or is_file(name)) and "=" in name:
            return Source("text", kind, text=value)
        path = Path(name)
    elif isinstance(value, Path):
        path, name = value, str(value)
    else:
        raise InputFileError(f"expected a {word} name, a .toml path or TOML text, got "
                             f"{type(value).__name__}")
    if is_dir(path):
        raise InputFileError(f"{path}: is a folder, not {_a(kind)} .toml file")
    if not is_file(path):
        raise InputFileError(f"'{short(name)}' is neither {_a(word)} ({', '.join(bundled()) or 'none'}) "
                             f"nor {_a(kind)} .toml file: no such {kind} file")
    return Source("path", path.name, path=path)


def short(path) -> str:
    """A path or name for a message: as given, or its start and end when it is very long."""
    text = str(path)
    return text if len(text) <= 120 else f"{text[:60]}…{text[-40:]} ({len(text):,} characters)"


def exists(path) -> bool:
    """Whether `path` exists; False, not OSError, for a name the system cannot even look up
    (thousands of characters long, say)."""
    try:
        return Path(path).exists()
    except (OSError, ValueError):
        return False


def is_file(path) -> bool:
    """Whether `path` is a file (False for a name that cannot be looked up; see `exists`)."""
    try:
        return Path(path).is_file()
    except (OSError, ValueError):
        return False


def is_dir(path) -> bool:
    """Whether `path` is a folder (False for a name that cannot be looked up)."""
    try:
        return Path(path).is_dir()
    except (OSError, ValueError):
        return False


def _a(noun: str) -> str:
    return ("an " if noun[:1].lower() in "aeiou" else "a ") + noun


def bundled_only(name, kind: str, bundled: Callable[[], list[str]], where: str = "") -> str:
    """`name` if it is a bundled `kind`, else InputFileError — without touching the file system
    for `name` (the rule for names written inside a file). `where` names the key in the file."""
    names = bundled()
    if isinstance(name, str) and name in names:
        return name
    at = f"{where}: " if where else ""
    raise InputFileError(f"{at}{name!r} is not a bundled {kind} ({', '.join(names) or 'none'}); "
                         f"a file may only name bundled {kind}s or define them inline, never a "
                         "path")


def read_bytes(path, what: str = "") -> bytes:
    """A file's bytes; InputFileError when it is missing, a folder or unreadable."""
    path = Path(path)
    label = f"{what} {short(path)}" if what else short(path)
    if not exists(path):
        raise InputFileError(f"{label}: no such file")
    if is_dir(path):
        raise InputFileError(f"{label}: is a folder, not a file")
    try:
        return path.read_bytes()
    except OSError as exc:
        raise InputFileError(f"{label}: cannot be read ({exc.strerror or exc})") from None


def read_text(path, what: str = "") -> str:
    """A UTF-8 text file (a byte-order mark is allowed); InputFileError when it is missing, a
    folder, unreadable or not UTF-8."""
    return decode(read_bytes(path, what), Path(path).name)


def decode(data: bytes, label: str) -> str:
    """Bytes of a text file as str; InputFileError when they are not UTF-8."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputFileError(f"{label}: is not a UTF-8 text file (byte {exc.start + 1} cannot be "
                             "read); save it as UTF-8 and try again") from None


def parse_toml(text: str, source: str) -> dict:
    """Parse TOML text; InputFileError naming `source` when it is not valid TOML or nested more
    deeply than can be read."""
    if not isinstance(text, str):
        raise InputFileError(f"{source}: expected TOML text, got {type(text).__name__}")
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise InputFileError(f"{source}: not valid TOML ({exc})") from None
    except RecursionError:
        raise InputFileError(f"{source}: nested too deeply to read (arrays or tables inside "
                             "each other hundreds of levels deep)") from None


__all__ = ["Source", "resolve", "bundled_only", "read_bytes", "read_text", "decode",
           "parse_toml"]
