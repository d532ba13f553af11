// Create and edit forms generated from `GET /api/v1/schema`: the field's type picks the
// input, `required`/`max_length`/`min`/`max`/options drive the client-side checks, and
// the server's field errors appear next to their fields.
import { useEffect, useMemo, useState, type FormEvent } from 'react';
import { ApiError, errorMessage } from '../../api/client';
import { useCreateRecord, useUpdateRecord } from '../../api/records';
import { formFields, useEntity } from '../../api/schema';
import type { CrmRecord, FieldDef } from '../../api/types';
import { Modal } from '../../components/Modal';
import { useToast } from '../../components/toast';
import { capitalize, moneyInput, parseMoney } from '../../lib/format';
import { checkForm, type FormValues } from '../../lib/validate';
import { ReferenceInput } from './ReferenceInput';

/** Defaults a user would expect on a blank form. */
const DEFAULTS: Record<string, FormValues> = {
  deals: { stage: 'Prospecting', currency: 'USD', priority: 'Medium' },
  activities: { type: 'Call', completed: false },
  contacts: { is_primary: false },
};

/** Fields left off forms: derived by the server from others, or edited elsewhere. */
const HIDDEN_ON_FORM: Record<string, string[]> = {
  deals: ['actual_close_date'],
};

function toInput(field: FieldDef, value: unknown): unknown {
  if (value === null || value === undefined) return field.type === 'boolean' ? false : '';
  if (field.type === 'timestamp' && typeof value === 'string') {
    const d = new Date(value);
    if (Number.isNaN(d.getTime())) return '';
    const local = new Date(d.getTime() - d.getTimezoneOffset() * 60_000);
    return local.toISOString().slice(0, 16);
  }
  return value;
}

/** Form state → API value (money in minor units, local datetimes to UTC, '' → null). */
function fromInput(field: FieldDef, value: unknown, currency: string): unknown {
  if (field.type === 'boolean') return Boolean(value);
  if (value === '' || value === undefined) return null;
  if (field.type === 'money') return typeof value === 'number' ? value : parseMoney(String(value), currency);
  if (field.type === 'multi_select') return Array.isArray(value) && value.length > 0 ? value : null;
  if (field.type === 'decimal') {
    const n = Number(value);
    return Number.isFinite(n) ? n : value;
  }
  if (field.type === 'integer' || field.type === 'percent') {
    const n = Number(value);
    return Number.isFinite(n) ? n : value;
  }
  if (field.type === 'timestamp') {
    const d = new Date(String(value));
    return Number.isNaN(d.getTime()) ? value : d.toISOString();
  }
  return value;
}

interface Props {
  entity: string;
  open: boolean;
  onOpenChange: (open: boolean) => void;
  record?: CrmRecord;
  preset?: FormValues;
  onSaved?: (record: CrmRecord) => void;
}

export function RecordFormModal({ entity, open, onOpenChange, record, preset, onSaved }: Props) {
  const def = useEntity(entity);
  const title = def ? `${record ? 'Edit' : 'New'} ${def.singular}` : '';
  const [dirty, setDirty] = useState(false);
  const close = (next: boolean) => {
    if (!next && dirty && !window.confirm('Discard unsaved changes?')) return;
    if (!next) setDirty(false);
    onOpenChange(next);
  };
  return (
    <Modal open={open} onOpenChange={close} title={title} wide>
      {def && open && (
        <RecordForm
          entity={entity}
          record={record}
          preset={preset}
          onDirty={setDirty}
          onCancel={() => close(false)}
          onSaved={(r) => {
            setDirty(false);
            onOpenChange(false);
            onSaved?.(r);
          }}
        />
      )}
    </Modal>
  );
}

