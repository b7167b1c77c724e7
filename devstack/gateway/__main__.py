"""``python -m devstack.gateway --db-url URL --port P``: serve the local API in the foreground."""

import sys

from devstack.gateway.server import main

sys.exit(main())
