// Canvas charts of the sandbox page: the depth funnel and the 1-minute candles with volume.
// Plain 2D canvas, no library: each draw clears and redraws from the state it is handed.
"use strict";

const Colors = {
  bid: "#2ebd85", ask: "#f0616d", grid: "#263040", text: "#7c8a9c", mid: "#f0b90b",
  bidFill: "rgba(46,189,133,0.18)", askFill: "rgba(240,97,109,0.18)",
};

/** Size the canvas backing store to its CSS box × devicePixelRatio; returns a scaled context. */
function prepare(canvas) {
  const ratio = window.devicePixelRatio || 1;
  const width = canvas.clientWidth || canvas.width;
  const height = Math.round(width * (canvas.height / canvas.width)) || canvas.height;
  if (canvas._w !== width || canvas._r !== ratio) {
    canvas._w = width; canvas._r = ratio; canvas._h = height;
    canvas.width = Math.round(width * ratio);
    canvas.height = Math.round(height * ratio);
  }
  const ctx = canvas.getContext("2d");
  ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
  ctx.clearRect(0, 0, width, canvas._h);
  ctx.font = "11px ui-sans-serif, system-ui, sans-serif";
  return { ctx, width, height: canvas._h };
}

/**
 * The funnel: cumulative size of each side against price, bids left of the mid, asks right.
 * `bids`/`asks` are [[price, qty], ...] best first (numbers).
 */
function drawDepth(canvas, bids, asks, pricePrecision) {
  const { ctx, width, height } = prepare(canvas);
  canvas.dataset.levels = String(bids.length + asks.length);
  if (!bids.length || !asks.length) {
    ctx.fillStyle = Colors.text;
    ctx.fillText("waiting for both sides of the book…", 12, 20);
    return;
  }
  const mid = (bids[0][0] + asks[0][0]) / 2;
  const cum = (levels) => { let t = 0; return levels.map(([p, q]) => [p, (t += q)]); };
  const b = cum(bids), a = cum(asks);
  const reach = Math.max(mid - b[b.length - 1][0], a[a.length - 1][0] - mid) * 1.04;
  const top = Math.max(b[b.length - 1][1], a[a.length - 1][1]) * 1.1;
  const pad = { l: 8, r: 52, t: 10, b: 22 };
  const x = (p) => pad.l + ((p - (mid - reach)) / (2 * reach)) * (width - pad.l - pad.r);
  const y = (q) => height - pad.b - (q / top) * (height - pad.t - pad.b);

  ctx.strokeStyle = Colors.grid; ctx.fillStyle = Colors.text; ctx.lineWidth = 1;
  const qStep = niceStep(top, 4);
  for (let q = qStep; q < top; q += qStep) {
    ctx.beginPath(); ctx.moveTo(pad.l, y(q)); ctx.lineTo(width - pad.r, y(q)); ctx.stroke();
    ctx.fillText(q.toFixed(q < 1 ? 3 : 1), width - pad.r + 4, y(q) + 4);
  }
  const bpsStep = niceStep((reach / mid) * 10000, 1.5);  // a few labels, never crowded
  for (let k = -2; k <= 2; k++) {
    const p = mid + (k * bpsStep * mid) / 10000;
    if (p < mid - reach || p > mid + reach) continue;
    const label = k === 0 ? mid.toFixed(pricePrecision) : (k > 0 ? "+" : "") + k * bpsStep + " bps";
    const left = x(p) - ctx.measureText(label).width / 2;
    if (left < 0 || left + ctx.measureText(label).width > width - pad.r) continue;
    ctx.fillText(label, left, height - 6);
  }
  const side = (points, stroke, fill, dir) => {
    ctx.beginPath();
    ctx.moveTo(x(mid), y(0));
    let last = y(0);
    for (const [p, q] of points) { ctx.lineTo(x(p), last); ctx.lineTo(x(p), y(q)); last = y(q); }
    ctx.lineTo(dir < 0 ? pad.l : width - pad.r, last);
    ctx.strokeStyle = stroke; ctx.lineWidth = 1.6; ctx.stroke();
    ctx.lineTo(dir < 0 ? pad.l : width - pad.r, y(0)); ctx.closePath();
    ctx.fillStyle = fill; ctx.fill();
  };
  side(b, Colors.bid, Colors.bidFill, -1);
  side(a, Colors.ask, Colors.askFill, 1);
  ctx.strokeStyle = Colors.mid; ctx.setLineDash([3, 3]);
  ctx.beginPath(); ctx.moveTo(x(mid), pad.t); ctx.lineTo(x(mid), height - pad.b); ctx.stroke();
  ctx.setLineDash([]);
}

