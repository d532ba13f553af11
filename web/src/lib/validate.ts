// Client-side checks that mirror the server's rules (keel-domain/src/validate.rs), so a
// user sees a mistake before saving. The server stays the authority: its field errors
// are shown the same way.
import type { FieldDef } from '../api/types';

const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
const DATE = /^\d{4}-\d{2}-\d{2}$/;

export type FormValues = Record<string, unknown>;

export function checkField(field: FieldDef, value: unknown): string | undefined {
  const empty = value === null || value === undefined || value === '';
  if (empty) return field.required ? `${field.label} is required` : undefined;
  switch (field.type) {
    case 'text':
    case 'long_text':
    case 'phone':
    case 'url':
      if (typeof value !== 'string') return `${field.label} must be text`;
      if (field.max_length && [...value].length > field.max_length)
        return `${field.label} must be at most ${field.max_length} characters`;
      if (field.type === 'phone' && !/^[+()\d\s.-]{4,}$/.test(value)) return `${field.label} is not a phone number`;
      if (field.type === 'url' && /\s/.test(value.trim())) return `${field.label} is not a valid URL`;
      return undefined;
    case 'email':
      if (typeof value !== 'string' || !EMAIL.test(value.trim())) return `${field.label} must be a valid email address`;
      return undefined;
    case 'select':
      if (field.options && !field.options.some((o) => o.value.toLowerCase() === String(value).toLowerCase()))
        return `${field.label} must be one of ${field.options.map((o) => o.value).join(', ')}`;
      return undefined;
    case 'integer':
    case 'money':
    case 'percent': {
      if (typeof value !== 'number' || !Number.isFinite(value) || !Number.isInteger(value))
        return `${field.label} must be a number`;
      if (field.min !== undefined && value < field.min) return `${field.label} must be at least ${field.min}`;
      if (field.max !== undefined && value > field.max) return `${field.label} must be at most ${field.max}`;
      return undefined;
    }
    case 'decimal': {
      const n = typeof value === 'number' ? value : Number(value);
      if (!Number.isFinite(n)) return `${field.label} must be a number`;
      if (!/^-?\d*(\.\d{0,4})?$/.test(String(value).trim())) return `${field.label} has at most 4 decimal places`;
      if (field.min !== undefined && n < field.min) return `${field.label} must be at least ${field.min}`;
      if (field.max !== undefined && n > field.max) return `${field.label} must be at most ${field.max}`;
      return undefined;
    }
    case 'multi_select':
      if (!Array.isArray(value)) return `${field.label} must be a list of options`;
      if (value.length === 0 && field.required) return `${field.label} is required`;
      return undefined;
    case 'currency':
      if (typeof value !== 'string' || !/^[A-Za-z]{3}$/.test(value)) return `${field.label} must be a 3-letter code`;
      return undefined;
    case 'date':
      if (typeof value !== 'string' || !DATE.test(value)) return `${field.label} must be a date`;
      return undefined;
    default:
      return undefined;
  }
}

/** Errors by field name for the fields shown on a form. */
export function checkForm(fields: FieldDef[], values: FormValues): Record<string, string> {
  const errors: Record<string, string> = {};
  for (const f of fields) {
    const e = checkField(f, values[f.name]);
    if (e) errors[f.name] = e;
  }
  return errors;
}
