// Small presentational pieces shared by every page.
import type { ReactNode } from 'react';
import { Link } from 'react-router';
import { errorMessage } from '../api/client';
import type { SelectOption, User } from '../api/types';
import { initials } from '../lib/format';

const AVATAR_COLORS = ['#2563eb', '#7c3aed', '#db2777', '#ea580c', '#059669', '#0891b2', '#4f46e5', '#b45309'];

function hash(s: string): number {
  let h = 0;
  for (const c of s) h = (h * 31 + c.charCodeAt(0)) | 0;
  return Math.abs(h);
}

export function Avatar({ name, size = 24 }: { name: string | null | undefined; size?: number }) {
  const color = AVATAR_COLORS[hash(name ?? '') % AVATAR_COLORS.length];
  return (
    <span
      className="avatar"
      aria-hidden="true"
      style={{ width: size, height: size, fontSize: size * 0.42, background: color }}
    >
      {initials(name)}
    </span>
  );
}

export function OwnerLabel({ user }: { user: User | undefined }) {
  if (!user) return <span className="muted">—</span>;
  return (
    <span className="owner">
      <Avatar name={user.name} />
      <span>{user.name}</span>
    </span>
  );
}

/** A select value as a coloured badge (colour from the schema's option). */
export function Badge({ value, option }: { value: string | null | undefined; option?: SelectOption }) {
  if (!value) return <span className="muted">—</span>;
  return <span className={`badge badge-${option?.color ?? 'slate'}`}>{option?.label ?? value}</span>;
}

export function Skeleton({ lines = 5, height = 18 }: { lines?: number; height?: number }) {
  return (
    <div className="skeleton-block" aria-busy="true" aria-label="Loading">
      {Array.from({ length: lines }, (_, i) => (
        <div key={i} className="skeleton" style={{ height, width: `${90 - ((i * 17) % 35)}%` }} />
      ))}
    </div>
  );
}

export function EmptyState({ title, children }: { title: string; children?: ReactNode }) {
  return (
    <div className="empty">
      <p className="empty-title">{title}</p>
      {children}
    </div>
  );
}

export function ErrorState({ error, retry }: { error: unknown; retry?: () => void }) {
  return (
    <div className="error-state" role="alert">
      <p>{errorMessage(error)}</p>
      {retry && (
        <button className="btn" onClick={retry}>
          Try again
        </button>
      )}
    </div>
  );
}

export function PageHeader({ title, back, actions }: { title: ReactNode; back?: { to: string; label: string }; actions?: ReactNode }) {
  return (
    <header className="page-header">
      {back && (
        <Link className="back-link" to={back.to}>
          ← {back.label}
        </Link>
      )}
      <div className="page-header-row">
        <h1>{title}</h1>
        {actions && <div className="page-actions">{actions}</div>}
      </div>
    </header>
  );
}

export function ExternalLink({ href }: { href: string | null | undefined }) {
  if (!href) return <span className="muted">—</span>;
  const text = href.replace(/^https?:\/\//, '').replace(/\/$/, '');
  return (
    <a href={href} target="_blank" rel="noopener noreferrer" className="external">
      {text}
    </a>
  );
}
