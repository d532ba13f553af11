import { useQuery } from '@tanstack/react-query';
import { useEffect, useState, type ComponentType } from 'react';
import { Link } from 'react-router';
import { api } from '../../api/client';
import { useMe } from '../../api/session';
import { EmptyState, ErrorState, PageHeader, Skeleton } from '../../components/ui';
import { formatMoney, formatNumber, formatPercent, localToday } from '../../lib/format';
import type { DashboardData } from './types';

// Chart.js is its own chunk, requested as soon as this page's code runs, so it downloads
// while the figures load. It is shown through state rather than React.lazy + Suspense,
// which would hold it back ~300 ms after it arrives (React throttles Suspense reveals).
type ChartsComponent = ComponentType<{ data: DashboardData }>;
let chartsModule: Promise<ChartsComponent> | undefined;
function loadCharts(): Promise<ChartsComponent> {
  chartsModule ??= import('./Charts').then((m) => m.default);
  return chartsModule;
}

function useCharts(): ChartsComponent | null {
  const [charts, setCharts] = useState<ChartsComponent | null>(null);
  useEffect(() => {
    let live = true;
    void loadCharts().then((c) => live && setCharts(() => c));
    return () => {
      live = false;
    };
  }, []);
  return charts;
}

export function Dashboard() {
  const me = useMe().data;
  const today = localToday();
  const charts = useCharts();
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
        <DashboardBody d={q.data} Charts={charts} />
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

function DashboardBody({ d, Charts }: { d: DashboardData; Charts: ChartsComponent | null }) {
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
      {Charts ? (
        <Charts data={d} />
      ) : (
        <div className="chart-row">
          <div className="card chart-card">
            <Skeleton lines={6} />
          </div>
          <div className="card chart-card">
            <Skeleton lines={6} />
          </div>
        </div>
      )}
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
