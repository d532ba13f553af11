import {
  BarController,
  BarElement,
  CategoryScale,
  Chart,
  Filler,
  LinearScale,
  LineController,
  LineElement,
  PointElement,
  Tooltip,
} from 'chart.js';
import { useCallback, useEffect, useRef } from 'react';
import { formatMoney, formatMoneyCompact } from '../../lib/format';
import type { DashboardData } from './types';

// Only the pieces used here are registered, which keeps the chunk small.
Chart.register(LineController, LineElement, PointElement, BarController, BarElement, CategoryScale, LinearScale, Tooltip, Filler);

function monthLabel(month: string): string {
  const [y, m] = month.split('-').map(Number);
  return new Intl.DateTimeFormat(undefined, { month: 'short', year: '2-digit', timeZone: 'UTC' }).format(
    new Date(Date.UTC(y ?? 2000, (m ?? 1) - 1, 1)),
  );
}

function useChart(make: (canvas: HTMLCanvasElement) => Chart) {
  const ref = useRef<HTMLCanvasElement>(null);
  useEffect(() => {
    if (!ref.current) return;
    const chart = make(ref.current);
    return () => chart.destroy();
  }, [make]);
  return ref;
}

export default function Charts({ data }: { data: DashboardData }) {
  const makeRevenue = useCallback(
    (canvas: HTMLCanvasElement) =>
    new Chart(canvas, {
      type: 'line',
      data: {
        labels: data.revenue_by_month.map((m) => monthLabel(m.month)),
        datasets: [
          {
            label: 'Won',
            data: data.revenue_by_month.map((m) => m.amount / 100),
            borderColor: '#2563eb',
            backgroundColor: 'rgba(37,99,235,0.12)',
            fill: true,
            tension: 0.3,
          },
        ],
      },
      options: {
        responsive: true,
        maintainAspectRatio: false,
        animation: false,
        plugins: { tooltip: { callbacks: { label: (c) => formatMoney(Math.round(Number(c.raw) * 100)) } } },
        scales: { y: { ticks: { callback: (v) => formatMoneyCompact(Number(v) * 100) } } },
      },
    }),
    [data],
  );
  const revenue = useChart(makeRevenue);
  const makeStages = useCallback(
    (canvas: HTMLCanvasElement) =>
    new Chart(canvas, {
      type: 'bar',
      data: {
        labels: data.open_by_stage.map((s) => s.stage),
        datasets: [
          { label: 'Value', data: data.open_by_stage.map((s) => s.amount / 100), backgroundColor: '#93c5fd' },
          { label: 'Weighted', data: data.open_by_stage.map((s) => s.weighted_amount / 100), backgroundColor: '#2563eb' },
        ],
      },
      options: {
        responsive: true,
        maintainAspectRatio: false,
        animation: false,
        plugins: { tooltip: { callbacks: { label: (c) => `${c.dataset.label}: ${formatMoney(Math.round(Number(c.raw) * 100))}` } } },
        scales: { y: { ticks: { callback: (v) => formatMoneyCompact(Number(v) * 100) } } },
      },
    }),
    [data],
  );
  const stages = useChart(makeStages);
  return (
    <div className="chart-row">
      <section className="card chart-card" aria-label="Revenue by month">
        <h2>Revenue by month</h2>
        <div className="chart-box">
          <canvas ref={revenue} role="img" aria-label="Won revenue for each of the last 12 months" />
        </div>
        <table className="sr-only">
          <tbody>
            {data.revenue_by_month.map((m) => (
              <tr key={m.month}>
                <th>{m.month}</th>
                <td>{formatMoney(m.amount)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </section>
      <section className="card chart-card" aria-label="Open deals by stage">
        <h2>Open deals by stage</h2>
        <div className="chart-box">
          <canvas ref={stages} role="img" aria-label="Open deal value and weighted value per stage" />
        </div>
        <ul className="stage-legend small" data-testid="open-by-stage">
          {data.open_by_stage.map((s) => (
            <li key={s.stage} data-stage={s.stage}>
              <span>{s.stage}</span> <span className="muted">{s.count} deals</span> <strong>{formatMoney(s.amount)}</strong>
            </li>
          ))}
        </ul>
      </section>
    </div>
  );
}
