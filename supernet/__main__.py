"""``python -m supernet``: train a supernet from the command line (:func:`supernet.cli.main`)."""
import sys

from supernet.cli import main

sys.exit(main())
