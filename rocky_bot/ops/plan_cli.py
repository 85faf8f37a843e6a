"""`rocky-bot plan [--keys PATH] [--symbols A,B,...]`: the request weight the settings will cost,
per call and per symbol, before anything runs (budget.py plans it; `run` refuses what it
cannot carry). Exit 0 when it fits one IP's budget, 1 when it needs shards (it names a split).
"""

from __future__ import annotations

import argparse

from rocky_bot.budget import BUDGET_SHARE, plan_for
from rocky_bot.funnel import funnel_ids, parse_account_id
from rocky_bot.keys import load_keys
from rocky_bot.settings import load_settings


def cmd_plan(args: argparse.Namespace) -> int:
    settings = load_settings(keys_path=args.keys, symbols=args.symbols)
    if args.keys is not None or settings.keys_path.exists():
        keys = load_keys(settings.keys_path, allow_public_exchange=True)
        specs, source = [a.spec for a in keys.accounts], str(settings.keys_path)
    else:
        specs, source = [parse_account_id(i) for i in funnel_ids(30)], "the standard funnel"
    plan = plan_for(settings, specs)
    n = len(plan.symbols)
    print(
        f"{plan.accounts} accounts ({source}) × {n} symbols ({', '.join(plan.symbols)}), "
        f"volatility {settings.budget_annual_vol:g}; every order action at 1\n"
    )
    print(f"{'request weight a minute':<24} {'call':<36} {'a symbol':>9} {'in all':>8}")
    for line in plan.lines:
        total = plan.line_total(line)
        each = f"{(total - line.fixed) / n:,.0f}" if line.per_symbol else "-"
        print(f"{line.what:<24} {line.call:<36} {each:>9} {total:>8,.0f}")
    print(f"{'total':<24} {'':<36} {plan.per_symbol:>9,.0f} {plan.total:>8,.0f}")
    costs = ", ".join(f"{s} {c:,.0f}" for s, c in plan.symbol_costs().items())
    print(f"a symbol, with its tick (tick_grid.py): {costs}\n")
    budget = f"{BUDGET_SHARE:.0%} of ROCKY_WEIGHT_LIMIT_PER_MIN={plan.limit}: {plan.budget:,.0f}"
    most = plan.max_symbols()
    if plan.total <= plan.budget:
        print(f"fits one IP ({budget}); at most {most} symbols on one IP")
        return 0
    shards = " | ".join(",".join(group) for group in plan.shards())
    print(f"over one IP's budget ({budget}): at most {most} symbols on one IP; shards: {shards}")
    return 1
