"""``python -m archgraph.cli``: the ``archgraph`` command (also under ``torchrun -m``)."""
import sys

from archgraph.cli import main

sys.exit(main())
