"""The sandbox's page in a real browser: headless Chromium against a running sandbox and fleet.

What a demo visitor relies on: the page loads with no internet, and within seconds shows the
venue's book levels (each with its distance from mid), a trade on the tape, a 1-minute candle,
and the fleet panel listing the daemon's accounts. Debian's `chromium` and `chromium-driver`
(installed by .ci/run) drive it; no browser is downloaded. Set ROCKY_PAGE_SCREENSHOT=path to
keep the screenshot (docs/sandbox-page.png is made that way, from a longer run).
"""

from __future__ import annotations

import asyncio
import os
import shutil
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from fleet_harness import running_fleet
from waiting import wait_for

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
FLEET = [
    "mm-anchor", "mm-l1-buy-05bps", "mm-l1-sell-05bps", "mm-l1-buy-08bps", "mm-l1-sell-08bps",
    "mm-l2-buy-15bps", "mm-l2-sell-15bps", "mm-l2-buy-25bps", "mm-l2-sell-25bps",
    "mm-l3-buy-50bps", "mm-l3-sell-50bps", "taker-1", "taker-2",
]  # fmt: skip
CHROMIUM_FLAGS = (
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--disable-dev-shm-usage", "--window-size=1600,1000", "--hide-scrollbars",
)  # fmt: skip


READ_PAGE = """
const cells = (row) => row ? [...row.querySelectorAll("td")].map((td) => td.textContent) : [];
return {
  bid_cells: cells(document.querySelector("#book tr.bid.level")),
  trade: (document.querySelector("#tape tr.trade") || {}).textContent || "",
  candles: Number(document.getElementById("candles").dataset.count),
  depth_levels: Number(document.getElementById("depth").dataset.levels),
  accounts: [...document.querySelectorAll("#fleet-accounts tr.account td:first-child")]
    .map((td) => td.textContent),
  connection: document.getElementById("conn").textContent,
};
"""


def need_browser() -> None:
    missing = [p for p in (CHROMIUM, CHROMEDRIVER) if not shutil.which(p)]
    if missing:
        message = f"{', '.join(missing)} not installed (apt-get install chromium chromium-driver)"
        if os.environ.get("CI"):
            pytest.fail(message)  # .ci/run installs them: missing there is a broken CI, not a skip
        pytest.skip(message)


def look_at_page(url: str, profile: Path, screenshot: Path, timeout_s: float = 25) -> dict:
    """Load the page in headless Chromium, wait until it shows the market, screenshot it."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (*CHROMIUM_FLAGS, f"--user-data-dir={profile}"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    try:
        driver.get(url)

        def count(selector: str) -> int:
            return len(driver.find_elements(By.CSS_SELECTOR, selector))

        def shown(d: Any) -> bool:
            candles = int(d.find_element(By.ID, "candles").get_attribute("data-count") or 0)
            return (
                count("#book tr.bid.level") >= 4 and count("#book tr.ask.level") >= 4
                and count("#tape tr.trade") >= 1 and candles >= 1
                and count("#fleet-accounts tr.account") >= len(FLEET)
            )  # fmt: skip

        WebDriverWait(driver, timeout_s, poll_frequency=0.2).until(shown)
        height = driver.execute_script("return document.documentElement.scrollHeight")
        driver.set_window_size(1600, height + 160)  # the whole page, browser frame included
        time.sleep(0.5)  # a frame or two so the screenshot shows the charts redrawn
        driver.save_screenshot(str(screenshot))
        seen = driver.execute_script(READ_PAGE)  # one read: the page re-renders constantly
        seen["screenshot_bytes"] = screenshot.stat().st_size
        seen["errors"] = [
            e["message"] for e in driver.get_log("browser") if e.get("level") == "SEVERE"
        ]
        return seen
    finally:
        driver.quit()


async def test_page_shows_book_trades_candles_and_the_fleet(sandbox, tmp_path):
    need_browser()
    async with running_fleet(sandbox, tmp_path, ids=FLEET) as handle:
        sandbox.set_fleet_status_url(handle.fleet.status_url)
        assert await wait_for(
            lambda: sandbox.engine.trades_since("BTCUSDT", 0) > 0, 20, interval=0.1
        )
        shot = Path(os.environ.get("ROCKY_PAGE_SCREENSHOT") or tmp_path / "page.png")
        seen = await asyncio.to_thread(
            look_at_page, f"{sandbox.base_url}/", tmp_path / "profile", shot
        )
    price, size, bps = seen["bid_cells"]
    assert float(price.replace(",", "")) > 0 and float(size) > 0
    assert bps.startswith("-") and abs(float(bps)) < 150  # a bid sits below mid, in the funnel
    assert seen["trade"] and seen["candles"] >= 1 and seen["depth_levels"] >= 8
    assert set(FLEET) <= set(seen["accounts"])
    assert seen["connection"].startswith("live")
    assert seen["errors"] == []
    assert seen["screenshot_bytes"] > 10_000


async def test_page_says_no_fleet_when_there_is_none(sandbox):
    async with httpx.AsyncClient(base_url=sandbox.base_url, timeout=5) as http:
        page = await http.get("/")
        assert page.status_code == 200 and "text/html" in page.headers["content-type"]
        for asset in ("app.js", "charts.js", "style.css"):
            assert (await http.get(f"/page/{asset}")).status_code == 200
        assert (await http.get("/page/nothing.js")).status_code == 404
        alone = (await http.get("/page/v1/fleet")).json()
        assert alone["fleet"] is None and "no fleet" in alone["reason"]
        sandbox.set_fleet_status_url("http://127.0.0.1:9/")  # nothing listens there
        gone = (await http.get("/page/v1/fleet")).json()
        assert gone["fleet"] is None and "unreachable" in gone["reason"]
