import { useState } from 'react';
import { errorMessage } from '../../api/client';
import { Modal } from '../../components/Modal';
import { useToast } from '../../components/toast';
import { formatDate } from '../../lib/format';
import { useMeetingSummary, type MeetingSummary } from './api';
import { ProposalCard } from './ProposalCard';

/** Paste a transcript or notes → summary, action items, sentiment and a proposed stage. */
export function SummariseMeeting({ dealId, open, onOpenChange }: { dealId: string; open: boolean; onOpenChange: (o: boolean) => void }) {
  const summarise = useMeetingSummary();
  const toast = useToast();
  const [transcript, setTranscript] = useState('');
  const [result, setResult] = useState<MeetingSummary | null>(null);
  return (
    <Modal open={open} onOpenChange={onOpenChange} title="Summarise meeting" wide>
      {!result ? (
        <>
          <div className="field">
            <label htmlFor="ms-text">Transcript or notes</label>
            <textarea id="ms-text" rows={10} value={transcript} onChange={(e) => setTranscript(e.target.value)} />
          </div>
          <div className="form-actions">
            <button
              className="btn btn-primary"
              disabled={!transcript.trim() || summarise.isPending}
              onClick={() =>
                summarise.mutate(
                  { deal_id: dealId, transcript },
                  { onSuccess: setResult, onError: (e) => toast.show(errorMessage(e), 'error') },
                )
              }
            >
              {summarise.isPending ? 'Summarising…' : 'Summarise'}
            </button>
          </div>
        </>
      ) : (
        <div className="meeting-summary" data-testid="meeting-summary">
          <h3>Summary</h3>
          <p>{result.summary}</p>
          {result.action_items.length > 0 && (
            <>
              <h3>Action items</h3>
              <ul>
                {result.action_items.map((a, i) => (
                  <li key={i}>
                    {a.text}
                    {a.owner && <span className="muted"> · {a.owner}</span>}
                    {a.due_date && <span className="muted"> · due {formatDate(a.due_date)}</span>}
                  </li>
                ))}
              </ul>
            </>
          )}
          {result.next_steps.length > 0 && (
            <>
              <h3>Next steps</h3>
              <ul>
                {result.next_steps.map((s, i) => (
                  <li key={i}>{s}</li>
                ))}
              </ul>
            </>
          )}
          <p>
            <strong>Sentiment:</strong> {result.sentiment.label}
            {result.recommended_stage && (
              <>
                {' '}
                · <strong>Recommended stage:</strong> {result.recommended_stage}
                {result.stage_reason && <span className="muted"> ({result.stage_reason})</span>}
              </>
            )}
          </p>
          {result.proposal && <ProposalCard proposal={result.proposal} />}
          <div className="form-actions">
            <button className="btn" onClick={() => setResult(null)}>
              Back
            </button>
          </div>
        </div>
      )}
    </Modal>
  );
}
