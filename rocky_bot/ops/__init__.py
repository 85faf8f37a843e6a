"""Operations around the fleet: what an operator runs and reads.

Per account: `upkeep.py` (set-up, reconcile, dead-man, wallet). For the process: `status.py`
(`/status`, `/metrics` app), `metrics.py`, `notify.py` (sd_notify), `logs.py`. Commands:
`status_cli.py`, `onboarding.py` (mint), `reset.py`, `checks.py` (check-keys), `book.py`,
`market_view.py` (the sandbox command's live view).
"""
