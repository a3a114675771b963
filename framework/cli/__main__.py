"""``python -m framework.cli.main``: the ``datakits`` command."""

import sys

from .main import main

sys.exit(main())
