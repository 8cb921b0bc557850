"""``python -m localchain.cli``: the same as the ``localchain`` console script."""

import sys

from localchain.cli import main

sys.exit(main())
