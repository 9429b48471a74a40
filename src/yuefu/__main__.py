"""``python -m yuefu`` is the ``yuefu`` command."""

import sys

from yuefu.cli import main

sys.exit(main())
