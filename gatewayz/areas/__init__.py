"""One module per API area: the sub-container that builds the area's use cases from the ports the
root container hands it, and the area's HTTP side (its controllers, which receive its bundle).

A new area: its domain model, ports and use cases, adapters, schemas and controller; then a module
here; then one line in gatewayz/container.py and one in gatewayz/app.py (see the README's map)."""
