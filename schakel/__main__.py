import sys

from schakel.cli import main

sys.exit(main())
