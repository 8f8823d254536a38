"""Incoming faxes: the inbound router (a call on a line, or a fax polled from
FAXAGE, filed by its DID) and the inbox store (:mod:`appliance.inbound.inbox`)."""
