import sys

from gatewayz.cli import main

sys.exit(main())
