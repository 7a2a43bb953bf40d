"""``python -m ctc`` is the ``ctc`` command."""

import sys

from ctc.cli import main

sys.exit(main())
