import * as Tabs from '@radix-ui/react-tabs';
import { useState } from 'react';
import { Link } from 'react-router';
import { errorMessage } from '../../api/client';
import { useToast } from '../../components/toast';
import { EmptyState, ErrorState, PageHeader, Skeleton } from '../../components/ui';
import { formatDateTime, formatRelative } from '../../lib/format';
import { UserSelect } from '../records/ReferenceInput';
import { describeTrigger, useJobs, useTemplates, useWorkflowCommands, useWorkflows } from './api';
import { WebhooksPanel } from './WebhooksPanel';

/** Workflows, the built-in templates, outbound webhooks, and jobs that gave up (dead letters). */
export function WorkflowsPage() {
  return (
    <>
      <PageHeader
        title="Automation"
        actions={
          <Link className="btn btn-primary" to="/automation/new">
            + New workflow
          </Link>
        }
      />
      <Tabs.Root className="card tabs" defaultValue="workflows">
        <Tabs.List className="tab-list" aria-label="Automation">
          <Tabs.Trigger value="workflows">Workflows</Tabs.Trigger>
          <Tabs.Trigger value="templates">Templates</Tabs.Trigger>
          <Tabs.Trigger value="webhooks">Webhooks</Tabs.Trigger>
          <Tabs.Trigger value="dead">Failed jobs</Tabs.Trigger>
        </Tabs.List>
        <Tabs.Content value="workflows">
          <WorkflowList />
        </Tabs.Content>
        <Tabs.Content value="templates">
          <TemplateList />
        </Tabs.Content>
        <Tabs.Content value="webhooks">
          <WebhooksPanel />
        </Tabs.Content>
        <Tabs.Content value="dead">
          <DeadJobs />
        </Tabs.Content>
      </Tabs.Root>
    </>
  );
}

function WorkflowList() {
  const list = useWorkflows();
  const { toggle } = useWorkflowCommands();
  const toast = useToast();
  if (list.isError) return <ErrorState error={list.error} retry={() => list.refetch()} />;
  if (list.isPending) return <Skeleton lines={4} />;
  if (list.data.length === 0)
    return (
      <EmptyState title="No workflows yet — start from a template or build your own.">
        <Link className="btn btn-primary" to="/automation/new">
          + New workflow
        </Link>
      </EmptyState>
    );
  return (
    <table className="data-table mini">
      <thead>
        <tr>
          <th>Name</th>
          <th>Trigger</th>
          <th>Actions</th>
          <th>Enabled</th>
          <th className="hide-sm">Updated</th>
        </tr>
      </thead>
      <tbody>
        {list.data.map((w) => (
          <tr key={w.id}>
            <td data-label="Name">
              <Link className="row-link" to={`/automation/${w.id}`}>
                {w.name}
              </Link>
            </td>
            <td data-label="Trigger">{describeTrigger(w.trigger)}</td>
            <td data-label="Actions">{w.actions.map((a) => a.type.replace('_', ' ')).join(', ')}</td>
            <td data-label="Enabled">
              <input
                type="checkbox"
                role="switch"
                aria-label={`Enable ${w.name}`}
                checked={w.enabled}
                disabled={toggle.isPending}
                onChange={() =>
                  toggle.mutate(w, {
                    onSuccess: () => toast.show(`${w.name} ${w.enabled ? 'disabled' : 'enabled'}`),
                    onError: (e) => toast.show(errorMessage(e), 'error'),
                  })
                }
              />
            </td>
            <td className="hide-sm">{formatRelative(w.updated_at)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function TemplateList() {
  const templates = useTemplates();
  const { install } = useWorkflowCommands();
  const toast = useToast();
  const [owner, setOwner] = useState('');
  if (templates.isError) return <ErrorState error={templates.error} retry={() => templates.refetch()} />;
  if (templates.isPending) return <Skeleton lines={4} />;
  return (
    <ul className="template-list">
      {templates.data.map((t) => {
        // Territory assignment needs someone to fall back on before it can be saved.
        const needsOwner = t.actions.some((a) => a.type === 'assign_owner');
        return (
        <li key={t.key} className="template">
          <div>
            <strong>{t.name}</strong>
            <p className="muted small">{t.description}</p>
            <p className="small">{describeTrigger(t.trigger)}</p>
            {needsOwner && (
              <label className="small">
                Default owner{' '}
                <UserSelect value={owner || null} onChange={(id) => setOwner(id ?? '')} placeholder="Choose…" />
              </label>
            )}
          </div>
          <button
            className="btn"
            disabled={install.isPending || (needsOwner && !owner)}
            onClick={() =>
              install.mutate({ key: t.key, overrides: needsOwner ? { default_user_id: owner } : undefined }, {
                onSuccess: (w) => toast.show(`Installed “${w.name}” (disabled: review it, then enable it)`),
                onError: (e) => toast.show(errorMessage(e), 'error'),
              })
            }
          >
            Install
          </button>
        </li>
        );
      })}
    </ul>
  );
}

function DeadJobs() {
  const jobs = useJobs('dead');
  const { retry } = useWorkflowCommands();
  const toast = useToast();
  if (jobs.isError) return <ErrorState error={jobs.error} retry={() => jobs.refetch()} />;
  if (jobs.isPending) return <Skeleton lines={4} />;
  if (jobs.data.length === 0) return <EmptyState title="No failed jobs. Everything that was due has been done." />;
  return (
    <table className="data-table mini">
      <thead>
        <tr>
          <th>Job</th>
          <th>Attempts</th>
          <th>Last error</th>
          <th>Since</th>
          <th />
        </tr>
      </thead>
      <tbody>
        {jobs.data.map((j) => (
          <tr key={j.id}>
            <td data-label="Job">
              <code className="small">{j.kind}</code>
            </td>
            <td data-label="Attempts">
              {j.attempts}/{j.max_attempts}
            </td>
            <td data-label="Last error" className="small">
              {j.last_error ?? '—'}
            </td>
            <td data-label="Since" title={formatDateTime(j.updated_at)}>
              {formatRelative(j.updated_at)}
            </td>
            <td>
              <button
                className="btn btn-small"
                disabled={retry.isPending}
                onClick={() =>
                  retry.mutate(j.id, {
                    onSuccess: () => toast.show('Queued again'),
                    onError: (e) => toast.show(errorMessage(e), 'error'),
                  })
                }
              >
                Retry
              </button>
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
