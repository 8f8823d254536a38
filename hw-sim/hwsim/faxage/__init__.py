"""Simulated FAXAGE Internet fax service: pure account state
(:mod:`hwsim.faxage.state`) and its twisted.web adapter
(:mod:`hwsim.faxage.service`)."""

from hwsim.faxage.service import Fault, FaxageSimulator
from hwsim.faxage.state import Callback, FaxageSim, Reply, Step

__all__ = ["Callback", "Fault", "FaxageSim", "FaxageSimulator", "Reply", "Step"]
