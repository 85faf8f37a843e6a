"""`python -m rocky_bot.bench report WORKDIR [OUT.json]`: analyse a kept bench recording again."""

import sys

from rocky_bot.bench.run import report_main

if len(sys.argv) > 2 and sys.argv[1] == "report":
    sys.exit(report_main(sys.argv[2:]))
sys.exit("usage: python -m rocky_bot.bench report WORKDIR [OUT.json] (run: `rocky-bot bench`)")
