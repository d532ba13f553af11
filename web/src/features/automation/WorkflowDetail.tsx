import { useState } from 'react';
import { Link, useNavigate, useParams } from 'react-router';
import { errorMessage } from '../../api/client';
import { Confirm } from '../../components/Modal';
import { useToast } from '../../components/toast';
import { EmptyState, ErrorState, PageHeader, Skeleton } from '../../components/ui';
import { formatDateTime, formatRelative } from '../../lib/format';
import { ReferenceInput } from '../records/ReferenceInput';
import { describeTrigger, useRuns, useWorkflow, useWorkflowCommands, type Json, type Run, type Workflow } from './api';

export function WorkflowDetail() {
  const { id = '' } = useParams();
  const workflow = useWorkflow(id);
  if (workflow.isError) return <ErrorState error={workflow.error} retry={() => workflow.refetch()} />;
  if (workflow.isPending) return <Skeleton lines={8} />;
  return <WorkflowView w={workflow.data} />;
}

function WorkflowView({ w }: { w: Workflow }) {
  const cmd = useWorkflowCommands();
  const toast = useToast();
  const navigate = useNavigate();
  const [deleting, setDeleting] = useState(false);
  const entity = w.trigger.type === 'schedule' ? undefined : w.trigger.entity;
  const [recordId, setRecordId] = useState<string | null>(null);
  const [dry, setDry] = useState<Json | null>(null);

  return (
    <div className="detail-page">
      <PageHeader
        back={{ to: '/automation', label: 'Automation' }}
        title={w.name}
        actions={
          <>
            <Link className="btn" to={`/automation/${w.id}/edit`}>
              Edit
            </Link>
            <button className="btn btn-danger-outline" onClick={() => setDeleting(true)}>
              Delete
            </button>
          </>
        }
      />
      <div className="header-meta">
        <label className="task-check">
          <input
            type="checkbox"
            role="switch"
            checked={w.enabled}
            disabled={cmd.toggle.isPending}
            onChange={() => cmd.toggle.mutate(w, { onError: (e) => toast.show(errorMessage(e), 'error') })}
          />
          {w.enabled ? 'Enabled' : 'Disabled'}
        </label>
        <span className="muted small">Updated {formatRelative(w.updated_at)}</span>
      </div>
      {w.description && <p>{w.description}</p>}
      <div className="detail-grid">
        <section className="card">
          <h2>Definition</h2>
          <p>
            <strong>When:</strong> {describeTrigger(w.trigger)}
          </p>
          {w.conditions !== undefined && w.conditions !== null && (
            <>
              <strong>If:</strong>
              <pre className="code">{JSON.stringify(w.conditions, null, 2)}</pre>
            </>
          )}
          <strong>Then:</strong>
          <ol className="action-list">
            {w.actions.map((a, i) => (
              <li key={i}>
                <code>{a.type}</code>
                <pre className="code small">{JSON.stringify({ ...a, type: undefined }, null, 2)}</pre>
              </li>
            ))}
          </ol>
          {entity && (
            <div className="try-box">
              <h2>Try it on a record</h2>
              <ReferenceInput id="wf-record" entity={entity} value={recordId} onChange={setRecordId} />
              <div className="tab-toolbar">
                <button
                  className="btn"
                  disabled={!recordId || cmd.dryRun.isPending}
                  onClick={() =>
                    recordId &&
                    cmd.dryRun.mutate(
                      { id: w.id, record_id: recordId },
                      { onSuccess: setDry, onError: (e) => toast.show(errorMessage(e), 'error') },
                    )
                  }
                >
                  Dry run
                </button>
                <button
                  className="btn btn-primary"
                  disabled={!recordId || cmd.run.isPending}
                  onClick={() =>
                    recordId &&
                    cmd.run.mutate(
                      { id: w.id, record_id: recordId },
                      {
                        onSuccess: () => toast.show('Run queued: see the history'),
                        onError: (e) => toast.show(errorMessage(e), 'error'),
                      },
                    )
                  }
                >
                  Run now
                </button>
              </div>
              {dry !== null && (
                <>
                  <p className="muted small">What it would do (nothing was sent or written):</p>
                  <pre className="code small" data-testid="dry-run">
                    {JSON.stringify(dry, null, 2)}
                  </pre>
                </>
              )}
            </div>
          )}
        </section>
        <section className="card">
          <h2>Run history</h2>
          <RunHistory id={w.id} />
        </section>
      </div>
      <Confirm
        open={deleting}
        onOpenChange={setDeleting}
        title={`Delete “${w.name}”?`}
        body="It stops running. Its run history is kept."
        confirmLabel="Delete"
        danger
        busy={cmd.remove.isPending}
        onConfirm={() =>
          cmd.remove.mutate(w.id, {
            onSuccess: () => {
              toast.show('Workflow deleted');
              navigate('/automation');
            },
            onError: (e) => toast.show(errorMessage(e), 'error'),
          })
        }
      />
    </div>
  );
}

const STATUS_CLASS: Record<string, string> = {
  succeeded: 'badge-green',
  skipped: 'badge-gray',
  failed: 'badge-red',
  dead: 'badge-red',
  retrying: 'badge-yellow',
  running: 'badge-blue',
  queued: 'badge-slate',
};

function RunHistory({ id }: { id: string }) {
  const runs = useRuns(id);
  if (runs.isError) return <ErrorState error={runs.error} retry={() => runs.refetch()} />;
  if (runs.isPending) return <Skeleton lines={4} />;
  if (runs.data.length === 0) return <EmptyState title="No runs yet." />;
  return (
    <ul className="run-list">
      {runs.data.map((r) => (
        <RunItem key={r.id} run={r} />
      ))}
    </ul>
  );
}

function RunItem({ run }: { run: Run }) {
  return (
    <li className="run">
      <details>
        <summary>
          <span className={`badge ${STATUS_CLASS[run.status] ?? 'badge-slate'}`}>{run.status}</span>{' '}
          <span>{run.trigger.op ?? run.trigger.type}</span>{' '}
          {run.record_id && run.entity && <Link to={`/${run.entity}/${run.record_id}`}>record</Link>}{' '}
          <span className="muted small" title={formatDateTime(run.created_at)}>
            {formatRelative(run.created_at)}
          </span>
          {run.error && <span className="text-danger small"> · {run.error}</span>}
        </summary>
        {run.conditions_met === false && <p className="muted small">Conditions did not hold: no action ran.</p>}
        <ol className="step-list">
          {run.steps.map((s) => (
            <li key={`${s.action_index}-${s.attempt}`}>
              <span className={`badge ${s.status === 'done' ? 'badge-green' : 'badge-red'}`}>{s.status}</span>{' '}
              <code>
                {s.action_index + 1}. {s.action_type}
              </code>{' '}
              <span className="muted small">
                attempt {s.attempt} · {s.duration_ms} ms
              </span>
              {s.error && <p className="text-danger small">{s.error}</p>}
              <pre className="code small">{JSON.stringify({ input: s.input, output: s.output }, null, 2)}</pre>
            </li>
          ))}
        </ol>
      </details>
    </li>
  );
}
