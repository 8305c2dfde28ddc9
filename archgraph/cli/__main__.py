"""``python -m archgraph.cli``: the ``archgraph`` command (when the entry point is not on PATH)."""
import sys

from archgraph.cli import main

sys.exit(main())
