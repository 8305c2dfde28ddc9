"""``python -m supernet``: train a supernet from the command line (:func:`supernet.train.main`)."""
import sys

from supernet.train import main

sys.exit(main())