export function RecordForm({
  entity,
  record,
  preset,
  onSaved,
  onCancel,
  onDirty,
}: {
  entity: string;
  record?: CrmRecord;
  preset?: FormValues;
  onSaved: (r: CrmRecord) => void;
  onCancel: () => void;
  onDirty?: (dirty: boolean) => void;
}) {
  const def = useEntity(entity);
  const toast = useToast();
  const create = useCreateRecord(entity);
  const update = useUpdateRecord(entity);
  const fields = useMemo(
    () => {
      if (!def) return [];
      const shown = formFields(def).filter((f) => !(HIDDEN_ON_FORM[entity] ?? []).includes(f.name));
      // The owner is a system-wide field listed first in the schema; on a form it reads
      // better last, after what the record is about.
      return [...shown.filter((f) => f.name !== 'owner_id'), ...shown.filter((f) => f.name === 'owner_id')];
    },
    [def, entity],
  );
  const initial = useMemo(() => {
    const v: FormValues = {};
    for (const f of fields) {
      const source = record ? record[f.name] : (preset?.[f.name] ?? DEFAULTS[entity]?.[f.name] ?? f.default);
      v[f.name] = f.type === 'money' ? moneyInput(source as number | null, String(record?.currency ?? 'USD')) : toInput(f, source);
    }
    return v;
  }, [fields, record, preset, entity]);
  const [values, setValues] = useState<FormValues>(initial);
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [formError, setFormError] = useState<string>();
  const dirty = fields.some((f) => values[f.name] !== initial[f.name]);

  useEffect(() => {
    onDirty?.(dirty);
  }, [dirty, onDirty]);
  useEffect(() => {
    if (!dirty) return;
    const warn = (e: BeforeUnloadEvent) => e.preventDefault();
    window.addEventListener('beforeunload', warn);
    return () => window.removeEventListener('beforeunload', warn);
  }, [dirty]);

  const currency = String(values.currency || 'USD');
  const apiValues = () => {
    const out: FormValues = {};
    for (const f of fields) out[f.name] = fromInput(f, values[f.name], currency);
    return out;
  };

  const submit = (e: FormEvent) => {
    e.preventDefault();
    const body = apiValues();
    const clientErrors = checkForm(fields, body);
    for (const f of fields) {
      if (f.type === 'money' && values[f.name] !== '' && body[f.name] === null)
        clientErrors[f.name] = `${f.label} must be an amount, like 1250.00`;
    }
    setErrors(clientErrors);
    setFormError(undefined);
    if (Object.keys(clientErrors).length > 0) return;

    const onError = (err: unknown) => {
      if (err instanceof ApiError && err.fieldErrors.length > 0) {
        const byField: Record<string, string> = {};
        const others: string[] = [];
        for (const fe of err.fieldErrors) {
          if (fields.some((f) => f.name === fe.field)) byField[fe.field] = fe.message;
          else others.push(fe.message);
        }
        setErrors(byField);
        setFormError(others.length > 0 ? others.join(' ') : 'Please correct the highlighted fields.');
      } else {
        setFormError(errorMessage(err));
      }
    };
    if (record) {
      const changes: FormValues = {};
      const before: FormValues = {};
      for (const f of fields) before[f.name] = fromInput(f, initial[f.name], currency);
      for (const f of fields) if (JSON.stringify(body[f.name]) !== JSON.stringify(before[f.name])) changes[f.name] = body[f.name];
      if (Object.keys(changes).length === 0) return onSaved(record);
      update.mutate(
        { id: record.id, version: record.version, changes },
        {
          onSuccess: (r) => {
            toast.show(`${capitalize(def?.singular ?? 'record')} saved`);
            onSaved(r);
          },
          onError,
        },
      );
    } else {
      const createBody: FormValues = {};
      for (const [k, v] of Object.entries(body)) if (v !== null) createBody[k] = v;
      create.mutate(createBody, {
        onSuccess: (r) => {
          toast.show(`${capitalize(def?.singular ?? 'record')} created`);
          onSaved(r);
        },
        onError,
      });
    }
  };

  const busy = create.isPending || update.isPending;
  return (
    <form className="record-form" onSubmit={submit} noValidate>
      <div className="form-grid">
        {fields.map((f) => (
          <FieldInput
            key={f.name}
            field={f}
            value={values[f.name]}
            error={errors[f.name]}
            currency={currency}
            companyId={typeof values.company_id === 'string' ? values.company_id : undefined}
            onChange={(v) => setValues((prev) => ({ ...prev, [f.name]: v }))}
          />
        ))}
      </div>
      {formError && (
        <p className="form-error" role="alert">
          {formError}
        </p>
      )}
      <div className="form-actions">
        <button type="button" className="btn" onClick={onCancel}>
          Cancel
        </button>
        <button type="submit" className="btn btn-primary" disabled={busy}>
          {busy ? 'Saving…' : 'Save'}
        </button>
      </div>
    </form>
  );
}

