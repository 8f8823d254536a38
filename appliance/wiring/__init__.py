"""How ``faxappliance run`` assembles the process from its configuration.

- :mod:`appliance.wiring.assemble`: ``make_service`` (everything ``run`` starts) and
  ``make_appliance`` (the controller: lines, queue, routers, cloud, port-server role);
- :mod:`appliance.wiring.controller`: the ``Appliance`` record of those parts and the
  ``ApplianceService`` that starts and stops them in order;
- :mod:`appliance.wiring.radius_services`: the RADIUS server (in process or as workers);
- :mod:`appliance.wiring.web_adapters`: the controller's parts as the web service sees them;
- :mod:`appliance.wiring.reactor`: the reactor type the wiring needs.
"""
