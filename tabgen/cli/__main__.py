"""``python -m tabgen.cli``: the ``tabgen`` command."""

import sys

from tabgen.cli import main

if __name__ == "__main__":
    sys.exit(main())
