// The assistant as a side panel (full screen on phones): ask in plain language, get
// answers citing the records they came from, confirm proposed changes.
import { useEffect, useRef, useState, type FormEvent } from 'react';
import { Link } from 'react-router';
import { errorMessage } from '../../api/client';
import { chatStream, type Citation, type Proposal } from './api';
import { ProposalCard } from './ProposalCard';

interface Message {
  role: 'user' | 'assistant' | 'error';
  text: string;
  citations?: Citation[];
  proposals?: Proposal[];
}

const EXAMPLES = [
  'What deals are closing this month?',
  'Show me all deals with tech companies over $50K',
  'Which deals are in negotiation?',
  'How much did we win last quarter?',
  'Log a call with Sarah Johnson',
];

export function ChatPanel({ open, onClose }: { open: boolean; onClose: () => void }) {
  const [pending, setPending] = useState(false);
  const [conversation, setConversation] = useState<string>();
  const [messages, setMessages] = useState<Message[]>([]);
  const [text, setText] = useState('');
  const end = useRef<HTMLDivElement>(null);
  const input = useRef<HTMLTextAreaElement>(null);

  useEffect(() => {
    end.current?.scrollIntoView({ block: 'end' });
  }, [messages]);
  useEffect(() => {
    if (open) input.current?.focus();
  }, [open]);

  const ask = (message: string) => {
    const m = message.trim();
    if (!m || pending) return;
    // The reply streams into a message of its own, replaced by the whole answer at the end.
    setMessages((ms) => [...ms, { role: 'user', text: m }, { role: 'assistant', text: '' }]);
    setText('');
    setPending(true);
    const replaceLast = (msg: Message) => setMessages((ms) => [...ms.slice(0, -1), msg]);
    chatStream({ conversation_id: conversation, message: m }, (piece) =>
      setMessages((ms) => {
        const last = ms[ms.length - 1];
        return last ? [...ms.slice(0, -1), { ...last, text: last.text + piece }] : ms;
      }),
    )
      .then((r) => {
        setConversation(r.conversation_id);
        replaceLast({ role: 'assistant', text: r.reply, citations: r.citations, proposals: r.proposals });
      })
      .catch((e: unknown) => replaceLast({ role: 'error', text: errorMessage(e) }))
      .finally(() => setPending(false));
  };
  const submit = (e: FormEvent) => {
    e.preventDefault();
    ask(text);
  };

  if (!open) return null;
  return (
    <aside className="chat-panel" aria-label="Assistant">
      <header className="chat-head">
        <strong>Assistant</strong>
        <button
          className="btn btn-link"
          onClick={() => {
            setMessages([]);
            setConversation(undefined);
          }}
        >
          New chat
        </button>
        <button className="icon-btn" aria-label="Close assistant" onClick={onClose}>
          ×
        </button>
      </header>
      <div className="chat-log" aria-live="polite">
        {messages.length === 0 && (
          <div className="chat-empty">
            <p className="muted">Ask about your companies, contacts and deals. Try:</p>
            {EXAMPLES.map((q) => (
              <button key={q} className="chip" onClick={() => ask(q)}>
                {q}
              </button>
            ))}
          </div>
        )}
        {messages.map((m, i) =>
          m.text === '' && m.role === 'assistant' ? null : (
          <div key={i} className={`msg msg-${m.role}`} data-testid={`msg-${m.role}`}>
            <div className="msg-text">
              <RichText text={m.text} />
            </div>
            {m.citations && m.citations.length > 0 && (
              <ul className="citations">
                {m.citations.slice(0, 20).map((c) => (
                  <li key={`${c.entity}-${c.id}`}>
                    <Link to={c.url} onClick={() => window.innerWidth < 900 && onClose()}>
                      {c.title}
                    </Link>
                  </li>
                ))}
              </ul>
            )}
            {m.proposals?.map((p) => <ProposalCard key={p.id} proposal={p} />)}
          </div>
          ),
        )}
        {pending && messages[messages.length - 1]?.text === '' && <div className="muted small">Thinking…</div>}
        <div ref={end} />
      </div>
      <form className="chat-input" onSubmit={submit}>
        <textarea
          ref={input}
          rows={2}
          aria-label="Ask the assistant"
          placeholder="Ask anything about your CRM…"
          value={text}
          onChange={(e) => setText(e.target.value)}
          onKeyDown={(e) => {
            if (e.key === 'Enter' && !e.shiftKey) {
              e.preventDefault();
              ask(text);
            }
          }}
        />
        <button className="btn btn-primary" type="submit" disabled={pending || !text.trim()}>
          Send
        </button>
      </form>
    </aside>
  );
}

/** The engine's replies mark names in **bold**; shown as <strong>, everything else as text. */
function RichText({ text }: { text: string }) {
  const parts = text.split(/(\*\*[^*]+\*\*)/g);
  return (
    <>
      {parts.map((p, i) =>
        p.startsWith('**') && p.endsWith('**') && p.length > 4 ? <strong key={i}>{p.slice(2, -2)}</strong> : p,
      )}
    </>
  );
}
