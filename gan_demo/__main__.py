"""``python -m gan_demo ...``: see :mod:`gan_demo.cli`."""

from __future__ import annotations

import sys

from gan_demo.cli import main

if __name__ == "__main__":
    sys.exit(main())
