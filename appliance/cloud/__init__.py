"""FAXAGE cloud backend: pure request builders and reply parsers
(:mod:`appliance.cloud.api`), the httpx client bridged to Twisted
(:mod:`appliance.cloud.client`), the url_notify resource and status
poller (:mod:`appliance.cloud.notify`) and the inbound poller
(:mod:`appliance.cloud.receive_poller`)."""

from appliance.cloud.api import Credentials, Request, build, build_sendfax, parse
from appliance.cloud.errors import FaxageError

__all__ = ["Credentials", "FaxageError", "Request", "build", "build_sendfax", "parse"]
