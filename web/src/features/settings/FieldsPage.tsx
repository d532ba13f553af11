// Settings → Fields (admins): each entity's custom fields, in order, with add/edit,
// reorder and archive. Everything goes through `/api/v1/fields/…`; the schema query is
// refreshed after each change so forms, detail cards and list columns pick it up.
import { useState, type FormEvent } from 'react';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { api, ApiError, errorMessage } from '../../api/client';
import { useEntity } from '../../api/schema';
import type { FieldDef, SelectOption } from '../../api/types';
import { Modal } from '../../components/Modal';
import { useToast } from '../../components/toast';
import { EmptyState, ErrorState, PageHeader, Skeleton } from '../../components/ui';

const ENTITIES = [
  { name: 'companies', label: 'Companies' },
  { name: 'contacts', label: 'Contacts' },
  { name: 'deals', label: 'Deals' },
  { name: 'activities', label: 'Activities' },
];

/** Built-in selects whose options admins edit (the server holds the same list). */
const EDITABLE_OPTIONS: Record<string, string[]> = {
  companies: ['industry', 'size'],
  contacts: ['department'],
  deals: ['stage', 'source', 'priority'],
  activities: ['type'],
};

const TYPES: { value: string; label: string }[] = [
  { value: 'text', label: 'Text' },
  { value: 'long_text', label: 'Long text' },
  { value: 'number', label: 'Number' },
  { value: 'currency', label: 'Currency (minor units)' },
  { value: 'percent', label: 'Percent' },
  { value: 'date', label: 'Date' },
  { value: 'datetime', label: 'Date and time' },
  { value: 'boolean', label: 'Yes / no' },
  { value: 'select', label: 'Select' },
  { value: 'multi_select', label: 'Multi-select' },
  { value: 'email', label: 'Email' },
  { value: 'phone', label: 'Phone' },
  { value: 'url', label: 'URL' },
  { value: 'rating', label: 'Rating (1–5)' },
  { value: 'reference', label: 'Reference' },
];

export interface CustomField {
  entity: string;
  name: string;
  label: string;
  type: string;
  help?: string;
  required: boolean;
  unique: boolean;
  min?: number;
  max?: number;
  max_length?: number;
  options?: SelectOption[];
  reference?: string;
  read_roles?: string[];
  write_roles?: string[];
  position: number;
  archived: boolean;
}

function useFields(entity: string) {
  return useQuery({
    queryKey: ['fields', entity],
    queryFn: () => api<{ data: CustomField[] }>(`/api/v1/fields/${entity}`).then((r) => r.data),
  });
}

function useFieldMutation(entity: string) {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: ({ path, method, body }: { path: string; method: string; body?: unknown }) =>
      api<unknown>(`/api/v1/fields/${entity}${path}`, { method, body }),
    onSuccess: () => {
      void qc.invalidateQueries({ queryKey: ['fields', entity] });
      void qc.invalidateQueries({ queryKey: ['schema'] });
    },
  });
}

