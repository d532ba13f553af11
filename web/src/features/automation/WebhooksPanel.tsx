// Outbound webhooks (admins): the subscriptions, a form to create and edit them (event
// checkboxes, an optional filter), the secret with rotation, and the delivery log with
// Redeliver. Lives in the Automation page's "Webhooks" tab.
import { type FormEvent, useState } from 'react';
import { ApiError, errorMessage } from '../../api/client';
import { Confirm, Modal } from '../../components/Modal';
import { useToast } from '../../components/toast';
import { EmptyState, ErrorState, Skeleton } from '../../components/ui';
import { formatDateTime, formatRelative } from '../../lib/format';
import type { Json } from './api';
import {
  type Webhook,
  type WebhookBody,
  WEBHOOK_ENTITIES,
  WEBHOOK_OPS,
  useDeliveries,
  useWebhookCommands,
  useWebhooks,
} from './webhooksApi';

const STATUS_CLASS: Record<string, string> = {
  succeeded: 'badge-green',
  skipped: 'badge-gray',
  failed: 'badge-red',
  dead: 'badge-red',
  retrying: 'badge-yellow',
  queued: 'badge-slate',
};

export function WebhooksPanel() {
  const list = useWebhooks();
  const { toggle } = useWebhookCommands();
  const toast = useToast();
  const [selected, setSelected] = useState<string>();
  const [editing, setEditing] = useState<Webhook | 'new'>();
  if (list.isError) return <ErrorState error={list.error} retry={() => list.refetch()} />;
  if (list.isPending) return <Skeleton lines={4} />;
  const current = list.data.find((w) => w.id === selected);
  return (
    <div className="webhooks">
      <div className="form-actions">
        <button className="btn btn-primary" onClick={() => setEditing('new')}>
          + New webhook
        </button>
      </div>
      {list.data.length === 0 ? (
        <EmptyState title="No webhooks yet — send record changes to another system as signed JSON." />
      ) : (
        <table className="data-table mini">
          <thead>
            <tr>
              <th>URL</th>
              <th>Events</th>
              <th>Active</th>
              <th className="hide-sm">Failures</th>
              <th className="hide-sm">Updated</th>
            </tr>
          </thead>
          <tbody>
            {list.data.map((w) => (
              <tr key={w.id} aria-selected={w.id === selected}>
                <td data-label="URL">
                  <button className="btn-link row-link" onClick={() => setSelected(w.id === selected ? undefined : w.id)}>
                    {w.url}
                  </button>
                  {w.description && <div className="muted small">{w.description}</div>}
                </td>
                <td data-label="Events" className="small">
                  {w.events.join(', ')}
                  {w.filter !== null && <span className="muted"> (filtered)</span>}
                </td>
                <td data-label="Active">
                  <input
                    type="checkbox"
                    role="switch"
                    aria-label={`Active: ${w.url}`}
                    checked={w.active}
                    disabled={toggle.isPending}
                    onChange={() =>
                      toggle.mutate(w, {
                        onSuccess: () => toast.show(`Webhook ${w.active ? 'turned off' : 'turned on'}`),
                        onError: (e) => toast.show(errorMessage(e), 'error'),
                      })
                    }
                  />
                  {w.disabled_reason && <div className="field-error small">{w.disabled_reason}</div>}
                </td>
                <td className="hide-sm">{w.failures}</td>
                <td className="hide-sm">{formatRelative(w.updated_at)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {current && <WebhookDetail key={current.id} webhook={current} onEdit={() => setEditing(current)} onDeleted={() => setSelected(undefined)} />}
      {editing && (
        <WebhookForm
          webhook={editing === 'new' ? undefined : editing}
          onClose={(saved) => {
            setEditing(undefined);
            if (saved) setSelected(saved.id);
          }}
        />
      )}
    </div>
  );
}

function WebhookDetail({ webhook, onEdit, onDeleted }: { webhook: Webhook; onEdit: () => void; onDeleted: () => void }) {
  const { rotate, test, remove, redeliver } = useWebhookCommands();
  const deliveries = useDeliveries(webhook.id);
  const toast = useToast();
  const [confirm, setConfirm] = useState<'rotate' | 'delete'>();
  const copy = () =>
    navigator.clipboard
      .writeText(webhook.secret)
      .then(() => toast.show('Secret copied'))
      .catch(() => toast.show('Could not copy: select the secret and copy it', 'error'));
  return (
    <section className="card webhook-detail" aria-label={`Webhook ${webhook.url}`}>
      <h2>{webhook.url}</h2>
      <div className="form-actions">
        <button className="btn" onClick={onEdit}>
          Edit
        </button>
        <button
          className="btn"
          disabled={test.isPending}
          onClick={() =>
            test.mutate(webhook.id, {
              onSuccess: () => toast.show('Test event queued'),
              onError: (e) => toast.show(errorMessage(e), 'error'),
            })
          }
        >
          Send test event
        </button>
        <button className="btn btn-danger" onClick={() => setConfirm('delete')}>
          Delete
        </button>
      </div>
      <div className="field">
        <label htmlFor={`secret-${webhook.id}`}>Signing secret</label>
        <div className="inline-row">
          <input id={`secret-${webhook.id}`} className="mono" readOnly value={webhook.secret} onFocus={(e) => e.target.select()} />
          <button className="btn btn-small" onClick={copy}>
            Copy
          </button>
          <button className="btn btn-small" onClick={() => setConfirm('rotate')}>
            Rotate
          </button>
        </div>
        <span className="field-help">
          Each request carries <code>X-Keel-Signature: t=…,v1=…</code>: HMAC-SHA256 of <code>t.body</code> with this secret.
        </span>
      </div>
      <h3>Deliveries</h3>
      {deliveries.isError ? (
        <ErrorState error={deliveries.error} retry={() => deliveries.refetch()} />
      ) : deliveries.isPending ? (
        <Skeleton lines={3} />
      ) : deliveries.data.length === 0 ? (
        <EmptyState title="Nothing delivered yet. Send a test event to try the receiver." />
      ) : (
        <table className="data-table mini">
          <thead>
            <tr>
              <th>Event</th>
              <th>Status</th>
              <th>Response</th>
              <th>Tries</th>
              <th>When</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {deliveries.data.map((d) => (
              <tr key={d.id}>
                <td data-label="Event">
                  <code className="small">{d.event_type}</code>
                  {d.redelivery_of && <span className="muted small"> (redelivery)</span>}
                </td>
                <td data-label="Status">
                  <span className={`badge ${STATUS_CLASS[d.status] ?? 'badge-slate'}`}>{d.status}</span>
                </td>
                <td data-label="Response" className="small">
                  {d.response_code ?? '—'}
                  {d.error && <div className="muted">{d.error}</div>}
                </td>
                <td data-label="Tries">
                  <details>
                    <summary>{d.attempts.length}</summary>
                    <ol className="small">
                      {d.attempts.map((a) => (
                        <li key={a.attempt}>
                          {formatDateTime(a.at)}: {a.succeeded ? 'ok' : 'failed'} {a.response_code ?? ''} in {a.latency_ms} ms
                          {a.error && ` — ${a.error}`}
                          {a.response_snippet && <pre className="mono small">{a.response_snippet}</pre>}
                        </li>
                      ))}
                    </ol>
                    <pre className="mono small">{JSON.stringify(d.payload, null, 2)}</pre>
                  </details>
                </td>
                <td data-label="When" title={formatDateTime(d.created_at)}>
                  {formatRelative(d.created_at)}
                </td>
                <td>
                  <button
                    className="btn btn-small"
                    disabled={redeliver.isPending}
                    onClick={() =>
                      redeliver.mutate(
                        { id: webhook.id, delivery: d.id },
                        {
                          onSuccess: () => toast.show('Redelivery queued'),
                          onError: (e) => toast.show(errorMessage(e), 'error'),
                        },
                      )
                    }
                  >
                    Redeliver
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <Confirm
        open={confirm === 'rotate'}
        onOpenChange={(o) => !o && setConfirm(undefined)}
        title="Rotate the secret?"
        body="The current secret stops signing at once: update the receiver with the new one."
        confirmLabel="Rotate"
        busy={rotate.isPending}
        onConfirm={() =>
          rotate.mutate(webhook.id, {
            onSuccess: () => {
              setConfirm(undefined);
              toast.show('New secret made');
            },
            onError: (e) => toast.show(errorMessage(e), 'error'),
          })
        }
      />
      <Confirm
        open={confirm === 'delete'}
        onOpenChange={(o) => !o && setConfirm(undefined)}
        title="Delete this webhook?"
        body="No more events are sent to it. Its delivery log is kept."
        confirmLabel="Delete"
        danger
        busy={remove.isPending}
        onConfirm={() =>
          remove.mutate(webhook.id, {
            onSuccess: () => {
              setConfirm(undefined);
              onDeleted();
              toast.show('Webhook deleted');
            },
            onError: (e) => toast.show(errorMessage(e), 'error'),
          })
        }
      />
    </section>
  );
}

function WebhookForm({ webhook, onClose }: { webhook?: Webhook; onClose: (saved?: Webhook) => void }) {
  const { save } = useWebhookCommands();
  const toast = useToast();
  const [url, setUrl] = useState(webhook?.url ?? '');
  const [description, setDescription] = useState(webhook?.description ?? '');
  const [events, setEvents] = useState<string[]>(webhook?.events ?? []);
  const [filter, setFilter] = useState(webhook?.filter ? JSON.stringify(webhook.filter, null, 2) : '');
  const [active, setActive] = useState(webhook?.active ?? true);
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [formError, setFormError] = useState<string>();
  const all = events.includes('*');
  const has = (e: string) => all || events.includes(e) || events.includes(`${e.split('.')[0]}.*`);
  const flip = (e: string) =>
    setEvents((cur) => {
      // Spell a wildcard out into its events before taking one away.
      const entity = e.split('.')[0];
      const expanded = cur.flatMap((x) => (x === `${entity}.*` ? WEBHOOK_OPS.map((op) => `${entity}.${op}`) : [x]));
      return expanded.includes(e) ? expanded.filter((x) => x !== e) : [...expanded, e];
    });
  const err = (field: string) =>
    errors[field] ? (
      <span className="field-error" role="alert">
        {errors[field]}
      </span>
    ) : null;

  const submit = (e: FormEvent) => {
    e.preventDefault();
    setErrors({});
    setFormError(undefined);
    let parsed: Json = null;
    if (filter.trim()) {
      try {
        parsed = JSON.parse(filter) as Json;
      } catch {
        setErrors({ filter: 'This is not valid JSON' });
        return;
      }
    }
    const body: WebhookBody = { url: url.trim(), description: description.trim() || null, events, filter: parsed, active };
    save.mutate(
      { id: webhook?.id, version: webhook?.version, body },
      {
        onSuccess: (w) => {
          toast.show(webhook ? 'Webhook saved' : 'Webhook created: copy its secret to the receiver');
          onClose(w);
        },
        onError: (e) => {
          if (e instanceof ApiError && e.fieldErrors.length) {
            setErrors(Object.fromEntries(e.fieldErrors.map((f) => [f.field.startsWith('events') ? 'events' : f.field.startsWith('filter') ? 'filter' : f.field, `${f.field}: ${f.message}`])));
            setFormError('Please correct the highlighted fields.');
          } else setFormError(errorMessage(e));
        },
      },
    );
  };

  return (
    <Modal open onOpenChange={(o) => !o && onClose()} title={webhook ? 'Edit webhook' : 'New webhook'} wide>
      <form className="modal-body" onSubmit={submit} noValidate>
        <div className="form-grid">
          <div className="field field-wide">
            <label htmlFor="wh-url">URL</label>
            <input
              id="wh-url"
              type="url"
              placeholder="https://example.com/keel-events"
              value={url}
              onChange={(e) => setUrl(e.target.value)}
              aria-invalid={Boolean(errors.url)}
            />
            {err('url')}
          </div>
          <div className="field field-wide">
            <label htmlFor="wh-desc">Description</label>
            <input id="wh-desc" value={description} onChange={(e) => setDescription(e.target.value)} />
            {err('description')}
          </div>
          <fieldset className="field field-wide">
            <legend>Events</legend>
            <label className="small">
              <input type="checkbox" checked={all} onChange={() => setEvents(all ? [] : ['*'])} /> Every event
            </label>
            <table className="data-table mini">
              <thead>
                <tr>
                  <th />
                  {WEBHOOK_OPS.map((op) => (
                    <th key={op}>{op}</th>
                  ))}
                </tr>
              </thead>
              <tbody>
                {WEBHOOK_ENTITIES.map((entity) => (
                  <tr key={entity}>
                    <th scope="row">{entity}</th>
                    {WEBHOOK_OPS.map((op) => (
                      <td key={op}>
                        <input
                          type="checkbox"
                          aria-label={`${entity}.${op}`}
                          checked={has(`${entity}.${op}`)}
                          disabled={all}
                          onChange={() => flip(`${entity}.${op}`)}
                        />
                      </td>
                    ))}
                  </tr>
                ))}
              </tbody>
            </table>
            {err('events')}
          </fieldset>
          <div className="field field-wide">
            <label htmlFor="wh-filter">Filter (optional, JSON)</label>
            <textarea
              id="wh-filter"
              rows={3}
              className="mono"
              placeholder='{"field": "deal.stage", "op": "eq", "value": "Closed Won"}'
              value={filter}
              onChange={(e) => setFilter(e.target.value)}
              aria-invalid={Boolean(errors.filter)}
            />
            <span className="field-help">
              {'The workflows\u2019 conditions over the record: {"all": […]}, {"any": […]}, {"not": …}, {"field", "op", "value"}; fields as deal.stage, previous.stage, event.op.'}
            </span>
            {err('filter')}
          </div>
          <div className="field field-check">
            <label htmlFor="wh-active">Active</label>
            <input id="wh-active" type="checkbox" checked={active} onChange={(e) => setActive(e.target.checked)} />
          </div>
        </div>
        {formError && (
          <p className="field-error" role="alert">
            {formError}
          </p>
        )}
        <div className="form-actions">
          <button type="button" className="btn" onClick={() => onClose()}>
            Cancel
          </button>
          <button type="submit" className="btn btn-primary" disabled={save.isPending}>
            {webhook ? 'Save' : 'Create webhook'}
          </button>
        </div>
      </form>
    </Modal>
  );
}
