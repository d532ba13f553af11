import { useQuery } from '@tanstack/react-query';
import { lazy, Suspense } from 'react';
import { Link } from 'react-router';
import { api } from '../../api/client';
import { useMe } from '../../api/session';
import { EmptyState, ErrorState, PageHeader, Skeleton } from '../../components/ui';
import { formatMoney, formatNumber, formatPercent, localToday } from '../../lib/format';
import type { DashboardData } from './types';

// Chart.js loads in its own chunk, after the figures are on screen.
const Charts = lazy(() => import('./Charts'));

export function Dashboard() {
  const me = useMe().data;
  const today = localToday();
  const q = useQuery({
    queryKey: ['records', 'dashboard', today],
    queryFn: ({ signal }) => api<DashboardData>('/api/v1/dashboard', { query: { today }, signal }),
  });
  return (
    <>
      <PageHeader title={me ? `Welcome back, ${me.name.split(' ')[0]}` : 'Dashboard'} />
      {q.isError ? (
        <ErrorState error={q.error} retry={() => q.refetch()} />
      ) : q.isPending ? (
        <div className="stats">
          {[0, 1, 2, 3].map((i) => (
            <div key={i} className="card stat">
              <Skeleton lines={2} />
            </div>
          ))}
        </div>
      ) : (
        <DashboardBody d={q.data} />
      )}
    </>
  );
}

function Trend({ now, before }: { now: number; before: number }) {
  if (before === 0) return now > 0 ? <span className="trend up">new this month</span> : <span className="muted">no change</span>;
  const change = (now - before) / before;
  const dir = change > 0 ? 'up' : change < 0 ? 'down' : 'flat';
  return (
    <span className={`trend ${dir}`} data-testid="won-trend">
      {dir === 'up' ? '▲' : dir === 'down' ? '▼' : '■'} {formatPercent(Math.abs(change))} vs last month
    </span>
  );
}

function DashboardBody({ d }: { d: DashboardData }) {
  const noDeals =
    d.open_by_stage.every((s) => s.count === 0) && d.conversion.won + d.conversion.lost === 0 && d.top_companies.length === 0;
  if (noDeals) {
    return (
      <EmptyState title="No deals yet — create your first deal.">
        <Link className="btn btn-primary" to="/deals/pipeline">
          Open the pipeline
        </Link>
      </EmptyState>
    );
  }
  return (
    <>
      <div className="stats">
        <div className="card stat" data-testid="stat-won">
          <span className="stat-label">Won this month</span>
          <strong className="stat-value">{formatMoney(d.won_this_month.amount)}</strong>
          <span className="small">
            {formatNumber(d.won_this_month.count)} deals · <Trend now={d.won_this_month.amount} before={d.won_last_month.amount} />
          </span>
        </div>
        <div className="card stat" data-testid="stat-closing-7">
          <span className="stat-label">Closing in 7 days</span>
          <strong className="stat-value">{formatNumber(d.closing_next_7_days.count)}</strong>
          <span className="small muted">{formatMoney(d.closing_next_7_days.amount)}</span>
        </div>
        <div className="card stat" data-testid="stat-closing-30">
          <span className="stat-label">Closing in 30 days</span>
          <strong className="stat-value">{formatNumber(d.closing_next_30_days.count)}</strong>
          <span className="small muted">{formatMoney(d.closing_next_30_days.amount)}</span>
        </div>
        <div className="card stat" data-testid="stat-conversion">
          <span className="stat-label">Conversion (12 months)</span>
          <strong className="stat-value">{d.conversion.rate === null ? '—' : formatPercent(d.conversion.rate)}</strong>
          <span className="small muted">
            {formatNumber(d.conversion.won)} won / {formatNumber(d.conversion.won + d.conversion.lost)} closed
          </span>
        </div>
      </div>
      {d._redacted_from_sums && (
        <p className="muted small">Amounts of deals you can't see in full are left out of the sums.</p>
      )}
      <Suspense
        fallback={
          <div className="chart-row">
            <div className="card chart-card">
              <Skeleton lines={6} />
            </div>
            <div className="card chart-card">
              <Skeleton lines={6} />
            </div>
          </div>
        }
      >
        <Charts data={d} />
      </Suspense>
      <section className="card" aria-label="Top companies">
        <div className="card-head">
          <h2>Top companies by won amount</h2>
        </div>
        {d.top_companies.length === 0 ? (
          <EmptyState title="No won deals yet." />
        ) : (
          <table className="data-table mini" data-testid="top-companies">
            <thead>
              <tr>
                <th>#</th>
                <th>Company</th>
                <th className="num">Won deals</th>
                <th className="num">Won amount</th>
              </tr>
            </thead>
            <tbody>
              {d.top_companies.map((c, i) => (
                <tr key={c.company_id}>
                  <td>{i + 1}</td>
                  <td>{c.name ? <Link to={`/companies/${c.company_id}`}>{c.name}</Link> : <span className="muted">Hidden</span>}</td>
                  <td className="num">{formatNumber(c.count)}</td>
                  <td className="num">{formatMoney(c.amount)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </section>
    </>
  );
}
