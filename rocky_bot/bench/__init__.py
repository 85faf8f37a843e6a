"""`rocky-bot bench` (and the soak): the real fleet against the sandbox, judged from outside.

- `run.py`: the command and its profiles; `phases.py`: one run's timeline; `procs.py`: the
  three processes; `probe.py`: the exchange-side recorder;
- `weight.py`, `analysis.py`, `samples.py`, `levels.py`: what the recording means;
- `report.py`: the JSON report and its table; `table.py`: the README's table from committed
  reports; `feed.py`: the feed's per-message cost alone.
"""
