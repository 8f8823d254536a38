"""Document conversion with bounds: the ``[limits]`` section, a pool of
resource-limited worker processes, and its Twisted adapter."""

from appliance.render.limits import Limits, parse_limits
from appliance.render.pool import RenderCrash, RenderError, RenderLimitError, RenderPool, WorkerDied

__all__ = ["Limits", "RenderCrash", "RenderError", "RenderLimitError", "RenderPool", "WorkerDied", "parse_limits"]
