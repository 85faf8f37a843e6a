// Number and time formatting for the sandbox page. Prices arrive as Binance's decimal strings;
// they are shown with the symbol's precision from exchangeInfo, never re-rounded by the page.
"use strict";

const Fmt = {
  /** A decimal string or number at `digits` decimals, with thousands separators. */
  num(value, digits) {
    const n = Number(value);
    if (!Number.isFinite(n)) return "–";
    return n.toLocaleString("en-US", { minimumFractionDigits: digits, maximumFractionDigits: digits });
  },
  /** A compact amount: 12.3k, 4.56M. */
  compact(value) {
    const n = Number(value);
    if (!Number.isFinite(n)) return "–";
    if (Math.abs(n) >= 1e6) return (n / 1e6).toFixed(2) + "M";
    if (Math.abs(n) >= 1e3) return (n / 1e3).toFixed(1) + "k";
    return n.toFixed(2);
  },
  /** Signed distance of `price` from `mid` in basis points. */
  bps(price, mid) {
    if (!mid) return "–";
    const d = ((Number(price) - mid) / mid) * 10000;
    return (d > 0 ? "+" : "") + d.toFixed(1);
  },
  time(ms) {
    const d = new Date(ms);
    return d.toISOString().slice(11, 19);
  },
  hhmm(ms) {
    return new Date(ms).toISOString().slice(11, 16);
  },
  duration(seconds) {
    if (seconds == null) return "–";
    const s = Math.floor(seconds);
    if (s < 120) return s + " s";
    if (s < 7200) return Math.floor(s / 60) + " min";
    return (s / 3600).toFixed(1) + " h";
  },
  /** Days of runway left ("∞" when the wallet is not burning). */
  runway(days) {
    if (days == null) return "∞";
    return days >= 100 ? Math.round(days) + " d" : days.toFixed(1) + " d";
  },
};

/** Round a chart axis step to 1, 2 or 5 × 10^k. */
function niceStep(span, ticks) {
  const raw = span / Math.max(1, ticks);
  const mag = Math.pow(10, Math.floor(Math.log10(raw)));
  const norm = raw / mag;
  return (norm < 1.5 ? 1 : norm < 3.5 ? 2 : norm < 7.5 ? 5 : 10) * mag;
}
