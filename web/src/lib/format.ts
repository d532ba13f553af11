// Locale-aware formatting of the API's values. Money is integer minor units with an
// ISO 4217 currency; dates are `YYYY-MM-DD`; timestamps RFC 3339 UTC.

const locale = typeof navigator !== 'undefined' ? navigator.language : 'en-US';

const moneyFormats = new Map<string, Intl.NumberFormat>();

function fractionDigits(currency: string): number {
  return new Intl.NumberFormat('en', { style: 'currency', currency }).resolvedOptions().maximumFractionDigits ?? 2;
}

/** 5000000 USD → "$50,000" (cents shown only when there are some). */
export function formatMoney(minor: number | null | undefined, currency = 'USD', loc = locale): string {
  if (minor === null || minor === undefined) return '—';
  const digits = fractionDigits(currency);
  const major = minor / 10 ** digits;
  const whole = Number.isInteger(major);
  const key = `${loc}|${currency}|${whole}`;
  let f = moneyFormats.get(key);
  if (!f) {
    f = new Intl.NumberFormat(loc, {
      style: 'currency',
      currency,
      minimumFractionDigits: whole ? 0 : digits,
      maximumFractionDigits: whole ? 0 : digits,
    });
    moneyFormats.set(key, f);
  }
  return f.format(major);
}

/** Short money for tight spaces: $1.2M, $45K. */
export function formatMoneyCompact(minor: number, currency = 'USD', loc = locale): string {
  const major = minor / 10 ** fractionDigits(currency);
  return new Intl.NumberFormat(loc, { style: 'currency', currency, notation: 'compact', maximumFractionDigits: 1 }).format(
    major,
  );
}

/** "12.50" in a form → 1250 minor units; null when it is not a number. */
export function parseMoney(text: string, currency = 'USD'): number | null {
  const cleaned = text.replace(/[\s,$€£¥]/g, '');
  if (cleaned === '') return null;
  if (!/^-?\d+(\.\d+)?$/.test(cleaned)) return null;
  const digits = fractionDigits(currency);
  return Math.round(Number(cleaned) * 10 ** digits);
}

/** 1250 → "12.50" for an input field. */
export function moneyInput(minor: number | null | undefined, currency = 'USD'): string {
  if (minor === null || minor === undefined) return '';
  const digits = fractionDigits(currency);
  return (minor / 10 ** digits).toFixed(digits).replace(/\.0+$/, '');
}

/** A calendar date from the API, shown in the user's locale without a time-zone shift. */
export function formatDate(date: string | null | undefined, loc = locale): string {
  if (!date) return '—';
  const [y, m, d] = date.slice(0, 10).split('-').map(Number);
  if (!y || !m || !d) return date;
  return new Intl.DateTimeFormat(loc, { year: 'numeric', month: 'short', day: 'numeric', timeZone: 'UTC' }).format(
    new Date(Date.UTC(y, m - 1, d)),
  );
}

export function formatDateTime(ts: string | null | undefined, loc = locale): string {
  if (!ts) return '—';
  const d = new Date(ts);
  if (Number.isNaN(d.getTime())) return ts;
  return new Intl.DateTimeFormat(loc, { dateStyle: 'medium', timeStyle: 'short' }).format(d);
}

const UNITS: [Intl.RelativeTimeFormatUnit, number][] = [
  ['year', 365 * 24 * 3600],
  ['month', 30 * 24 * 3600],
  ['week', 7 * 24 * 3600],
  ['day', 24 * 3600],
  ['hour', 3600],
  ['minute', 60],
];

/** "2 days ago", "in 3 hours", "just now". */
export function formatRelative(ts: string | null | undefined, now: Date = new Date(), loc = locale): string {
  if (!ts) return '—';
  const then = new Date(ts);
  if (Number.isNaN(then.getTime())) return ts;
  const seconds = (then.getTime() - now.getTime()) / 1000;
  const rtf = new Intl.RelativeTimeFormat(loc, { numeric: 'auto' });
  for (const [unit, size] of UNITS) {
    if (Math.abs(seconds) >= size) return rtf.format(Math.round(seconds / size), unit);
  }
  return 'just now';
}

export function formatPercent(n: number | null | undefined, loc = locale): string {
  if (n === null || n === undefined) return '—';
  return new Intl.NumberFormat(loc, { style: 'percent', maximumFractionDigits: 1 }).format(n);
}

export function formatNumber(n: number, loc = locale): string {
  return new Intl.NumberFormat(loc).format(n);
}

/** Today's date in the user's time zone as `YYYY-MM-DD`. */
export function localToday(now: Date = new Date()): string {
  const y = now.getFullYear();
  const m = String(now.getMonth() + 1).padStart(2, '0');
  const d = String(now.getDate()).padStart(2, '0');
  return `${y}-${m}-${d}`;
}

export function addDays(date: string, days: number): string {
  const [y, m, d] = date.split('-').map(Number);
  const t = new Date(Date.UTC(y ?? 1970, (m ?? 1) - 1, (d ?? 1) + days));
  return t.toISOString().slice(0, 10);
}

export function initials(name: string | null | undefined): string {
  if (!name) return '?';
  const parts = name.trim().split(/\s+/);
  return ((parts[0]?.[0] ?? '') + (parts.length > 1 ? (parts[parts.length - 1]?.[0] ?? '') : '')).toUpperCase() || '?';
}

/** "company" → "Company", for the start of a sentence. */
export function capitalize(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}
