import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { createBrowserRouter, Navigate, Outlet, RouterProvider, useLocation } from 'react-router';
import { ApiError, setUnauthenticatedHandler } from './api/client';
import { meKey, useMe } from './api/session';
import { Shell } from './components/Shell';
import { ToastProvider } from './components/toast';
import { ErrorState, Skeleton } from './components/ui';
import { SignIn } from './features/auth/SignIn';
import './styles.css';


const queryClient = new QueryClient({
  defaultOptions: {
    queries: {
      staleTime: 15_000,
      // Client errors (403, 404, 400) won't change on retry; network and 5xx may.
      retry: (count, e) => count < 2 && !(e instanceof ApiError && e.status < 500),
      refetchOnWindowFocus: true,
    },
  },
});
setUnauthenticatedHandler(() => queryClient.setQueryData(meKey, null));

/** Everything but the sign-in page needs a session. */
function RequireSession() {
  const me = useMe();
  const location = useLocation();
  if (me.isPending)
    return (
      <div className="boot">
        <Skeleton lines={3} />
      </div>
    );
  if (me.isError) return <ErrorState error={me.error} retry={() => me.refetch()} />;
  if (!me.data) return <Navigate to="/login" replace state={{ from: location.pathname + location.search }} />;
  return <Outlet />;
}

function NotFound() {
  return <ErrorState error={new Error('This page does not exist.')} />;
}

// Each page is its own chunk, loaded by the router before it switches pages: the old page
// stays up meanwhile, and the new one mounts (and starts its queries) the moment its chunk
// arrives. (React.lazy under Suspense would hold every page back ~300 ms: React throttles
// revealing a Suspense boundary, measured in docs/BENCHMARKS.md.)
const router = createBrowserRouter([
  { path: '/login', element: <SignIn /> },
  {
    element: <RequireSession />,
    children: [
      {
        element: <Shell />,
        children: [
          { index: true, lazy: () => import('./features/dashboard/Dashboard').then((m) => ({ Component: m.Dashboard })) },
          { path: 'companies', lazy: () => import('./features/companies/CompaniesList').then((m) => ({ Component: m.CompaniesList })) },
          { path: 'companies/:id', lazy: () => import('./features/companies/CompanyDetail').then((m) => ({ Component: m.CompanyDetail })) },
          { path: 'contacts', lazy: () => import('./features/contacts/ContactsList').then((m) => ({ Component: m.ContactsList })) },
          { path: 'contacts/:id', lazy: () => import('./features/contacts/ContactDetail').then((m) => ({ Component: m.ContactDetail })) },
          { path: 'deals', lazy: () => import('./features/deals/DealsList').then((m) => ({ Component: m.DealsList })) },
          { path: 'deals/pipeline', lazy: () => import('./features/deals/Pipeline').then((m) => ({ Component: m.Pipeline })) },
          { path: 'deals/:id', lazy: () => import('./features/deals/DealDetail').then((m) => ({ Component: m.DealDetail })) },
          { path: 'activities', lazy: () => import('./features/activities/MyTasks').then((m) => ({ Component: m.MyTasks })) },
          { path: 'automation', lazy: () => import('./features/automation/WorkflowsPage').then((m) => ({ Component: m.WorkflowsPage })) },
          { path: 'automation/new', lazy: () => import('./features/automation/WorkflowEditor').then((m) => ({ Component: m.WorkflowEditorPage })) },
          { path: 'automation/:id', lazy: () => import('./features/automation/WorkflowDetail').then((m) => ({ Component: m.WorkflowDetail })) },
          { path: 'automation/:id/edit', lazy: () => import('./features/automation/WorkflowEditor').then((m) => ({ Component: m.WorkflowEditorPage })) },
          { path: 'duplicates', lazy: () => import('./features/duplicates/DuplicatesPage').then((m) => ({ Component: m.DuplicatesPage })) },
          { path: 'settings/fields', lazy: () => import('./features/settings/FieldsPage').then((m) => ({ Component: m.FieldsPage })) },
          { path: 'import', lazy: () => import('./features/imports/ImportPage').then((m) => ({ Component: m.ImportPage })) },
          { path: 'graphiql', lazy: () => import('./features/graphiql/GraphiQLPage').then((m) => ({ Component: m.GraphiQLPage })) },
          { path: 'assistant/proposals/:id', lazy: () => import('./features/assistant/ProposalPage').then((m) => ({ Component: m.ProposalPage })) },
          { path: '*', element: <NotFound /> },
        ],
      },
    ],
  },
]);

const root = document.getElementById('root');
if (root) {
  createRoot(root).render(
    <StrictMode>
      <QueryClientProvider client={queryClient}>
        <ToastProvider>
          <RouterProvider router={router} />
        </ToastProvider>
      </QueryClientProvider>
    </StrictMode>,
  );
}
