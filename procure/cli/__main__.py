import sys

from procure.cli.main import main

sys.exit(main())
