import { useState } from 'react';
import { useSearchParams } from 'react-router';
import { useUsers } from '../../api/records';
import { field, useEntity } from '../../api/schema';
import { useMe } from '../../api/session';
import { PageHeader, Skeleton } from '../../components/ui';
import { RecordFormModal } from '../records/RecordForm';
import { DealBoard } from './DealBoard';
import { pipelineQuery, type ClosePeriod, type OwnerScope } from './pipelineFilters';

export function Pipeline() {
  const def = useEntity('deals');
  const stages = field(def, 'stage')?.options ?? [];
  const me = useMe().data;
  const users = useUsers().data ?? [];
  const [params, setParams] = useSearchParams();
  const [creating, setCreating] = useState(false);
  const filters = {
    owner: (params.get('owner') as OwnerScope | null) ?? 'all',
    close: (params.get('close') as ClosePeriod | null) ?? '',
    min: params.get('min') ?? '',
    max: params.get('max') ?? '',
  };
  const set = (k: string, v: string) =>
    setParams(
      (p) => {
        const n = new URLSearchParams(p);
        if (v && v !== 'all') n.set(k, v);
        else n.delete(k);
        return n;
      },
      { replace: true },
    );
  const query = pipelineQuery(filters, me, users);

  return (
    <>
      <PageHeader
        title="Pipeline"
        actions={
          <button className="btn btn-primary" onClick={() => setCreating(true)}>
            + New Deal
          </button>
        }
      />
      <div className="toolbar">
        <div className="segmented" role="group" aria-label="Owner">
          {(['me', 'team', 'all'] as const).map((o) => (
            <button key={o} aria-pressed={filters.owner === o} onClick={() => set('owner', o)}>
              {o === 'me' ? 'Me' : o === 'team' ? 'My Team' : 'All'}
            </button>
          ))}
        </div>
        <select aria-label="Close date" value={filters.close} onChange={(e) => set('close', e.target.value)}>
          <option value="">Any close date</option>
          <option value="month">Closing this month</option>
          <option value="quarter">Closing this quarter</option>
          <option value="year">Closing this year</option>
        </select>
        <input
          className="amount-input"
          inputMode="decimal"
          placeholder="Min $"
          aria-label="Minimum amount"
          defaultValue={filters.min}
          onBlur={(e) => set('min', e.target.value)}
          onKeyDown={(e) => e.key === 'Enter' && set('min', e.currentTarget.value)}
        />
        <input
          className="amount-input"
          inputMode="decimal"
          placeholder="Max $"
          aria-label="Maximum amount"
          defaultValue={filters.max}
          onBlur={(e) => set('max', e.target.value)}
          onKeyDown={(e) => e.key === 'Enter' && set('max', e.currentTarget.value)}
        />
      </div>
      {stages.length === 0 ? <Skeleton lines={6} height={60} /> : <DealBoard stages={stages} filters={query} />}
      <RecordFormModal entity="deals" open={creating} onOpenChange={setCreating} />
    </>
  );
}
