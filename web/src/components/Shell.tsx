import * as DropdownMenu from '@radix-ui/react-dropdown-menu';
import { useEffect, useState } from 'react';
import { NavLink, Outlet, useNavigate } from 'react-router';
import { useMe, useSignOut } from '../api/session';
import { ChatPanel } from '../features/assistant/ChatPanel';
import { CommandPalette } from '../features/search/CommandPalette';
import { Avatar } from './ui';

interface NavItem {
  to: string;
  label: string;
  icon: string;
  end?: boolean;
}

const NAV: NavItem[] = [
  { to: '/', label: 'Dashboard', icon: '◧', end: true },
  { to: '/companies', label: 'Companies', icon: '▦' },
  { to: '/contacts', label: 'Contacts', icon: '☺' },
  { to: '/deals/pipeline', label: 'Pipeline', icon: '▥' },
  { to: '/deals', label: 'Deals', icon: '$', end: true },
  { to: '/activities', label: 'Tasks', icon: '✓' },
  { to: '/duplicates', label: 'Duplicates', icon: '⧉' },
  { to: '/import', label: 'Import', icon: '⇪' },
];

/** Admin areas, listed for admins (the server still decides every request). */
const ADMIN_NAV: NavItem[] = [
  { to: '/automation', label: 'Automation', icon: '⚙' },
  { to: '/settings/fields', label: 'Fields', icon: '☰' },
];

/** The phone tab bar has room for five; the other pages are listed in the user menu there. */
const TAB_BAR = new Set(['/', '/companies', '/contacts', '/deals/pipeline', '/activities']);

/** Sidebar on desktop, bottom tab bar on phones, a top bar with search and the user menu. */
export function Shell() {
  const me = useMe().data;
  const signOut = useSignOut();
  const navigate = useNavigate();
  const [searchOpen, setSearchOpen] = useState(false);
  const [chatOpen, setChatOpen] = useState(false);
  const nav = [...NAV, ...(me?.role === 'admin' ? ADMIN_NAV : [])];

  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if ((e.ctrlKey || e.metaKey) && e.key.toLowerCase() === 'k') {
        e.preventDefault();
        setSearchOpen(true);
      }
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, []);

  return (
    <div className="shell">
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <aside className="sidebar" aria-label="Main navigation">
        <div className="brand">
          <img src="/favicon.svg" alt="" width={24} height={24} /> Keel
        </div>
        <nav>
          {nav.map((n) => (
            <NavLink key={n.to} to={n.to} end={n.end} className="nav-link">
              <span className="nav-icon" aria-hidden="true">
                {n.icon}
              </span>
              {n.label}
            </NavLink>
          ))}
        </nav>
      </aside>
      <div className="main-col">
        <header className="topbar">
          <button className="search-trigger" onClick={() => setSearchOpen(true)} aria-label="Search (Ctrl+K)">
            <span aria-hidden="true">⌕</span> Search companies, contacts, deals…
            <kbd>Ctrl K</kbd>
          </button>
          <button className="btn ask-btn" aria-label="Ask Keel" aria-pressed={chatOpen} onClick={() => setChatOpen((o) => !o)}>
            <span aria-hidden="true">✦</span> <span className="ask-label">Ask Keel</span>
          </button>
          <DropdownMenu.Root>
            <DropdownMenu.Trigger className="user-trigger" aria-label="User menu">
              <Avatar name={me?.name} size={30} />
              <span className="user-name">{me?.name}</span>
            </DropdownMenu.Trigger>
            <DropdownMenu.Portal>
              <DropdownMenu.Content className="menu" align="end" sideOffset={6}>
                <div className="menu-label">
                  {me?.email}
                  <br />
                  <span className="muted">{me?.role}</span>
                </div>
                <DropdownMenu.Separator className="menu-sep" />
                {nav
                  .filter((n) => !TAB_BAR.has(n.to))
                  .map((n) => (
                    <DropdownMenu.Item key={n.to} className="menu-item phone-only" onSelect={() => navigate(n.to)}>
                      <span aria-hidden="true">{n.icon}</span> {n.label}
                    </DropdownMenu.Item>
                  ))}
                <DropdownMenu.Separator className="menu-sep phone-only" />
                <DropdownMenu.Item className="menu-item" onSelect={() => navigate('/graphiql')}>
                  GraphQL explorer
                </DropdownMenu.Item>
                <DropdownMenu.Separator className="menu-sep" />
                <DropdownMenu.Item
                  className="menu-item"
                  onSelect={() => signOut.mutate(undefined, { onSettled: () => navigate('/login') })}
                >
                  Sign out
                </DropdownMenu.Item>
              </DropdownMenu.Content>
            </DropdownMenu.Portal>
          </DropdownMenu.Root>
        </header>
        <main id="main" className="content" tabIndex={-1}>
          <Outlet />
        </main>
      </div>
      <nav className="tabbar" aria-label="Main navigation">
        {NAV.filter((n) => TAB_BAR.has(n.to)).map((n) => (
          <NavLink key={n.to} to={n.to} end={n.end} className="tab-link">
            <span className="nav-icon" aria-hidden="true">
              {n.icon}
            </span>
            <span>{n.label}</span>
          </NavLink>
        ))}
      </nav>
      <CommandPalette open={searchOpen} onOpenChange={setSearchOpen} />
      <ChatPanel open={chatOpen} onClose={() => setChatOpen(false)} />
    </div>
  );
}
