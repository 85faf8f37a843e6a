// The sandbox page: one symbol's market as a visitor sees it, fed by the venue's own websockets.
// History comes from REST once (klines, aggTrades, 24 h ticker, depth); everything after that
// from two combined streams, routed the way Binance routes them: depth on /public, the rest on
// /market. A dropped socket reconnects after a second and reloads the history.
"use strict";

const BOOK_LEVELS = 10;
const TAPE_ROWS = 22;
const CANDLES = 90;
const App = {
  symbols: {}, symbol: null, sockets: [], state: null, drawPending: false,

  async start() {
    const info = await (await fetch("/fapi/v1/exchangeInfo")).json();
    for (const s of info.symbols) {
      this.symbols[s.symbol] = { price: s.pricePrecision, qty: s.quantityPrecision };
    }
    const nav = document.getElementById("symbols");
    for (const name of Object.keys(this.symbols)) {
      const button = document.createElement("button");
      button.textContent = name;
      button.dataset.symbol = name;
      button.onclick = () => { location.hash = name; this.select(name); };
      nav.appendChild(button);
    }
    const wanted = location.hash.slice(1).toUpperCase();
    this.select(this.symbols[wanted] ? wanted : Object.keys(this.symbols)[0]);
    Fleet.start();
    window.addEventListener("resize", () => this.redraw());
  },

  async select(symbol) {
    this.symbol = symbol;
    for (const b of document.querySelectorAll("nav button")) {
      b.classList.toggle("on", b.dataset.symbol === symbol);
    }
    for (const ws of this.sockets) { ws.onclose = null; ws.close(); }
    this.sockets = [];
    this.state = { bids: [], asks: [], trades: [], candles: new Map(), stats: null, mark: null };
    await this.loadHistory(symbol);
    if (symbol !== this.symbol) return;
    const s = symbol.toLowerCase();
    this.open(`/public/stream?streams=${s}@depth20@100ms`, symbol);
    this.open(`/market/stream?streams=${s}@aggTrade/${s}@kline_1m/${s}@ticker/${s}@markPrice@1s`, symbol);
    this.redraw();
  },

  async loadHistory(symbol) {
    const get = async (path) => (await fetch(path)).json();
    const [klines, trades, ticker, depth, premium] = await Promise.all([
      get(`/fapi/v1/klines?symbol=${symbol}&interval=1m&limit=${CANDLES}`),
      get(`/fapi/v1/aggTrades?symbol=${symbol}&limit=${TAPE_ROWS}`),
      get(`/fapi/v1/ticker/24hr?symbol=${symbol}`),
      get(`/fapi/v1/depth?symbol=${symbol}&limit=20`),
      get(`/fapi/v1/premiumIndex?symbol=${symbol}`),
    ]);
    if (symbol !== this.symbol) return;
    for (const k of klines) this.upsertCandle(k[0], k[1], k[2], k[3], k[4], k[5]);
    this.state.trades = trades.reverse().map((t) => ({ p: t.p, q: t.q, T: t.T, m: t.m }));
    if (ticker.count) this.state.stats = { c: ticker.lastPrice, P: ticker.priceChangePercent,
      h: ticker.highPrice, l: ticker.lowPrice, v: ticker.volume, q: ticker.quoteVolume, n: ticker.count };
    this.state.mark = premium.markPrice;
    this.state.bids = depth.bids.map(([p, q]) => [Number(p), Number(q)]);
    this.state.asks = depth.asks.map(([p, q]) => [Number(p), Number(q)]);
  },

  open(path, symbol) {
    const ws = new WebSocket(`${location.protocol === "https:" ? "wss" : "ws"}://${location.host}${path}`);
    ws.onopen = () => this.connection();
    ws.onmessage = (event) => {
      if (symbol !== this.symbol) return;
      const msg = JSON.parse(event.data);
      if (msg.data) this.on(msg.data);
    };
    ws.onclose = () => {
      this.connection();
      setTimeout(() => { if (symbol === this.symbol) this.select(symbol); }, 1000);
    };
    this.sockets.push(ws);
  },

  connection() {
    const live = this.sockets.length && this.sockets.every((ws) => ws.readyState === WebSocket.OPEN);
    const el = document.getElementById("conn");
    el.textContent = live ? "live · venue streams" : "reconnecting…";
    el.classList.toggle("live", Boolean(live));
  },

  on(d) {
    const st = this.state;
    if (d.e === "depthUpdate") {
      st.bids = d.b.map(([p, q]) => [Number(p), Number(q)]);
      st.asks = d.a.map(([p, q]) => [Number(p), Number(q)]);
    } else if (d.e === "aggTrade") {
      st.trades.unshift({ p: d.p, q: d.q, T: d.T, m: d.m });
      st.trades.length = Math.min(st.trades.length, TAPE_ROWS);
    } else if (d.e === "kline") {
      const k = d.k;
      this.upsertCandle(k.t, k.o, k.h, k.l, k.c, k.v);
    } else if (d.e === "24hrTicker") {
      st.stats = { c: d.c, P: d.P, h: d.h, l: d.l, v: d.v, q: d.q, n: d.n };
    } else if (d.e === "markPriceUpdate") {
      st.mark = d.p;
    }
    this.redraw();
  },

  upsertCandle(t, o, h, l, c, v) {
    const candles = this.state.candles;
    candles.set(t, { t, o: Number(o), h: Number(h), l: Number(l), c: Number(c), v: Number(v) });
    while (candles.size > CANDLES) candles.delete(candles.keys().next().value);
  },

  redraw() {
    if (this.drawPending) return;
    this.drawPending = true;
    requestAnimationFrame(() => {
      this.drawPending = false;
      const st = this.state, p = this.symbols[this.symbol];
      if (!st || !p) return;
      this.renderStats(st, p);
      this.renderBook(st, p);
      this.renderTape(st, p);
      drawDepth(document.getElementById("depth"), st.bids, st.asks, p.price);
      const candles = [...st.candles.values()].sort((a, b) => a.t - b.t);
      drawCandles(document.getElementById("candles"), candles, p.price);
    });
  },

  renderStats(st, p) {
    const s = st.stats;
    const bid = st.bids[0], ask = st.asks[0];
    const spread = bid && ask ? (((ask[0] - bid[0]) / ((ask[0] + bid[0]) / 2)) * 10000).toFixed(2) : "–";
    const change = s ? Number(s.P) : 0;
    const items = [
      ["last", s ? Fmt.num(s.c, p.price) : "–", "big " + (change >= 0 ? "up" : "down")],
      ["24h change", s ? (change > 0 ? "+" : "") + s.P + " %" : "–", change >= 0 ? "up" : "down"],
      ["24h high", s ? Fmt.num(s.h, p.price) : "–"],
      ["24h low", s ? Fmt.num(s.l, p.price) : "–"],
      [`24h volume (${this.symbol.replace("USDT", "")})`, s ? Fmt.num(s.v, p.qty) : "–"],
      ["24h volume (USDT)", s ? Fmt.compact(s.q) : "–"],
      ["24h trades", s ? String(s.n) : "–"],
      ["mark", st.mark ? Fmt.num(st.mark, p.price) : "–"],
      ["spread", spread + " bps"],
    ];
    const el = document.getElementById("stats");
    el.innerHTML = "";
    for (const [label, value, cls] of items) {
      const div = document.createElement("div");
      div.className = "stat";
      div.innerHTML = `<span></span><b class="${cls || ""}"></b>`;
      div.firstChild.textContent = label;
      div.lastChild.textContent = value;
      el.appendChild(div);
    }
  },

  renderBook(st, p) {
    const body = document.querySelector("#book tbody");
    const bid = st.bids[0], ask = st.asks[0];
    const mid = bid && ask ? (bid[0] + ask[0]) / 2 : null;
    const rows = [];
    const level = (cls, [price, qty]) => [cls, Fmt.num(price, p.price), Fmt.num(qty, p.qty), Fmt.bps(price, mid)];
    for (const a of st.asks.slice(0, BOOK_LEVELS).reverse()) rows.push(level("ask level", a));
    rows.push(["mid", mid ? `mid ${Fmt.num(mid, p.price + 1)}` : "one side empty"]);
    for (const b of st.bids.slice(0, BOOK_LEVELS)) rows.push(level("bid level", b));
    body.innerHTML = "";
    for (const [cls, ...cells] of rows) {
      const tr = document.createElement("tr");
      tr.className = cls;
      cells.forEach((text, i) => {
        const td = document.createElement("td");
        td.textContent = text;
        if (cls === "mid") td.colSpan = 3;
        if (i === 2) td.className = "bps";
        tr.appendChild(td);
      });
      body.appendChild(tr);
    }
  },

  renderTape(st, p) {
    const body = document.querySelector("#tape tbody");
    body.innerHTML = "";
    for (const t of st.trades) {
      const tr = document.createElement("tr");
      tr.className = "trade " + (t.m ? "sell" : "buy");  // buyer is maker: the taker sold
      for (const text of [Fmt.time(t.T), Fmt.num(t.p, p.price), Fmt.num(t.q, p.qty)]) {
        const td = document.createElement("td");
        td.textContent = text;
        tr.appendChild(td);
      }
      body.appendChild(tr);
    }
  },
};

App.start();
