"""`python -m promptgraph` runs the command line."""

import sys

from promptgraph.cli import main

sys.exit(main())
