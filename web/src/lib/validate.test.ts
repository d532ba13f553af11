import { describe, expect, it } from 'vitest';
import type { FieldDef } from '../api/types';
import { checkField, checkForm } from './validate';

const f = (over: Partial<FieldDef>): FieldDef => ({
  name: 'x',
  label: 'X',
  type: 'text',
  required: false,
  access: 'writable',
  unique: false,
  sortable: false,
  searchable: false,
  ...over,
});

describe('client-side checks mirror the server rules', () => {
  it('requires required fields', () => {
    expect(checkField(f({ required: true, label: 'Name' }), '')).toBe('Name is required');
    expect(checkField(f({}), '')).toBeUndefined();
  });
  it('limits text length in characters', () => {
    expect(checkField(f({ max_length: 3 }), 'abcd')).toMatch(/at most 3/);
    expect(checkField(f({ max_length: 3 }), 'äöü')).toBeUndefined();
  });
  it('checks emails, selects, numbers and dates', () => {
    expect(checkField(f({ type: 'email' }), 'not-an-email')).toMatch(/valid email/);
    expect(checkField(f({ type: 'email' }), 'a@b.co')).toBeUndefined();
    const stage = f({ type: 'select', options: [{ value: 'Proposal', label: 'Proposal' }] });
    expect(checkField(stage, 'Won')).toMatch(/one of Proposal/);
    expect(checkField(stage, 'proposal')).toBeUndefined();
    expect(checkField(f({ type: 'money', min: 0 }), -1)).toMatch(/at least 0/);
    expect(checkField(f({ type: 'percent', min: 0, max: 100 }), 101)).toMatch(/at most 100/);
    expect(checkField(f({ type: 'integer' }), 1.5)).toMatch(/must be a number/);
    expect(checkField(f({ type: 'date' }), '24/11/2026')).toMatch(/must be a date/);
  });
  it('collects errors by field', () => {
    const errors = checkForm([f({ name: 'a', required: true }), f({ name: 'b', type: 'email' })], { a: '', b: 'x' });
    expect(Object.keys(errors).sort()).toEqual(['a', 'b']);
  });
});

describe('custom field types', () => {
  it('checks decimals: a number, at most 4 places, within min and max', () => {
    const n = f({ type: 'decimal', label: 'Score', min: 0, max: 10 });
    expect(checkField(n, '9.9999')).toBeUndefined();
    expect(checkField(n, '1.23456')).toMatch(/4 decimal places/);
    expect(checkField(n, 'abc')).toMatch(/must be a number/);
    expect(checkField(n, '11')).toMatch(/at most 10/);
  });

  it('checks multi-selects are lists', () => {
    const m = f({ type: 'multi_select', label: 'Tags', options: [{ value: 'A', label: 'A' }] });
    expect(checkField(m, ['A'])).toBeUndefined();
    expect(checkField(m, 'A')).toMatch(/list of options/);
  });
});
