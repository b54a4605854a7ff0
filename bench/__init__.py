"""The Gatewayz performance benchmark (`make bench`, `python -m bench`): a gateway with full
governance against a fake upstream, each figure measured against the same upstream called directly.
See bench/README.md for the method."""
