"""`rocky-bot bench` (and the soak): the real fleet against the sandbox, judged from outside.

- `run.py`: the command and its timeline; `procs.py`: the three processes;
- `probe.py`: the exchange-side recorder; `analysis.py`, `samples.py`: what the recording means;
- `report.py`: the JSON report and its table; `feed.py`: the feed's per-message cost alone.
"""
