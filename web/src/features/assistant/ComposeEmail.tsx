import { useState } from 'react';
import { errorMessage } from '../../api/client';
import { Modal } from '../../components/Modal';
import { useToast } from '../../components/toast';
import { useEmailDraft } from './api';

const PURPOSES = [
  ['follow_up_after_demo', 'Follow-up after a demo'],
  ['proposal', 'Proposal'],
  ['check_in', 'Check-in'],
  ['thank_you', 'Thank you'],
  ['custom', 'Something else'],
] as const;

/** A draft email to a contact from their history, for the user to edit, copy or open. */
export function ComposeEmail({ contactId, open, onOpenChange }: { contactId: string; open: boolean; onOpenChange: (o: boolean) => void }) {
  const draft = useEmailDraft();
  const toast = useToast();
  const [purpose, setPurpose] = useState<string>('follow_up_after_demo');
  const [notes, setNotes] = useState('');
  const [subject, setSubject] = useState('');
  const [body, setBody] = useState('');
  const [to, setTo] = useState<string | null>(null);

  const generate = () =>
    draft.mutate(
      { contact_id: contactId, purpose, notes: notes || undefined },
      {
        onSuccess: (d) => {
          setSubject(d.subject);
          setBody(d.body);
          setTo(d.to);
        },
        onError: (e) => toast.show(errorMessage(e), 'error'),
      },
    );

  return (
    <Modal open={open} onOpenChange={onOpenChange} title="Compose email" wide>
      <div className="form-grid">
        <div className="field">
          <label htmlFor="ce-purpose">Purpose</label>
          <select id="ce-purpose" value={purpose} onChange={(e) => setPurpose(e.target.value)}>
            {PURPOSES.map(([v, l]) => (
              <option key={v} value={v}>
                {l}
              </option>
            ))}
          </select>
        </div>
        <div className="field">
          <label htmlFor="ce-notes">Notes {purpose === 'custom' ? '(what it is about)' : '(optional)'}</label>
          <input id="ce-notes" value={notes} onChange={(e) => setNotes(e.target.value)} />
        </div>
      </div>
      <div className="tab-toolbar">
        <button className="btn" onClick={generate} disabled={draft.isPending}>
          {draft.isPending ? 'Writing…' : body ? 'Write again' : 'Write draft'}
        </button>
      </div>
      {body && (
        <>
          <div className="field">
            <label htmlFor="ce-subject">Subject</label>
            <input id="ce-subject" value={subject} onChange={(e) => setSubject(e.target.value)} />
          </div>
          <div className="field">
            <label htmlFor="ce-body">Body</label>
            <textarea id="ce-body" rows={10} value={body} onChange={(e) => setBody(e.target.value)} />
          </div>
          <div className="form-actions">
            <button
              className="btn"
              onClick={() =>
                void navigator.clipboard
                  ?.writeText(`Subject: ${subject}\n\n${body}`)
                  .then(() => toast.show('Copied'))
                  .catch(() => toast.show('Could not copy: select the text instead', 'error'))
              }
            >
              Copy
            </button>
            <a
              className="btn btn-primary"
              href={`mailto:${encodeURIComponent(to ?? '')}?subject=${encodeURIComponent(subject)}&body=${encodeURIComponent(body)}`}
            >
              Open in email app
            </a>
          </div>
        </>
      )}
    </Modal>
  );
}
