"""The embedded default of ``faxappliance run``: a whole fax network in one process.

- :mod:`appliance.demo.embedded`: the simulated lines and FAXAGE simulator (``hwsim``),
  the controller sections pointing at them, the seeded accounts, ``run.json``;
- :mod:`appliance.demo.remote`: the remote fax machines on the simulated lines.

This package is the only part of ``appliance`` that imports ``hwsim``.
"""
