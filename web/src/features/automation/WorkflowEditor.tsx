// Create or edit a workflow: trigger, conditions and ordered actions, each action's text
// fields being templates (`{{ deal.title }}`, `{{ deal.amount | currency }}`). The server
// checks templates against the schema when saving and names the failing field
// (`actions[0].subject`), which is shown next to it.
import { useState, type FormEvent } from 'react';
import { useNavigate, useParams } from 'react-router';
import { ApiError, errorMessage } from '../../api/client';
import { useSchema } from '../../api/schema';
import { useToast } from '../../components/toast';
import { ErrorState, PageHeader, Skeleton } from '../../components/ui';
import { useSaveWorkflow, useWorkflow, type Action, type Json, type Trigger, type Workflow, type WorkflowBody } from './api';

const ACTION_FIELDS: Record<Action['type'], { name: string; label: string; long?: boolean; json?: boolean; help?: string }[]> = {
  send_email: [
    { name: 'to', label: 'To', help: 'Addresses or templates, comma-separated: {{ deal.owner.email }}' },
    { name: 'cc', label: 'Cc' },
    { name: 'subject', label: 'Subject' },
    { name: 'text', label: 'Text body', long: true },
    { name: 'html', label: 'HTML body', long: true },
  ],
  post_slack: [
    { name: 'webhook_url', label: 'Slack webhook URL' },
    { name: 'channel', label: 'Channel' },
    { name: 'text', label: 'Message', long: true },
  ],
  post_teams: [
    { name: 'webhook_url', label: 'Teams webhook URL' },
    { name: 'title', label: 'Title' },
    { name: 'text', label: 'Message', long: true },
  ],
  call_webhook: [
    { name: 'url', label: 'URL' },
    { name: 'secret', label: 'Signing secret', help: 'Else KEEL_WEBHOOK_SECRET; signed with HMAC-SHA256' },
    { name: 'body', label: 'JSON body', long: true, json: true, help: 'Any JSON; strings are templates. Empty: the event and the record.' },
  ],
  create_activity: [
    { name: 'activity_type', label: 'Activity type', help: 'Call, Email, Meeting, Note or Task' },
    { name: 'subject', label: 'Subject' },
    { name: 'description', label: 'Description', long: true },
  ],
  update_record: [
    { name: 'target', label: 'Record', help: 'Empty: the trigger record; or a reference field such as company_id' },
    { name: 'fields', label: 'Fields to set (JSON)', long: true, json: true, help: '{"priority": "High"}' },
  ],
  assign_owner: [
    { name: 'default_user_id', label: 'Default owner (user id)', help: 'When no territory rule matches' },
    {
      name: 'rules',
      label: 'Territory rules (JSON)',
      long: true,
      json: true,
      help: '[{"when": {"field": "deal.company.state", "op": "in", "value": ["CA", "OR"]}, "user_id": "…"} or "team_id" for round robin]',
    },
  ],
  run_script: [
    { name: 'code', label: 'Script (JavaScript)', long: true, help: 'The record is a global (deal, previous, user); setField(name, value), sendEmail({to, subject, text}), log(…)' },
    { name: 'timeout_ms', label: 'Time limit (ms)', json: true, help: 'Default 1000, at most 5000' },
    { name: 'memory_mb', label: 'Memory limit (MB)', json: true, help: 'Default 16, at most 64' },
  ],
};

const ACTION_LABELS: Record<Action['type'], string> = {
  send_email: 'Send email',
  post_slack: 'Post to Slack',
  post_teams: 'Post to Microsoft Teams',
  call_webhook: 'Call a webhook',
  create_activity: 'Create an activity',
  update_record: 'Update fields',
  assign_owner: 'Assign owner by territory',
  run_script: 'Run a script',
};

type Draft = {
  name: string;
  description: string;
  enabled: boolean;
  trigger: Trigger;
  conditions: string;
  actions: { type: Action['type']; values: Record<string, string>; only_if: string }[];
};

function toDraft(w?: Workflow): Draft {
  if (!w)
    return {
      name: '',
      description: '',
      enabled: true,
      trigger: { type: 'record', entity: 'deals', on: 'updated', field: 'stage' },
      conditions: '',
      actions: [{ type: 'create_activity', values: { activity_type: 'Note', subject: '' }, only_if: '' }],
    };
  return {
    name: w.name,
    description: w.description ?? '',
    enabled: w.enabled,
    trigger: w.trigger,
    conditions: w.conditions ? JSON.stringify(w.conditions, null, 2) : '',
    actions: w.actions.map(({ type, only_if, ...rest }) => ({
      type,
      only_if: only_if ? JSON.stringify(only_if) : '',
      values: Object.fromEntries(
        Object.entries(rest).map(([k, v]) => [
          k,
          typeof v === 'string'
            ? v
            : (k === 'to' || k === 'cc') && Array.isArray(v)
              ? v.join(', ')
              : JSON.stringify(v, null, 2),
        ]),
      ),
    })),
  };
}

