import { useState } from 'react';
import { errorMessage } from '../../api/client';
import { useToast } from '../../components/toast';
import { useDecideProposal, type Proposal } from './api';

/** A change the assistant prepared: nothing happens until the user confirms it. */
export function ProposalCard({ proposal, onDone }: { proposal: Proposal; onDone?: (p: Proposal) => void }) {
  const [current, setCurrent] = useState(proposal);
  const decide = useDecideProposal();
  const toast = useToast();
  const run = (decision: 'confirm' | 'cancel') =>
    decide.mutate(
      { id: current.id, decision },
      {
        onSuccess: (p) => {
          setCurrent(p);
          onDone?.(p);
          toast.show(decision === 'confirm' ? 'Done' : 'Cancelled');
        },
        onError: (e) => toast.show(errorMessage(e), 'error'),
      },
    );
  return (
    <div className={`proposal proposal-${current.status}`} data-testid="proposal">
      <strong>{current.summary}</strong>
      <ul className="small">
        {current.steps.map((s, i) => (
          <li key={i}>{s.label}</li>
        ))}
      </ul>
      {current.status === 'pending' ? (
        <div className="tab-toolbar">
          <button className="btn btn-small" disabled={decide.isPending} onClick={() => run('cancel')}>
            Cancel
          </button>
          <button className="btn btn-small btn-primary" disabled={decide.isPending} onClick={() => run('confirm')}>
            Confirm
          </button>
        </div>
      ) : (
        <p className="small muted">{current.status === 'confirmed' ? '✓ Done' : current.status === 'cancelled' ? 'Cancelled' : 'Working…'}</p>
      )}
    </div>
  );
}
