"""``python -m skeletonmae ...``: the same command line as the ``skeletonmae`` script."""

import sys

from skeletonmae.cli.main import main

if __name__ == "__main__":
    sys.exit(main())
