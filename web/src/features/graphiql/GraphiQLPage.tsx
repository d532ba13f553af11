// GraphiQL (the graphql/graphiql project's IDE, from npm) on Keel's GraphQL endpoint:
// autocompletion, validation and docs from the schema, history. It is its own lazily
// loaded chunk (see main.tsx), bundled by Vite, so it works offline and under the app's
// CSP (scripts from this origin only; CodeMirror sets inline styles, which app pages allow).
import { GraphiQL } from 'graphiql';
import 'graphiql/style.css';
import './GraphiQLPage.css';
import { useQuery } from '@tanstack/react-query';
import { buildSchema } from 'graphql';
import type { ComponentProps } from 'react';
import { ApiError } from '../../api/client';
import { ErrorState, Skeleton } from '../../components/ui';

type Fetcher = ComponentProps<typeof GraphiQL>['fetcher'];

/** POST /api/graphql on this origin with the session cookie (the browser adds Origin, which the CSRF check needs). */
const fetcher: Fetcher = async (params, opts) => {
  const res = await fetch('/api/graphql', {
    method: 'POST',
    credentials: 'same-origin',
    headers: { 'content-type': 'application/json', accept: 'application/json', ...(opts?.headers ?? {}) },
    body: JSON.stringify(params),
  });
  const text = await res.text();
  try {
    // GraphQL results, and problem+json for refused requests (401, 403, 413): shown as they are.
    return JSON.parse(text) as Record<string, unknown>;
  } catch {
    return { errors: [{ message: `HTTP ${res.status}: ${text.slice(0, 500)}` }] };
  }
};

const DEFAULT_QUERY = `# Keel GraphQL: Ctrl+Space completes, Ctrl+Enter runs, the book icon opens the docs.
{
  deals(first: 10, sort: "-amount") {
    totalCount
    edges { node { id title amount stage company { name } } }
    pageInfo { hasNextPage endCursor }
  }
}
`;

/**
 * The schema in force (custom fields included) from GET /api/graphql/schema.graphql. GraphiQL
 * would otherwise send its introspection query, which nests deeper than the server's depth
 * limit allows (and so is refused); the SDL gives it the same schema in one small request.
 */
async function loadSchema() {
  const res = await fetch('/api/graphql/schema.graphql', { credentials: 'same-origin' });
  const text = await res.text();
  if (!res.ok) {
    let body: Record<string, unknown>;
    try {
      body = JSON.parse(text) as Record<string, unknown>;
    } catch {
      body = { detail: text.slice(0, 200) };
    }
    throw new ApiError(res.status, body);
  }
  return buildSchema(text);
}

export function GraphiQLPage() {
  const schema = useQuery({ queryKey: ['graphql-schema'], queryFn: loadSchema, staleTime: 60_000 });
  if (schema.isError) return <ErrorState error={schema.error} retry={() => schema.refetch()} />;
  if (!schema.data) return <Skeleton lines={4} />;
  return (
    <div className="graphiql-page">
      <GraphiQL fetcher={fetcher} schema={schema.data} defaultQuery={DEFAULT_QUERY} />
    </div>
  );
}