function FieldInput({
  field,
  value,
  error,
  currency,
  companyId,
  onChange,
}: {
  field: FieldDef;
  value: unknown;
  error?: string;
  currency: string;
  companyId?: string;
  onChange: (v: unknown) => void;
}) {
  const id = `f-${field.name}`;
  const wide = field.type === 'long_text';
  const common = {
    id,
    'aria-required': field.required || undefined,
    'aria-invalid': Boolean(error), 'aria-describedby': error ? `${id}-err` : field.help ? `${id}-help` : undefined };
  let input;
  switch (field.type) {
    case 'long_text':
      input = <textarea {...common} rows={4} value={String(value ?? '')} onChange={(e) => onChange(e.target.value)} />;
      break;
    case 'select':
      input = (
        <select {...common} value={String(value ?? '')} onChange={(e) => onChange(e.target.value)}>
          {!field.required && <option value="">—</option>}
          {(field.options ?? []).filter((o) => !o.retired || o.value === value).map((o) => (
            <option key={o.value} value={o.value}>
              {o.label}
              {o.probability !== undefined ? ` (${o.probability}%)` : ''}
            </option>
          ))}
        </select>
      );
      break;
    case 'boolean':
      input = <input {...common} type="checkbox" checked={Boolean(value)} onChange={(e) => onChange(e.target.checked)} />;
      break;
    case 'reference':
      input = (
        <ReferenceInput
          id={id}
          entity={field.reference ?? ''}
          value={typeof value === 'string' && value ? value : null}
          onChange={(v) => onChange(v ?? '')}
          invalid={Boolean(error)}
          filter={field.reference === 'contacts' && companyId ? { company_id: companyId } : undefined}
        />
      );
      break;
    case 'money':
      input = (
        <div className="money-input">
          <span aria-hidden="true">{currency}</span>
          <input {...common} inputMode="decimal" value={String(value ?? '')} onChange={(e) => onChange(e.target.value)} />
        </div>
      );
      break;
    case 'multi_select': {
      const chosen = Array.isArray(value) ? (value as string[]) : [];
      input = (
        <div className="multi-select" role="group" aria-labelledby={`${id}-label`}>
          {(field.options ?? [])
            .filter((o) => !o.retired || chosen.includes(o.value))
            .map((o) => (
              <label key={o.value} className="check">
                <input
                  type="checkbox"
                  checked={chosen.includes(o.value)}
                  onChange={(e) =>
                    onChange(e.target.checked ? [...chosen, o.value] : chosen.filter((v) => v !== o.value))
                  }
                />{' '}
                {o.label}
              </label>
            ))}
        </div>
      );
      break;
    }
    case 'decimal':
      input = (
        <input
          {...common}
          type="number"
          step="any"
          min={field.min}
          max={field.max}
          value={String(value ?? '')}
          onChange={(e) => onChange(e.target.value === '' ? '' : e.target.value)}
        />
      );
      break;
    case 'integer':
    case 'percent':
      input = (
        <input
          {...common}
          type="number"
          min={field.min}
          max={field.max}
          value={String(value ?? '')}
          onChange={(e) => onChange(e.target.value === '' ? '' : Number(e.target.value))}
        />
      );
      break;
    case 'date':
      input = <input {...common} type="date" value={String(value ?? '')} onChange={(e) => onChange(e.target.value)} />;
      break;
    case 'timestamp':
      input = <input {...common} type="datetime-local" value={String(value ?? '')} onChange={(e) => onChange(e.target.value)} />;
      break;
    default:
      input = (
        <input
          {...common}
          type={field.type === 'email' ? 'email' : field.type === 'url' ? 'url' : field.type === 'phone' ? 'tel' : 'text'}
          maxLength={field.max_length}
          value={String(value ?? '')}
          onChange={(e) => onChange(e.target.value)}
        />
      );
  }
  return (
    <div className={`field ${wide ? 'field-wide' : ''} ${field.type === 'boolean' ? 'field-check' : ''}`}>
      <label htmlFor={id} id={`${id}-label`}>
        {field.label}
        {field.required && <span className="req" aria-hidden="true"> *</span>}
      </label>
      {input}
      {error ? (
        <span className="field-error" id={`${id}-err`}>
          {error}
        </span>
      ) : (
        field.help && (
          <span className="field-help" id={`${id}-help`}>
            {field.help}
          </span>
        )
      )}
    </div>
  );
}