export function FieldsPage() {
  const [entity, setEntity] = useState('companies');
  const fields = useFields(entity);
  const mutate = useFieldMutation(entity);
  const toast = useToast();
  const [editing, setEditing] = useState<CustomField | 'new' | null>(null);
  const def = useEntity(entity);
  const [optionsOf, setOptionsOf] = useState<FieldDef | null>(null);
  const builtinSelects = (def?.fields ?? []).filter((f) => (EDITABLE_OPTIONS[entity] ?? []).includes(f.name));

  const list = fields.data ?? [];
  const move = (index: number, by: number) => {
    const order = list.map((f) => f.name);
    const [item] = order.splice(index, 1);
    if (item === undefined) return;
    order.splice(index + by, 0, item);
    mutate.mutate(
      { path: '/order', method: 'PUT', body: { order } },
      { onError: (e) => toast.show(errorMessage(e), 'error') },
    );
  };
  const archive = (f: CustomField) =>
    mutate.mutate(
      { path: `/${f.name}/${f.archived ? 'unarchive' : 'archive'}`, method: 'POST' },
      {
        onSuccess: () => toast.show(f.archived ? `${f.label} is back` : `${f.label} archived; its data is kept`),
        onError: (e) => toast.show(errorMessage(e), 'error'),
      },
    );

  return (
    <>
      <PageHeader
        title="Fields"
        actions={
          <button className="btn btn-primary" onClick={() => setEditing('new')}>
            Add field
          </button>
        }
      />
      <div className="tab-list" role="tablist" aria-label="Entity">
        {ENTITIES.map((e) => (
          <button
            key={e.name}
            role="tab"
            aria-selected={entity === e.name}
            className={`btn btn-small ${entity === e.name ? 'btn-primary' : ''}`}
            onClick={() => setEntity(e.name)}
          >
            {e.label}
          </button>
        ))}
      </div>
      <section className="card">
        {fields.isLoading ? (
          <Skeleton />
        ) : fields.error ? (
          <ErrorState error={fields.error} retry={() => void fields.refetch()} />
        ) : list.length === 0 ? (
          <EmptyState title="No custom fields yet">Add a field to capture what your team tracks.</EmptyState>
        ) : (
          <table className="table">
            <thead>
              <tr>
                <th>Label</th>
                <th>Name</th>
                <th>Type</th>
                <th>Rules</th>
                <th>
                  <span className="sr-only">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {list.map((f, i) => (
                <tr key={f.name} className={f.archived ? 'muted' : undefined}>
                  <td>
                    {f.label}
                    {f.archived && <span className="meta-chip">archived</span>}
                  </td>
                  <td className="mono">{f.name}</td>
                  <td>{TYPES.find((t) => t.value === f.type)?.label ?? f.type}</td>
                  <td className="small">
                    {[f.required && 'required', f.unique && 'unique', f.read_roles && `read: ${f.read_roles.join(', ')}`]
                      .filter(Boolean)
                      .join(' · ')}
                  </td>
                  <td className="row-actions">
                    <button className="btn btn-small" aria-label={`Move ${f.label} up`} disabled={i === 0} onClick={() => move(i, -1)}>
                      ↑
                    </button>
                    <button
                      className="btn btn-small"
                      aria-label={`Move ${f.label} down`}
                      disabled={i === list.length - 1}
                      onClick={() => move(i, 1)}
                    >
                      ↓
                    </button>
                    <button className="btn btn-small" onClick={() => setEditing(f)}>
                      Edit
                    </button>
                    <button className="btn btn-small" onClick={() => archive(f)}>
                      {f.archived ? 'Unarchive' : 'Archive'}
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </section>
      <section className="card">
        <h2>Options of built-in fields</h2>
        <ul className="plain-list">
          {builtinSelects.map((f) => (
            <li key={f.name}>
              {f.label}: <span className="muted">{(f.options ?? []).filter((o) => !o.retired).map((o) => o.label).join(', ')}</span>{' '}
              <button className="btn btn-small" onClick={() => setOptionsOf(f)}>
                Edit options
              </button>
            </li>
          ))}
        </ul>
      </section>
      <Modal open={optionsOf !== null} onOpenChange={(o) => !o && setOptionsOf(null)} title={`Options: ${optionsOf?.label ?? ''}`} wide>
        {optionsOf && <OptionsForm entity={entity} field={optionsOf} onDone={() => setOptionsOf(null)} />}
      </Modal>
      <Modal open={editing !== null} onOpenChange={(o) => !o && setEditing(null)} title={editing === 'new' ? 'Add field' : 'Edit field'} wide>
        {editing !== null && (
          <FieldForm entity={entity} field={editing === 'new' ? undefined : editing} onDone={() => setEditing(null)} />
        )}
      </Modal>
    </>
  );
}

/** Options as one per line: `value` or `value | label`. */
function optionsToText(options: SelectOption[] | undefined): string {
  return (options ?? []).map((o) => (o.label && o.label !== o.value ? `${o.value} | ${o.label}` : o.value)).join('\n');
}

function textToOptions(text: string, before: SelectOption[] | undefined): SelectOption[] {
  return text
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean)
    .map((line) => {
      const [value = '', label] = line.split('|').map((p) => p.trim());
      const old = before?.find((o) => o.value === value);
      return { ...old, value, label: label ?? old?.label ?? value };
    });
}

function numberOrUndefined(s: string): number | undefined {
  if (s.trim() === '') return undefined;
  const n = Number(s);
  return Number.isFinite(n) ? n : undefined;
}

function FieldForm({ entity, field, onDone }: { entity: string; field?: CustomField; onDone: () => void }) {
  const mutate = useFieldMutation(entity);
  const toast = useToast();
  const [label, setLabel] = useState(field?.label ?? '');
  const [name, setName] = useState(field?.name ?? '');
  const [type, setType] = useState(field?.type ?? 'text');
  const [help, setHelp] = useState(field?.help ?? '');
  const [required, setRequired] = useState(field?.required ?? false);
  const [unique, setUnique] = useState(field?.unique ?? false);
  const [min, setMin] = useState(field?.min?.toString() ?? '');
  const [max, setMax] = useState(field?.max?.toString() ?? '');
  const [options, setOptions] = useState(optionsToText(field?.options));
  const [reference, setReference] = useState(field?.reference ?? 'companies');
  const [readRoles, setReadRoles] = useState(field?.read_roles?.join(', ') ?? '');
  const [errors, setErrors] = useState<Record<string, string>>({});
  const hasOptions = type === 'select' || type === 'multi_select';
  const hasRange = type === 'number' || type === 'currency' || type === 'percent';

  const submit = (e: FormEvent) => {
    e.preventDefault();
    const roles = readRoles
      .split(',')
      .map((r) => r.trim())
      .filter(Boolean);
    const body: Record<string, unknown> = {
      label,
      type,
      help: help.trim() || undefined,
      required,
      unique: ['text', 'email', 'phone', 'url'].includes(type) ? unique : false,
      min: hasRange ? numberOrUndefined(min) : undefined,
      max: hasRange ? numberOrUndefined(max) : undefined,
      options: hasOptions ? textToOptions(options, field?.options) : undefined,
      reference: type === 'reference' ? reference : undefined,
      read_roles: roles.length > 0 ? roles : undefined,
    };
    if (!field) body.name = name || label.toLowerCase().replace(/[^a-z0-9]+/g, '_').replace(/^_+|_+$/g, '');
    mutate.mutate(
      { path: field ? `/${field.name}` : '', method: field ? 'PATCH' : 'POST', body },
      {
        onSuccess: () => {
          toast.show(field ? 'Field saved' : 'Field added');
          onDone();
        },
        onError: (err) => {
          if (err instanceof ApiError && err.fieldErrors.length > 0) {
            setErrors(Object.fromEntries(err.fieldErrors.map((f) => [f.field, f.message])));
          } else {
            toast.show(errorMessage(err), 'error');
          }
        },
      },
    );
  };

  const err = (key: string) =>
    errors[key] ? (
      <span className="field-error" role="alert">
        {errors[key]}
      </span>
    ) : null;

  return (
    <form className="form-grid" onSubmit={submit} noValidate>
      <div className="field">
        <label htmlFor="cf-label">Label</label>
        <input id="cf-label" required maxLength={100} value={label} onChange={(e) => setLabel(e.target.value)} />
        {err('label')}
      </div>
      <div className="field">
        <label htmlFor="cf-name">Name</label>
        <input
          id="cf-name"
          disabled={Boolean(field)}
          placeholder="from the label"
          value={name}
          onChange={(e) => setName(e.target.value)}
        />
        <span className="hint">Lowercase a-z, 0-9 and _; stored as cf_name. Cannot change later.</span>
        {err('name')}
      </div>
      <div className="field">
        <label htmlFor="cf-type">Type</label>
        <select id="cf-type" value={type} onChange={(e) => setType(e.target.value)}>
          {TYPES.map((t) => (
            <option key={t.value} value={t.value}>
              {t.label}
            </option>
          ))}
        </select>
        {field && type !== field.type && <span className="hint">Existing values are converted, or nothing changes.</span>}
        {err('type')}
        {err('body')}
      </div>
      {type === 'reference' && (
        <div className="field">
          <label htmlFor="cf-ref">Points at</label>
          <select id="cf-ref" value={reference} onChange={(e) => setReference(e.target.value)}>
            {['companies', 'contacts', 'deals', 'activities', 'users'].map((r) => (
              <option key={r} value={r}>
                {r}
              </option>
            ))}
          </select>
          {err('reference')}
        </div>
      )}
      {hasOptions && (
        <div className="field field-wide">
          <label htmlFor="cf-options">Options (one per line; value | label)</label>
          <textarea id="cf-options" rows={5} value={options} onChange={(e) => setOptions(e.target.value)} />
          {Object.entries(errors)
            .filter(([k]) => k.startsWith('options'))
            .map(([k, m]) => (
              <span key={k} className="field-error">
                {m}
              </span>
            ))}
        </div>
      )}
      {hasRange && (
        <>
          <div className="field">
            <label htmlFor="cf-min">Minimum</label>
            <input id="cf-min" type="number" value={min} onChange={(e) => setMin(e.target.value)} />
            {err('min')}
          </div>
          <div className="field">
            <label htmlFor="cf-max">Maximum</label>
            <input id="cf-max" type="number" value={max} onChange={(e) => setMax(e.target.value)} />
            {err('max')}
          </div>
        </>
      )}
      <div className="field field-wide">
        <label htmlFor="cf-help">Help text</label>
        <input id="cf-help" maxLength={500} value={help} onChange={(e) => setHelp(e.target.value)} />
        {err('help')}
      </div>
      <div className="field field-check">
        <label htmlFor="cf-required">Required</label>
        <input id="cf-required" type="checkbox" checked={required} onChange={(e) => setRequired(e.target.checked)} />
      </div>
      {['text', 'email', 'phone', 'url'].includes(type) && (
        <div className="field field-check">
          <label htmlFor="cf-unique">Unique</label>
          <input id="cf-unique" type="checkbox" checked={unique} onChange={(e) => setUnique(e.target.checked)} />
          {err('unique')}
        </div>
      )}
      <div className="field field-wide">
        <label htmlFor="cf-read">Only these roles may see it (comma-separated; empty: everyone)</label>
        <input id="cf-read" value={readRoles} onChange={(e) => setReadRoles(e.target.value)} placeholder="manager" />
        {err('read_roles')}
      </div>
      <div className="form-actions field-wide">
        <button type="button" className="btn" onClick={onDone}>
          Cancel
        </button>
        <button type="submit" className="btn btn-primary" disabled={mutate.isPending}>
          {field ? 'Save' : 'Add field'}
        </button>
      </div>
    </form>
  );
}

/** One option per line: `value | label | probability | retired` (stages carry a probability). */
function optionLines(options: SelectOption[] | undefined, stages: boolean): string {
  return (options ?? [])
    .map((o) => {
      const parts = [o.value, o.label ?? o.value];
      if (stages) parts.push(String(o.probability ?? ''));
      if (o.retired) parts.push('retired');
      return parts.join(' | ');
    })
    .join('\n');
}

function OptionsForm({ entity, field, onDone }: { entity: string; field: FieldDef; onDone: () => void }) {
  const stages = entity === 'deals' && field.name === 'stage';
  const [text, setText] = useState(optionLines(field.options, stages));
  const [replacements, setReplacements] = useState('');
  const [problem, setProblem] = useState<string | null>(null);
  const qc = useQueryClient();
  const toast = useToast();
  const save = useMutation({
    mutationFn: (body: unknown) => api<unknown>(`/api/v1/fields/${entity}/${field.name}/options`, { method: 'PUT', body }),
    onSuccess: () => {
      void qc.invalidateQueries({ queryKey: ['schema'] });
      void qc.invalidateQueries({ queryKey: ['records'] });
      toast.show('Options saved');
      onDone();
    },
    onError: (e) => {
      if (e instanceof ApiError && e.code === 'option_in_use') {
        setProblem(`${errorMessage(e)} — name a replacement per removed option below (old = new).`);
      } else setProblem(errorMessage(e));
    },
  });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    const options = text
      .split('\n')
      .map((l) => l.trim())
      .filter(Boolean)
      .map((line) => {
        const parts = line.split('|').map((p) => p.trim());
        const value = parts[0] ?? '';
        const old = field.options?.find((o) => o.value === value);
        const option: SelectOption = { ...old, value, label: parts[1] || value, retired: parts.includes('retired') || undefined };
        if (stages) option.probability = numberOrUndefined(parts[2] ?? '');
        return option;
      });
    const repl = Object.fromEntries(
      replacements
        .split('\n')
        .map((l) => l.split('=').map((p) => p.trim()))
        .filter((p) => p.length === 2 && p[0] && p[1]),
    );
    save.mutate({ options, replacements: repl });
  };
  return (
    <form className="form-grid" onSubmit={submit}>
      <div className="field field-wide">
        <label htmlFor="opt-lines">
          One per line: value | label{stages ? ' | probability' : ''} (add “| retired” to stop offering one)
        </label>
        <textarea id="opt-lines" rows={10} value={text} onChange={(e) => setText(e.target.value)} />
      </div>
      <div className="field field-wide">
        <label htmlFor="opt-repl">Replacements for removed options in use (one per line: old = new)</label>
        <textarea id="opt-repl" rows={3} value={replacements} onChange={(e) => setReplacements(e.target.value)} />
      </div>
      {problem && (
        <p className="field-error field-wide" role="alert">
          {problem}
        </p>
      )}
      <div className="form-actions field-wide">
        <button type="button" className="btn" onClick={onDone}>
          Cancel
        </button>
        <button type="submit" className="btn btn-primary" disabled={save.isPending}>
          Save options
        </button>
      </div>
    </form>
  );
}