/** The draft as the API takes it; JSON fields that do not parse are reported by field. */
function toBody(d: Draft): { body?: WorkflowBody; errors: Record<string, string> } {
  const errors: Record<string, string> = {};
  const parse = (text: string, field: string): Json | undefined => {
    if (!text.trim()) return undefined;
    try {
      return JSON.parse(text) as Json;
    } catch {
      errors[field] = 'This is not valid JSON';
      return undefined;
    }
  };
  const conditions = parse(d.conditions, 'conditions');
  const actions: Action[] = d.actions.map((a, i) => {
    const out: Action = { type: a.type };
    for (const f of ACTION_FIELDS[a.type] ?? []) {
      const v = a.values[f.name] ?? '';
      if (!v.trim()) continue;
      if (f.json) out[f.name] = parse(v, `actions[${i}].${f.name}`);
      else if ((f.name === 'to' || f.name === 'cc') && v.includes(',')) out[f.name] = v.split(',').map((s) => s.trim());
      else out[f.name] = v;
    }
    const onlyIf = parse(a.only_if, `actions[${i}].only_if`);
    if (onlyIf !== undefined) out.only_if = onlyIf;
    return out;
  });
  const trigger: Trigger =
    d.trigger.type === 'record'
      ? Object.fromEntries(Object.entries(d.trigger).filter(([, v]) => v !== '' && v !== undefined)) as Trigger
      : d.trigger;
  const body: WorkflowBody = {
    name: d.name,
    description: d.description || null,
    enabled: d.enabled,
    trigger,
    actions,
    ...(conditions !== undefined ? { conditions } : {}),
  };
  return { body: Object.keys(errors).length ? undefined : body, errors };
}

export function WorkflowEditorPage() {
  const { id } = useParams();
  const workflow = useWorkflow(id);
  if (id && workflow.isError) return <ErrorState error={workflow.error} retry={() => workflow.refetch()} />;
  if (id && workflow.isPending) return <Skeleton lines={10} />;
  return <WorkflowEditor key={id ?? 'new'} workflow={workflow.data} />;
}

