#!/usr/bin/env python3
"""Double-click entry point: start the FitGap window from a checkout."""

import os
import sys

# Run from a plain checkout too: the package sits next to this file.
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from fitgap_gui.app import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main(sys.argv))
