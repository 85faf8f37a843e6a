"""The house's shape (issue 9): packages that show the architecture, and rules that keep it.

- no module over 300 lines (past that a module is doing more than one job);
- no import cycle between modules (floors run one way: CLI → fleet → strategies → account →
  client/feed/risk/funnel);
- the sandbox imports nothing of the bot: it could be lifted out as its own package. One
  exception, `rocky_bot.binance_api`: Binance's API described as data (the weight table, the
  grids), which the client, the sandbox and the bench must share, and which itself imports
  nothing of ours; and the bot imports the sandbox only where it runs it (demo, bench);
- no module imports another's private (`_name`) names.
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "rocky_bot"
MODULES = sorted(PACKAGE.rglob("*.py"))


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


KNOWN = {module_name(p) for p in MODULES}


def imports(path: Path) -> list[tuple[str, list[str]]]:
    """(module, names) for every `import` / `from ... import` at any depth, absolute only."""
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found += [(alias.name, []) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            found.append((node.module, [alias.name for alias in node.names]))
    return found


def module_edges(path: Path, *, top_level_only: bool) -> set[str]:
    """The rocky_bot modules `path` imports: `from pkg import sub` counts as `pkg.sub`."""
    tree = ast.parse(path.read_text())
    nodes = tree.body if top_level_only else list(ast.walk(tree))
    edges: set[str] = set()
    for node in nodes:
        if isinstance(node, ast.If):  # `if TYPE_CHECKING:` imports never run
            continue
        if isinstance(node, ast.ImportFrom) and node.module and not node.level:
            for alias in node.names:
                sub = f"{node.module}.{alias.name}"
                if sub in KNOWN:
                    edges.add(sub)
                elif node.module in KNOWN:
                    edges.add(node.module)
        elif isinstance(node, ast.Import):
            edges |= {alias.name for alias in node.names if alias.name in KNOWN}
    return edges


def test_each_module_keeps_to_one_job() -> None:
    too_long = {module_name(p): n for p in MODULES if (n := len(p.read_text().splitlines())) > 300}
    assert too_long == {}, "past ~300 lines a module wants splitting"


def test_no_import_cycle_at_import_time() -> None:
    graph = {module_name(p): module_edges(p, top_level_only=True) for p in MODULES}
    cycles: list[list[str]] = []
    state: dict[str, int] = {}

    def visit(node: str, stack: list[str]) -> None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                cycles.append([*stack[stack.index(nxt) :], nxt])
            elif nxt not in state:
                visit(nxt, stack)
        stack.pop()
        state[node] = 2

    for name in sorted(graph):
        if name not in state:
            visit(name, [])
    assert cycles == []


#: What the sandbox may import from outside itself: the API description shared with the bot.
SHARED_WITH_THE_SANDBOX = ("rocky_bot", "binance_api")


def test_the_sandbox_imports_nothing_of_the_bot() -> None:
    outside = {
        module_name(p): m
        for p in MODULES
        if "sandbox" in p.parts
        for m, _ in imports(p)
        if m.startswith("rocky_bot")
        and tuple(m.split(".")[:2]) not in (("rocky_bot", "sandbox"), SHARED_WITH_THE_SANDBOX)
    }
    assert outside == {}


#: The bot's modules that import the sandbox: those that run it (the demo, the bench's exchange).
RUN_THE_SANDBOX = ("rocky_bot.demo", "rocky_bot.bench.")


def test_the_bot_imports_the_sandbox_only_to_run_it() -> None:
    """What the bot and the sandbox both need to know (Binance's weights, its grids) lives in
    `binance_api`, so the daemon runs with the sandbox lifted out."""
    inside = {
        module_name(p): m
        for p in MODULES
        if "sandbox" not in p.parts and not module_name(p).startswith(RUN_THE_SANDBOX)
        for m, _ in imports(p)
        if m.startswith("rocky_bot.sandbox")
    }
    assert inside == {}


def test_the_shared_api_description_imports_nothing_of_ours() -> None:
    """`binance_api` is data the sandbox may import only because it imports nothing of ours."""
    ours = {
        module_name(p): m
        for p in MODULES
        if "binance_api" in p.parts
        for m, _ in imports(p)
        if m.startswith("rocky_bot") and tuple(m.split(".")[:2]) != SHARED_WITH_THE_SANDBOX
    }
    assert ours == {}


def test_no_module_imports_anothers_private_names() -> None:
    private = [
        f"{module_name(p)}: {module}.{name}"
        for p in MODULES
        for module, names in imports(p)
        if module.startswith("rocky_bot")
        for name in names
        if name.startswith("_") and not name.startswith("__")
    ]
    assert private == []