function WorkflowEditor({ workflow }: { workflow?: Workflow }) {
  const schema = useSchema().data;
  const save = useSaveWorkflow();
  const toast = useToast();
  const navigate = useNavigate();
  const [draft, setDraft] = useState<Draft>(() => toDraft(workflow));
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [formError, setFormError] = useState<string>();
  const entities = Object.values(schema?.entities ?? {}).filter((e) => e.owned || e.name === 'activities');
  const triggerEntity = draft.trigger.type === 'schedule' ? undefined : schema?.entities[draft.trigger.entity];
  const set = (patch: Partial<Draft>) => setDraft((d) => ({ ...d, ...patch }));
  const setTrigger = (patch: Record<string, string | undefined>) =>
    setDraft((d) => ({ ...d, trigger: { ...d.trigger, ...patch } as Trigger }));
  const setAction = (i: number, patch: Partial<Draft['actions'][number]>) =>
    setDraft((d) => ({ ...d, actions: d.actions.map((a, j) => (j === i ? { ...a, ...patch } : a)) }));
  const err = (field: string) =>
    errors[field] ? (
      <span className="field-error" role="alert">
        {errors[field]}
      </span>
    ) : null;

  const submit = (e: FormEvent) => {
    e.preventDefault();
    const { body, errors: local } = toBody(draft);
    setErrors(local);
    setFormError(undefined);
    if (!body) return;
    save.mutate(
      { id: workflow?.id, version: workflow?.version, body },
      {
        onSuccess: (w) => {
          toast.show(`Workflow “${w.name}” saved`);
          navigate(`/automation/${w.id}`);
        },
        onError: (e) => {
          if (e instanceof ApiError && e.fieldErrors.length) {
            setErrors(Object.fromEntries(e.fieldErrors.map((f) => [f.field, f.message])));
            setFormError('Please correct the highlighted fields.');
          } else setFormError(errorMessage(e));
        },
      },
    );
  };

  const sample = triggerEntity ? triggerEntity.singular : 'deal';
  return (
    <form className="workflow-editor" onSubmit={submit} noValidate>
      <PageHeader
        back={{ to: workflow ? `/automation/${workflow.id}` : '/automation', label: workflow ? workflow.name : 'Automation' }}
        title={workflow ? 'Edit workflow' : 'New workflow'}
      />
      <section className="card">
        <div className="form-grid">
          <div className="field">
            <label htmlFor="wf-name">Name</label>
            <input id="wf-name" value={draft.name} onChange={(e) => set({ name: e.target.value })} aria-invalid={Boolean(errors.name)} />
            {err('name')}
          </div>
          <div className="field field-check">
            <label htmlFor="wf-enabled">Enabled</label>
            <input id="wf-enabled" type="checkbox" checked={draft.enabled} onChange={(e) => set({ enabled: e.target.checked })} />
          </div>
          <div className="field field-wide">
            <label htmlFor="wf-desc">Description</label>
            <input id="wf-desc" value={draft.description} onChange={(e) => set({ description: e.target.value })} />
          </div>
        </div>
      </section>

      <section className="card">
        <h2>When</h2>
        <div className="form-grid">
          <div className="field">
            <label htmlFor="wf-ttype">Trigger</label>
            <select
              id="wf-ttype"
              value={draft.trigger.type}
              onChange={(e) =>
                set({
                  trigger:
                    e.target.value === 'manual'
                      ? { type: 'manual', entity: triggerEntity?.name ?? 'deals' }
                      : e.target.value === 'schedule'
                        ? { type: 'schedule', cron: '0 9 * * MON', time_zone: Intl.DateTimeFormat().resolvedOptions().timeZone }
                        : { type: 'record', entity: triggerEntity?.name ?? 'deals', on: 'updated' },
                })
              }
            >
              <option value="record">A record changes</option>
              <option value="schedule">On a schedule</option>
              <option value="manual">Run by hand</option>
            </select>
          </div>
          {draft.trigger.type === 'schedule' && (
            <>
              <div className="field">
                <label htmlFor="wf-cron">Schedule (cron)</label>
                <input id="wf-cron" className="mono" value={draft.trigger.cron} onChange={(e) => setTrigger({ cron: e.target.value })} />
                <span className="field-help">minute hour day month weekday: “0 9 * * MON” is Mondays at 9:00</span>
                {err('trigger.cron')}
              </div>
              <div className="field">
                <label htmlFor="wf-tz">Time zone</label>
                <input id="wf-tz" value={draft.trigger.time_zone} onChange={(e) => setTrigger({ time_zone: e.target.value })} />
                {err('trigger.time_zone')}
              </div>
            </>
          )}
          {draft.trigger.type !== 'schedule' && (
            <div className="field">
              <label htmlFor="wf-entity">Record type</label>
              <select id="wf-entity" value={draft.trigger.entity} onChange={(e) => setTrigger({ entity: e.target.value, field: undefined })}>
                {entities.map((e) => (
                  <option key={e.name} value={e.name}>
                    {e.label}
                  </option>
                ))}
              </select>
              {err('trigger.entity')}
            </div>
          )}
          {draft.trigger.type === 'record' && (
            <>
              <div className="field">
                <label htmlFor="wf-on">Event</label>
                <select id="wf-on" value={draft.trigger.on} onChange={(e) => setTrigger({ on: e.target.value })}>
                  <option value="created">is created</option>
                  <option value="updated">is updated</option>
                  <option value="deleted">is deleted</option>
                  <option value="restored">is restored</option>
                </select>
              </div>
              <div className="field">
                <label htmlFor="wf-field">Only when this field changes</label>
                <select id="wf-field" value={draft.trigger.field ?? ''} onChange={(e) => setTrigger({ field: e.target.value || undefined })}>
                  <option value="">(any change)</option>
                  {triggerEntity?.fields
                    .filter((f) => f.access === 'writable')
                    .map((f) => (
                      <option key={f.name} value={f.name}>
                        {f.label}
                      </option>
                    ))}
                </select>
                {err('trigger.field')}
              </div>
              <div className="field">
                <label htmlFor="wf-from">From (optional)</label>
                <input id="wf-from" value={String(draft.trigger.from ?? '')} onChange={(e) => setTrigger({ from: e.target.value || undefined })} />
                {err('trigger.from')}
              </div>
              <div className="field">
                <label htmlFor="wf-to">To (optional)</label>
                <input id="wf-to" value={String(draft.trigger.to ?? '')} onChange={(e) => setTrigger({ to: e.target.value || undefined })} />
                {err('trigger.to')}
              </div>
            </>
          )}
          <div className="field field-wide">
            <label htmlFor="wf-cond">Conditions (optional, JSON)</label>
            <textarea
              id="wf-cond"
              rows={4}
              className="mono"
              placeholder={`{"all": [{"field": "${sample}.amount", "op": "gte", "value": 5000000}]}`}
              value={draft.conditions}
              onChange={(e) => set({ conditions: e.target.value })}
              aria-invalid={Boolean(errors.conditions)}
            />
            <span className="field-help">
              {'{"all": […]}, {"any": […]}, {"not": …} and {"field", "op", "value"} with op eq, ne, gt, gte, lt, lte, in, not_in, contains, is_empty, is_not_empty, changed. Fields: '}
              {`${sample}.…, previous.…, ${sample}.company.…, ${sample}.owner.email`}
            </span>
            {Object.entries(errors)
              .filter(([k]) => k.startsWith('conditions'))
              .map(([k, v]) => (
                <span key={k} className="field-error">
                  {k}: {v}
                </span>
              ))}
          </div>
        </div>
      </section>

      <section className="card">
        <h2>Then</h2>
        <p className="muted small">
          Text fields are templates: <code>{`{{ ${sample}.title }}`}</code>, <code>{`{{ ${sample}.amount | currency }}`}</code>,{' '}
          <code>{`{{ ${sample}.expected_close_date | date }}`}</code>, <code>{`{{ ${sample}.url }}`}</code>,{' '}
          <code>{`{{ ${sample}.previous_stage }}`}</code>, <code>{'{{ user.name }}'}</code>. An unknown name is refused when you save.
        </p>
        {draft.actions.map((a, i) => (
          <fieldset key={i} className="action-box">
            <legend>
              {i + 1}. {ACTION_LABELS[a.type]}
            </legend>
            <div className="form-grid">
              <div className="field">
                <label htmlFor={`a${i}-type`}>Action</label>
                <select id={`a${i}-type`} value={a.type} onChange={(e) => setAction(i, { type: e.target.value as Action['type'], values: {} })}>
                  {Object.entries(ACTION_LABELS).map(([k, v]) => (
                    <option key={k} value={k}>
                      {v}
                    </option>
                  ))}
                </select>
                {err(`actions[${i}].type`)}
              </div>
              <div className="field">
                <label htmlFor={`a${i}-if`}>Only if (optional, JSON)</label>
                <input
                  id={`a${i}-if`}
                  className="mono"
                  placeholder={`{"field": "${sample}.stage", "op": "eq", "value": "Closed Won"}`}
                  value={a.only_if}
                  onChange={(e) => setAction(i, { only_if: e.target.value })}
                />
                {err(`actions[${i}].only_if`)}
              </div>
              {(ACTION_FIELDS[a.type] ?? []).map((f) => {
                const id = `a${i}-${f.name}`;
                const value = a.values[f.name] ?? '';
                const onChange = (v: string) => setAction(i, { values: { ...a.values, [f.name]: v } });
                const fieldErrors = Object.entries(errors).filter(([k]) => k === `actions[${i}].${f.name}` || k.startsWith(`actions[${i}].${f.name}[`));
                return (
                  <div key={f.name} className={`field ${f.long ? 'field-wide' : ''}`}>
                    <label htmlFor={id}>{f.label}</label>
                    {f.long ? (
                      <textarea id={id} rows={f.json || f.name === 'code' ? 6 : 3} className={f.json || f.name === 'code' ? 'mono' : ''} value={value} onChange={(e) => onChange(e.target.value)} aria-invalid={fieldErrors.length > 0} />
                    ) : (
                      <input id={id} value={value} onChange={(e) => onChange(e.target.value)} aria-invalid={fieldErrors.length > 0} />
                    )}
                    {fieldErrors.length > 0
                      ? fieldErrors.map(([k, v]) => (
                          <span key={k} className="field-error" role="alert">
                            {v}
                          </span>
                        ))
                      : f.help && <span className="field-help">{f.help}</span>}
                  </div>
                );
              })}
            </div>
            <div className="tab-toolbar">
              <button type="button" className="btn btn-small" disabled={i === 0} onClick={() => set({ actions: move(draft.actions, i, i - 1) })}>
                ↑ Up
              </button>
              <button
                type="button"
                className="btn btn-small"
                disabled={i === draft.actions.length - 1}
                onClick={() => set({ actions: move(draft.actions, i, i + 1) })}
              >
                ↓ Down
              </button>
              <button type="button" className="btn btn-small btn-danger-outline" onClick={() => set({ actions: draft.actions.filter((_, j) => j !== i) })}>
                Remove
              </button>
            </div>
          </fieldset>
        ))}
        {err('actions')}
        <button
          type="button"
          className="btn"
          onClick={() => set({ actions: [...draft.actions, { type: 'send_email', values: {}, only_if: '' }] })}
        >
          + Add action
        </button>
      </section>
      {formError && (
        <p className="form-error" role="alert">
          {formError}
        </p>
      )}
      <div className="form-actions">
        <button type="button" className="btn" onClick={() => navigate(workflow ? `/automation/${workflow.id}` : '/automation')}>
          Cancel
        </button>
        <button type="submit" className="btn btn-primary" disabled={save.isPending}>
          {save.isPending ? 'Saving…' : 'Save workflow'}
        </button>
      </div>
    </form>
  );
}

function move<T>(items: T[], from: number, to: number): T[] {
  const out = [...items];
  const [it] = out.splice(from, 1);
  if (it !== undefined) out.splice(to, 0, it);
  return out;
}
