"""`python -m rocky_bot.bench report WORKDIR [OUT.json]`: analyse a kept bench recording again;
`python -m rocky_bot.bench table REPORT.json... [--write README.md]`: the README's table."""

import sys

from rocky_bot.bench.run import report_main
from rocky_bot.bench.table import table_main

USAGE = (
    "usage: python -m rocky_bot.bench report WORKDIR [OUT.json]\n"
    "       python -m rocky_bot.bench table REPORT.json... [--write README.md]\n"
    "(run: `rocky-bot bench`)"
)
if len(sys.argv) > 2 and sys.argv[1] == "report":
    sys.exit(report_main(sys.argv[2:]))
if len(sys.argv) > 1 and sys.argv[1] == "table":
    sys.exit(table_main(sys.argv[2:]))
sys.exit(USAGE)
