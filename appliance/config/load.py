"""The configuration package's one file read: ``load(path)`` and
``all_errors(path)`` read the file and hand its text to the pure parsers."""

from __future__ import annotations

from pathlib import Path

from appliance.config.check import errors_in
from appliance.config.file import Config, parse
from appliance.config_reader import ConfigError

__all__ = ["all_errors", "load"]


def _read(p: Path) -> str:
    try:
        return p.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(str(p), "", f"cannot read: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise ConfigError(str(p), "", "not UTF-8 text") from None


def load(path: str | Path) -> Config:
    """Read and parse the config file at ``path``."""
    p = Path(path)
    return parse(_read(p), str(p), base_dir=str(p.parent))


def all_errors(path: str | Path) -> list[str]:
    """Every error found in the file at ``path`` (empty when it is valid), one line each."""
    p = Path(path)
    try:
        text = _read(p)
    except ConfigError as exc:
        return [str(exc)]
    return errors_in(text, str(p), str(p.parent))
