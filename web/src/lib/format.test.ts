import { describe, expect, it } from 'vitest';
import { addDays, formatDate, formatMoney, formatRelative, initials, moneyInput, parseMoney } from './format';

describe('money', () => {
  it('formats minor units in the currency, hiding zero cents', () => {
    expect(formatMoney(5_000_000, 'USD', 'en-US')).toBe('$50,000');
    expect(formatMoney(1250, 'USD', 'en-US')).toBe('$12.50');
    expect(formatMoney(5_000_000, 'EUR', 'de-DE')).toBe('50.000\u00a0€');
    expect(formatMoney(1000, 'JPY', 'en-US')).toBe('¥1,000');
    expect(formatMoney(null)).toBe('—');
  });
  it('parses what people type into minor units', () => {
    expect(parseMoney('50,000')).toBe(5_000_000);
    expect(parseMoney('$12.5')).toBe(1250);
    expect(parseMoney('1000', 'JPY')).toBe(1000);
    expect(parseMoney('')).toBeNull();
    expect(parseMoney('twelve')).toBeNull();
    expect(parseMoney('1.2.3')).toBeNull();
  });
  it('round-trips through the input format', () => {
    expect(moneyInput(1250)).toBe('12.50');
    expect(moneyInput(5_000_000)).toBe('50000');
    expect(parseMoney(moneyInput(987_654))).toBe(987_654);
  });
});

describe('dates', () => {
  it('shows calendar dates without shifting them by time zone', () => {
    expect(formatDate('2026-01-01', 'en-US')).toBe('Jan 1, 2026');
    expect(formatDate(null)).toBe('—');
  });
  it('describes times relative to now', () => {
    const now = new Date('2026-11-24T12:00:00Z');
    expect(formatRelative('2026-11-22T12:00:00Z', now, 'en-US')).toBe('2 days ago');
    expect(formatRelative('2026-11-24T11:59:50Z', now, 'en-US')).toBe('just now');
    expect(formatRelative('2026-11-24T15:00:00Z', now, 'en-US')).toBe('in 3 hours');
  });
  it('adds days across month ends', () => {
    expect(addDays('2026-11-28', 7)).toBe('2026-12-05');
  });
});

it('makes initials from names', () => {
  expect(initials('Sam Rivera')).toBe('SR');
  expect(initials('Cher')).toBe('C');
  expect(initials('')).toBe('?');
});
