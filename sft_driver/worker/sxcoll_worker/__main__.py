"""`python3 -m sxcoll_worker ...`: the training worker (see cli.py)."""

import sys

from .cli import main

sys.exit(main())
