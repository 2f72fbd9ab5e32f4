"""Allow ``python -m trustbench`` as an alias of the ``trustbench`` command."""

import sys

from trustbench.core.cli import main

if __name__ == "__main__":
    sys.exit(main())
