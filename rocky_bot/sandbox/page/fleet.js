// The fleet panel: the daemon's /status, read by the sandbox server-side (/page/v1/fleet) so the
// browser never talks to the daemon. Polled every 2 s; "no fleet" when none is configured.
"use strict";

const Fleet = {
  timer: null,

  start() {
    this.poll();
    this.timer = setInterval(() => this.poll(), 2000);
  },

  async poll() {
    try {
      const reply = await fetch("/page/v1/fleet", { cache: "no-store" });
      this.render(await reply.json());
    } catch (err) {
      this.render({ fleet: null, reason: "the sandbox did not answer" });
    }
  },

  render(doc) {
    const health = document.getElementById("fleet-health");
    const summary = document.getElementById("fleet-summary");
    const body = document.querySelector("#fleet-accounts tbody");
    const fleet = doc.fleet;
    if (!fleet) {
      health.textContent = "";
      summary.innerHTML = "";
      const none = document.createElement("div");
      none.className = "none";
      none.id = "no-fleet";
      none.textContent = doc.reason || "no fleet";
      summary.appendChild(none);
      body.innerHTML = "";
      return;
    }
    health.textContent = fleet.healthy ? "healthy" : "unhealthy";
    health.className = fleet.healthy ? "closed" : "open";
    const feed = Object.entries(fleet.feed || {})
      .map(([s, f]) => `${s} ${f.mid ?? "–"}${f.stale ? " (stale)" : ""}`).join(" · ");
    const lines = [
      `${fleet.accounts.length} accounts · ${fleet.loops ?? "–"} loops · up ${Fmt.duration(fleet.uptime_s)}`,
      `reference: ${feed || "–"}`,
      `request weight ${fleet.used_weight_1m ?? "–"}/min`,
    ];
    for (const p of fleet.problems || []) lines.push(`⚠ ${p}`);
    for (const w of fleet.warnings || []) lines.push(`· ${w}`);
    summary.innerHTML = "";
    for (const line of lines) {
      const div = document.createElement("div");
      div.textContent = line;
      summary.appendChild(div);
    }
    body.innerHTML = "";
    for (const a of fleet.accounts) body.appendChild(this.row(a));
  },

  row(a) {
    const tr = document.createElement("tr");
    tr.className = "account";
    const position = (symbol) => {
      const amount = Number(((a.positions || {})[symbol] || {}).amount || 0);
      return amount ? (amount > 0 ? "+" : "") + amount : "·";
    };
    const cells = [
      a.account,
      a.breaker,
      a.wallet == null ? "–" : Fmt.num(a.wallet, 2),
      Fmt.runway(a.days_to_empty),
      String(a.open_orders ?? 0),
      position("BTCUSDT"),
      position("ETHUSDT"),
    ];
    cells.forEach((text, i) => {
      const td = document.createElement("td");
      td.textContent = text;
      if (i === 1) td.className = a.breaker;
      if (i >= 5) td.className = "pos";
      if (i === 2 && a.wallet_low) td.className = "open";
      if (i === 1 && a.breaker_reason) td.title = a.breaker_reason;
      tr.appendChild(td);
    });
    return tr;
  },
};
