import sys

from rocky_bot.cli import main

sys.exit(main())
