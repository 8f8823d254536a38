"""Configuration: TOML text -> a frozen :class:`Config` (see :mod:`appliance.config.core`)."""

from appliance.config.core import *  # noqa: F403
from appliance.config.core import MAX_RADIUS_WORKERS, OTHER_SECTIONS, _Section  # noqa: F401
