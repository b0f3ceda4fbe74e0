import { useEffect, useMemo, useState } from 'preact/hooks';
import { loadCaptureForm, submitCapture, type CaptureForm } from '../api/capture.js';
import { createApi, transport } from '../api/client.js';
import { SchemaForm } from '../components/SchemaForm.js';
import { PROBLEMS, ProblemPage, type Problem } from './ProblemPage.js';

/**
 * /manage/capture?state=…: the capture URL of static providers (API key,
 * Basic, AWS keys, bearer token) for apps that send users there directly.
 * The signed, single-use state in the URL is the only authority; on success
 * the browser goes to the app's return URL.
 */
export function CapturePage() {
  const state = useMemo(() => new URLSearchParams(location.search).get('state') ?? '', []);
  const api = useMemo(() => createApi(transport()), []);
  const [form, setForm] = useState<CaptureForm>();
  const [problem, setProblem] = useState<Problem | undefined>(state ? undefined : PROBLEMS.linkInvalid);

  useEffect(() => {
    if (!state) return;
    void loadCaptureForm(api, state).then((r) => ('form' in r ? setForm(r.form) : setProblem(r.problem)));
  }, [state]);

  if (problem) return <ProblemPage problem={problem} />;
  if (!form) return <Loading />;
  document.title = `Connect ${form.providerDisplayName}`;
  return (
    <main class="narrow">
      <div class="card">
        <h1>Connect {form.providerDisplayName}</h1>
        <p id="capture-who">
          <strong id="capture-app">{form.appName}</strong> asks for your {form.providerDisplayName} credentials for the workspace{' '}
          <code id="capture-workspace">{form.workspaceId}</code>.
        </p>
        <p class="hint">
          Whoever controls this workspace in {form.appName} will be able to use them. If someone sent you this link, close this page. Your credentials are
          encrypted and stored by the service; the app never sees them.
        </p>
        <SchemaForm
          id="capture-form"
          schema={form.schema}
          submitLabel="Connect"
          onSubmit={async (credentials) => {
            const r = await submitCapture(api, state, credentials);
            if ('redirectUrl' in r) location.assign(r.redirectUrl);
            else if ('problem' in r) setProblem(r.problem);
            else return r.errors;
          }}
        />
      </div>
    </main>
  );
}

export function Loading() {
  return (
    <main class="loading" aria-busy="true">
      <p role="status">Loading…</p>
    </main>
  );
}
