"""Configuration: the TOML file -> a frozen :class:`Config` with every section typed.

- :mod:`appliance.config_reader` — the one reader (:class:`Section`) every
  section parser uses, and :class:`ConfigError`;
- :mod:`appliance.config.core` — ``[storage]``, ``[radius]``, ``[faxage]`` and
  the choices (enums) of the core sections;
- :mod:`appliance.config.lines` — ``[[lines]]``, ``[routing]``, ``[retry]``;
- :mod:`appliance.config.web` — ``[web]``;
- :mod:`appliance.config.file` — :class:`Config` and :func:`parse` (all sections, once);
- :mod:`appliance.config.check` — every error of a file (``faxappliance config check``);
- :mod:`appliance.config.load` — the one module that reads the file.

All but ``load`` are pure.  Sections owned by a feature keep their dataclass
and parser next to it (``appliance.render.limits``, ``appliance.node_config``,
``appliance.retention``, ``appliance.portserver.config``, ``appliance.dialplan``,
``appliance.mail.config``) and read their table through the same reader.
"""

from appliance.config.core import (
    MAX_RADIUS_WORKERS,
    FaxageConfig,
    LineClass,
    LineConfig,
    LineDirection,
    RadiusConfig,
    RetryConfig,
    RoutingConfig,
    RoutingPolicy,
    StorageConfig,
    UuidFormat,
)
from appliance.config.file import Config, default_config, parse
from appliance.config.load import all_errors, load
from appliance.config_reader import ConfigError, Section
from radius.clients import RadiusClientConfig, Secret

__all__ = [
    "MAX_RADIUS_WORKERS",
    "Config",
    "ConfigError",
    "FaxageConfig",
    "LineClass",
    "LineConfig",
    "LineDirection",
    "RadiusClientConfig",
    "RadiusConfig",
    "RetryConfig",
    "RoutingConfig",
    "RoutingPolicy",
    "Secret",
    "Section",
    "StorageConfig",
    "UuidFormat",
    "all_errors",
    "default_config",
    "load",
    "parse",
]
