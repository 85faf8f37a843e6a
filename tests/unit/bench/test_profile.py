"""The profile's split: each py-spy sample in exactly one part, the README's shares from it."""

from rocky_bot.bench.profile import part_of, split

# Frames as py-spy writes them (`-f raw`): the file named from its package.
LOOP = "Runner.run (asyncio/runners.py:118)"
FEED = "DirectConnection.data_received (rocky_bot/reconnect.py:110)"
WS_READ = "Connection.data_received (websockets/asyncio/connection.py:1116)"
MAKER = "StrategyLoop.run (rocky_bot/strategies/loop.py:80)"
SEND = "AnyIOStream.write (httpcore/_backends/anyio.py:50)"
H11 = "Connection.next_event (h11/_connection.py:440)"
WS = "Frame.parse (websockets/frames.py:230)"
USER = "UserStream._handle (rocky_bot/exchange/user_stream.py:210)"
STEP = "Task.__step (asyncio/tasks.py:267)"


def test_a_sample_belongs_to_the_outermost_part_that_explains_it() -> None:
    assert part_of([LOOP]) == "event_loop"  # uvloop's own time: the leaf is the runner
    assert part_of([LOOP, FEED, WS_READ, WS]) == "feed"  # parsed in the feed's read callback
    assert part_of([LOOP, WS_READ, WS]) == "user_stream"  # any other socket's frames
    assert part_of([LOOP, MAKER, SEND]) == "maker_loops_and_requests"
    assert part_of([USER]) == "user_stream"


def test_a_resumed_coroutine_is_split_by_the_library_it_is_in() -> None:
    """py-spy shows a coroutine resumed after an await without its caller: not guessed back."""
    assert part_of([H11]) == "resumed_http"
    assert part_of([WS]) == "resumed_websockets"
    assert part_of([STEP]) == "resumed_asyncio"
    assert part_of(["read_decimal (rocky_bot/numbers.py:40)"]) == "other"


def test_split_counts_every_sample_once_and_shares_add_up() -> None:
    raw = [
        f"{LOOP} 10",
        f"{LOOP};{FEED};{WS} 6",
        f"{LOOP};{MAKER};{SEND} 3",
        f"{H11} 1",
        "",
        "garbage line",
    ]
    report = split(raw)
    assert report["samples"] == 20
    parts = {p: row["samples"] for p, row in report["parts"].items()}
    assert parts == {"event_loop": 10, "feed": 6, "maker_loops_and_requests": 3, "resumed_http": 1}
    assert sum(row["share"] for row in report["parts"].values()) == 1.0
    top = {row["function"]: row["share"] for row in report["top_functions_inclusive"]}
    assert top["Runner.run"] == 0.95 and top["Frame.parse"] == 0.3
