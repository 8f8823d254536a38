"""``faxappliance config check``: every error of a configuration file, not
only the first (pure: text in, lines out).  Each section's parser runs on its
own (so one bad section does not hide the others); the rules between
sections and the unknown top-level keys are checked when the sections
themselves are fine."""

from __future__ import annotations

import tomllib

from appliance.config.file import parse_document, section_checks
from appliance.config_reader import ConfigError

__all__ = ["errors_in"]


def errors_in(text: str, source: str, base_dir: str) -> list[str]:
    """Every error found in the configuration ``text`` (empty when it is valid), one line each."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        return [f"{source}: not valid TOML: {exc}"]
    errors: list[str] = []
    for check in section_checks(source, data, base_dir):
        try:
            check()
        except ConfigError as exc:
            errors.append(str(exc))
    if not errors:
        try:
            parse_document(data, source, base_dir)
        except ConfigError as exc:
            errors.append(str(exc))
    return list(dict.fromkeys(errors))
