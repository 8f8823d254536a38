"""``python -m appliance.cli``: the ``faxappliance`` program."""

import sys

from appliance.cli import entry

sys.exit(entry())
