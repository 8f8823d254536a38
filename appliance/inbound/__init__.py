"""Incoming faxes: the inbound router (:mod:`appliance.inbound.router`, a call on a
line filed by its DID), the FAXAGE receive poller's sink
(:mod:`appliance.inbound.sinks`, a cloud fax filed by its DNIS) and the inbox
store (:mod:`appliance.inbound.inbox`)."""
