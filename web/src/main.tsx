import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { lazy, StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { createBrowserRouter, Navigate, Outlet, RouterProvider, useLocation } from 'react-router';
import { ApiError, setUnauthenticatedHandler } from './api/client';
import { meKey, useMe } from './api/session';
import { Shell } from './components/Shell';
import { ToastProvider } from './components/toast';
import { ErrorState, Skeleton } from './components/ui';
import { SignIn } from './features/auth/SignIn';
import './styles.css';

// Each page is its own chunk, so the first screen downloads only what it shows.
const MyTasks = lazy(() => import('./features/activities/MyTasks').then((m) => ({ default: m.MyTasks })));
const CompaniesList = lazy(() => import('./features/companies/CompaniesList').then((m) => ({ default: m.CompaniesList })));
const CompanyDetail = lazy(() => import('./features/companies/CompanyDetail').then((m) => ({ default: m.CompanyDetail })));
const ContactDetail = lazy(() => import('./features/contacts/ContactDetail').then((m) => ({ default: m.ContactDetail })));
const ContactsList = lazy(() => import('./features/contacts/ContactsList').then((m) => ({ default: m.ContactsList })));
const Dashboard = lazy(() => import('./features/dashboard/Dashboard').then((m) => ({ default: m.Dashboard })));
const DealDetail = lazy(() => import('./features/deals/DealDetail').then((m) => ({ default: m.DealDetail })));
const DealsList = lazy(() => import('./features/deals/DealsList').then((m) => ({ default: m.DealsList })));
const Pipeline = lazy(() => import('./features/deals/Pipeline').then((m) => ({ default: m.Pipeline })));

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

const router = createBrowserRouter([
  { path: '/login', element: <SignIn /> },
  {
    element: <RequireSession />,
    children: [
      {
        element: <Shell />,
        children: [
          { index: true, element: <Dashboard /> },
          { path: 'companies', element: <CompaniesList /> },
          { path: 'companies/:id', element: <CompanyDetail /> },
          { path: 'contacts', element: <ContactsList /> },
          { path: 'contacts/:id', element: <ContactDetail /> },
          { path: 'deals', element: <DealsList /> },
          { path: 'deals/pipeline', element: <Pipeline /> },
          { path: 'deals/:id', element: <DealDetail /> },
          { path: 'activities', element: <MyTasks /> },
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
