import { Link } from 'react-router';
import type { CrmRecord } from '../../api/types';
import { formatDate, formatMoney } from '../../lib/format';

/** Deals in a tab of a company or contact page: title, stage, amount, close date. */
export function DealMiniTable({ deals }: { deals: CrmRecord[] }) {
  return (
    <table className="data-table mini">
      <thead>
        <tr>
          <th>Title</th>
          <th>Stage</th>
          <th>Amount</th>
          <th>Close date</th>
        </tr>
      </thead>
      <tbody>
        {deals.map((d) => (
          <tr key={d.id}>
            <td data-label="Title">
              <Link to={`/deals/${d.id}`}>{String(d.title)}</Link>
            </td>
            <td data-label="Stage">{String(d.stage)}</td>
            <td data-label="Amount">
              {d.amount === null ? '—' : formatMoney(d.amount as number, String(d.currency ?? 'USD'))}
            </td>
            <td data-label="Close date">{formatDate(d.expected_close_date as string | null)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