/** Candlesticks (top 75 %) and volume bars (bottom), newest right; `candles` oldest first. */
function drawCandles(canvas, candles, pricePrecision) {
  const { ctx, width, height } = prepare(canvas);
  canvas.dataset.count = String(candles.length);
  if (!candles.length) {
    ctx.fillStyle = Colors.text;
    ctx.fillText("no trade yet", 12, 20);
    return;
  }
  const pad = { l: 8, r: 70, t: 10, b: 20 };
  const split = pad.t + (height - pad.t - pad.b) * 0.75;
  const hi = Math.max(...candles.map((c) => c.h)), lo = Math.min(...candles.map((c) => c.l));
  const span = Math.max(hi - lo, hi * 0.0002);
  const top = hi + span * 0.08, bottom = lo - span * 0.08;
  const vmax = Math.max(...candles.map((c) => c.v)) || 1;
  const slot = (width - pad.l - pad.r) / Math.max(candles.length, 60);
  const cx = (i) => width - pad.r - (candles.length - i - 0.5) * slot;
  const py = (p) => pad.t + ((top - p) / (top - bottom)) * (split - pad.t - 6);
  const vy = (v) => height - pad.b - (v / vmax) * (height - pad.b - split - 4);

  ctx.strokeStyle = Colors.grid; ctx.fillStyle = Colors.text; ctx.lineWidth = 1;
  const step = niceStep(top - bottom, 5);
  for (let p = Math.ceil(bottom / step) * step; p < top; p += step) {
    ctx.beginPath(); ctx.moveTo(pad.l, py(p)); ctx.lineTo(width - pad.r, py(p)); ctx.stroke();
    ctx.fillText(p.toFixed(pricePrecision), width - pad.r + 6, py(p) + 4);
  }
  ctx.beginPath(); ctx.moveTo(pad.l, split); ctx.lineTo(width - pad.r, split); ctx.stroke();
  const body = Math.max(1, slot * 0.62);
  candles.forEach((c, i) => {
    const color = c.c >= c.o ? Colors.bid : Colors.ask;
    ctx.strokeStyle = color; ctx.fillStyle = color;
    ctx.beginPath(); ctx.moveTo(cx(i), py(c.h)); ctx.lineTo(cx(i), py(c.l)); ctx.stroke();
    const y0 = py(Math.max(c.o, c.c)), y1 = py(Math.min(c.o, c.c));
    ctx.fillRect(cx(i) - body / 2, y0, body, Math.max(1, y1 - y0));
    ctx.globalAlpha = 0.5;
    ctx.fillRect(cx(i) - body / 2, vy(c.v), body, height - pad.b - vy(c.v));
    ctx.globalAlpha = 1;
    if (i % 10 === 0) {
      ctx.fillStyle = Colors.text;
      ctx.fillText(Fmt.hhmm(c.t), cx(i) - 14, height - 5);
    }
  });
  const last = candles[candles.length - 1];
  ctx.fillStyle = Colors.mid;
  ctx.fillRect(width - pad.r + 2, py(last.c) - 8, pad.r - 4, 16);
  ctx.fillStyle = "#0f1419";
  ctx.fillText(last.c.toFixed(pricePrecision), width - pad.r + 6, py(last.c) + 4);
}
