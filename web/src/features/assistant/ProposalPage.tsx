// One assistant proposal by id (`/assistant/proposals/:id`): where a change prepared by
// an AI client over MCP without elicitation is confirmed or cancelled by its user.
import { useQuery } from '@tanstack/react-query';
import { Link, useParams } from 'react-router';
import { api } from '../../api/client';
import { ErrorState, PageHeader, Skeleton } from '../../components/ui';
import type { Proposal } from './api';
import { ProposalCard } from './ProposalCard';

export function ProposalPage() {
  const { id = '' } = useParams();
  const proposal = useQuery({
    queryKey: ['assistant', 'proposal', id],
    queryFn: ({ signal }) => api<Proposal>(`/api/v1/assistant/proposals/${id}`, { signal }),
    enabled: Boolean(id),
  });
  if (proposal.isError) return <ErrorState error={proposal.error} retry={() => proposal.refetch()} />;
  if (proposal.isPending) return <Skeleton lines={4} />;
  const p = proposal.data;
  return (
    <div className="detail-page">
      <PageHeader title="Proposed change" />
      <p className="small muted">
        Prepared by the assistant (or an AI client connected over MCP). Nothing is saved until you confirm; it expires at{' '}
        {new Date(p.expires_at).toLocaleString()}.
      </p>
      <ProposalCard proposal={p} />
      {p.records && p.records.length > 0 && (
        <ul className="small">
          {p.records.map((r) => (
            <li key={r.id}>
              <Link to={r.url}>{r.title}</Link>
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}
