// Import a spreadsheet: choose the file, check the proposed column mapping, dry-run it
// (every row checked by the server's rules, nothing written), then import. Past imports
// are listed below with their counts.
import { useQueryClient } from '@tanstack/react-query';
import { useEffect, useRef, useState } from 'react';
import { Link } from 'react-router';
import { errorMessage } from '../../api/client';
import { useSchema } from '../../api/schema';
import { useToast } from '../../components/toast';
import { EmptyState, ErrorState, PageHeader, Skeleton } from '../../components/ui';
import { formatNumber, formatRelative } from '../../lib/format';
import { followImport, inProgress, preview, runImport, useImports, type ImportParams, type Preview, type Report } from './api';

const ENTITIES = ['companies', 'contacts', 'deals', 'activities'];
const KEYS: Record<string, string[]> = {
  companies: ['id', 'domain', 'name'],
  contacts: ['id', 'email'],
  deals: ['id'],
  activities: ['id'],
};

export function ImportPage() {
  const schema = useSchema().data;
  const toast = useToast();
  const qc = useQueryClient();
  const [entity, setEntity] = useState('contacts');
  const [file, setFile] = useState<File | null>(null);
  const [pre, setPre] = useState<Preview | null>(null);
  const [mapping, setMapping] = useState<Record<string, string | null>>({});
  const [mode, setMode] = useState('create');
  const [key, setKey] = useState('');
  const [createCompanies, setCreateCompanies] = useState(false);
  const [report, setReport] = useState<Report | null>(null);
  const [busy, setBusy] = useState<null | 'preview' | 'check' | 'import'>(null);
  const [progress, setProgress] = useState(0);
  // The background import being followed (the POST answered 202 with it), as last polled.
  const [running, setRunning] = useState<Report | null>(null);
  // Polling stops when the page goes away (the import goes on; Past imports shows it).
  const left = useRef(false);
  useEffect(
    () => () => {
      left.current = true;
    },
    [],
  );

  const params = (dry: boolean): ImportParams => ({
    entity,
    mode,
    key: mode === 'create' ? undefined : key || undefined,
    create_missing_companies: entity !== 'companies' ? createCompanies : undefined,
    mapping: Object.keys(mapping).length ? JSON.stringify(mapping) : undefined,
    dry_run: dry,
  });

  const loadPreview = async (f: File, e: string) => {
    setBusy('preview');
    setReport(null);
    try {
      const p = await preview(f, { entity: e });
      setPre(p);
      setMapping(Object.fromEntries(p.mapping.map((m) => [m.header, m.field])));
    } catch (err) {
      setPre(null);
      toast.show(errorMessage(err), 'error');
    } finally {
      setBusy(null);
    }
  };

  const run = async (dry: boolean) => {
    if (!file) return;
    setBusy(dry ? 'check' : 'import');
    setProgress(0);
    try {
      let r = await runImport(file, params(dry), setProgress);
      if (!dry && inProgress(r)) {
        setRunning(r);
        const last = await followImport(r, setRunning, () => left.current);
        setRunning(null);
        if (!last) return;
        r = last;
      }
      setReport(r);
      if (!dry) void qc.invalidateQueries({ queryKey: ['records'] });
      if (!dry && r.status === 'completed') toast.show(`Imported ${formatNumber(r.created + r.updated)} ${entity}`);
    } catch (err) {
      toast.show(errorMessage(err), 'error');
    } finally {
      setBusy(null);
    }
  };

  const label = (field: string) => schema?.entities[entity]?.fields.find((f) => f.name === field)?.label ?? field;

  return (
    <>
      <PageHeader title="Import" />
      <section className="card">
        <div className="form-grid">
          <div className="field">
            <label htmlFor="imp-entity">Import into</label>
            <select
              id="imp-entity"
              value={entity}
              onChange={(e) => {
                setEntity(e.target.value);
                setKey('');
                if (file) void loadPreview(file, e.target.value);
              }}
            >
              {ENTITIES.map((e) => (
                <option key={e} value={e}>
                  {schema?.entities[e]?.label ?? e}
                </option>
              ))}
            </select>
          </div>
          <div className="field">
            <label htmlFor="imp-file">CSV file</label>
            <input
              id="imp-file"
              type="file"
              accept=".csv,.tsv,.txt,text/csv"
              onChange={(e) => {
                const f = e.target.files?.[0] ?? null;
                setFile(f);
                if (f) void loadPreview(f, entity);
              }}
            />
            <span className="field-help">UTF-8 (with or without BOM), Latin-1 or Windows-1252; comma, semicolon or tab.</span>
          </div>
        </div>
      </section>

      {busy === 'preview' && <Skeleton lines={6} />}
      {pre && (
        <section className="card" aria-label="Columns">
          <h2>Columns</h2>
          <p className="muted small">
            Read as {pre.encoding}, separated by “{pre.separator}”. Choose a field for each column, or ignore it.
          </p>
          {pre.unmapped_required.length > 0 && (
            <p className="form-error">No column feeds: {pre.unmapped_required.map(label).join(', ')}.</p>
          )}
          <div className="table-wrap">
            <table className="data-table mini" data-testid="mapping">
              <thead>
                <tr>
                  <th>Column</th>
                  <th>Field</th>
                  <th className="hide-sm">First values</th>
                </tr>
              </thead>
              <tbody>
                {pre.headers.map((h, i) => (
                  <tr key={`${h}-${i}`}>
                    <td>{h}</td>
                    <td>
                      <select
                        aria-label={`Field for ${h}`}
                        value={mapping[h] ?? ''}
                        onChange={(e) => setMapping((m) => ({ ...m, [h]: e.target.value || null }))}
                      >
                        <option value="">(ignore)</option>
                        {pre.fields.map((f) => (
                          <option key={f} value={f}>
                            {label(f)}
                          </option>
                        ))}
                      </select>
                    </td>
                    <td className="hide-sm muted small">
                      {pre.rows
                        .slice(0, 3)
                        .map((r) => r[i])
                        .filter(Boolean)
                        .join(' · ')}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          <div className="form-grid">
            <div className="field">
              <label htmlFor="imp-mode">Mode</label>
              <select id="imp-mode" value={mode} onChange={(e) => setMode(e.target.value)}>
                <option value="create">Create new records</option>
                <option value="update">Update existing records</option>
                <option value="upsert">Update, or create when missing</option>
              </select>
            </div>
            {mode !== 'create' && (
              <div className="field">
                <label htmlFor="imp-key">Match records by</label>
                <select id="imp-key" value={key} onChange={(e) => setKey(e.target.value)}>
                  <option value="">(choose)</option>
                  {(KEYS[entity] ?? ['id']).map((k) => (
                    <option key={k} value={k}>
                      {label(k)}
                    </option>
                  ))}
                </select>
              </div>
            )}
            {entity !== 'companies' && (
              <div className="field field-check">
                <label htmlFor="imp-create">Create companies that do not exist yet</label>
                <input id="imp-create" type="checkbox" checked={createCompanies} onChange={(e) => setCreateCompanies(e.target.checked)} />
              </div>
            )}
          </div>
          <div className="form-actions">
            <button className="btn" disabled={busy !== null} onClick={() => void run(true)}>
              {busy === 'check' ? 'Checking…' : 'Check file'}
            </button>
            <button className="btn btn-primary" disabled={busy !== null} onClick={() => void run(false)}>
              {busy !== 'import' ? 'Import' : running ? 'Importing…' : `Uploading… ${Math.round(progress * 100)}%`}
            </button>
          </div>
        </section>
      )}

      {running && <ImportProgress report={running} />}
      {report && !running && <ReportView report={report} />}
      <PastImports />
    </>
  );
}

/** A background import's phase and rows done, as the server reports them. */
function ImportProgress({ report }: { report: Report }) {
  const phase = report.phase ?? 'queued';
  const done = report.rows_done ?? 0;
  const total = report.rows;
  const text: Record<string, string> = {
    queued: 'Waiting to start…',
    validating: `Checking rows: ${formatNumber(done)} checked`,
    importing: `Importing: ${formatNumber(done)} of ${formatNumber(total)} rows`,
    done: 'Finishing…',
  };
  const known = phase === 'importing' && total > 0;
  return (
    <section className="card" aria-label="Import progress" data-testid="import-progress">
      <h2>{text[phase] ?? phase}</h2>
      {/* No value while the total is unknown: an indeterminate bar. */}
      <progress
        className="import-progress"
        max={known ? total : undefined}
        value={known ? done : undefined}
        aria-label="Rows imported"
      />
      <p className="muted small">The import runs on the server: you can leave this page and find it under Past imports.</p>
    </section>
  );
}

function ReportView({ report }: { report: Report }) {
  const ok = report.status === 'valid' || report.status === 'completed';
  const headline: Record<string, string> = {
    valid: `All ${formatNumber(report.rows)} rows are valid. Nothing was written yet.`,
    invalid: `${formatNumber(report.failed)} of ${formatNumber(report.rows)} rows have errors. Nothing was written.`,
    rejected: `${formatNumber(report.failed)} rows have errors, so nothing was imported.`,
    completed: `Imported: ${formatNumber(report.created)} created, ${formatNumber(report.updated)} updated${
      report.companies_created ? `, ${formatNumber(report.companies_created)} companies created` : ''
    }.`,
    failed: `Stopped at row ${report.next_row ?? '?'}: rows before it were imported, none after. Fix the file and import again from that row.`,
  };
  return (
    <section className={`card ${ok ? 'report-ok' : 'report-bad'}`} aria-label="Import report" data-testid="import-report">
      <h2>{headline[report.status] ?? report.status}</h2>
      {report.errors.length > 0 && (
        <table className="data-table mini">
          <thead>
            <tr>
              <th>Row</th>
              <th>Column</th>
              <th>Problem</th>
            </tr>
          </thead>
          <tbody>
            {report.errors.map((e, i) => (
              <tr key={i}>
                <td>{e.row}</td>
                <td>{e.column ?? e.field ?? '—'}</td>
                <td>{e.message}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {report.error_count > report.errors.length && (
        <p className="muted small">…and {formatNumber(report.error_count - report.errors.length)} more.</p>
      )}
    </section>
  );
}

function PastImports() {
  const list = useImports();
  return (
    <section className="card" aria-label="Past imports">
      <h2>Past imports</h2>
      {list.isError ? (
        <ErrorState error={list.error} retry={() => list.refetch()} />
      ) : list.isPending ? (
        <Skeleton lines={3} />
      ) : list.data.length === 0 ? (
        <EmptyState title="No imports yet." />
      ) : (
        <table className="data-table mini">
          <thead>
            <tr>
              <th>File</th>
              <th>Into</th>
              <th>Status</th>
              <th className="num">Created</th>
              <th className="num">Updated</th>
              <th className="num">Failed</th>
              <th className="hide-sm">When</th>
            </tr>
          </thead>
          <tbody>
            {list.data.map((r) => (
              <tr key={r.id ?? r.started_at}>
                <td>{r.file_name ?? '—'}</td>
                <td>
                  <Link to={`/${r.entity}`}>{r.entity}</Link>
                </td>
                <td>{r.status}</td>
                <td className="num">{formatNumber(r.created)}</td>
                <td className="num">{formatNumber(r.updated)}</td>
                <td className="num">{formatNumber(r.failed)}</td>
                <td className="hide-sm">{r.started_at ? formatRelative(r.started_at) : ''}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
