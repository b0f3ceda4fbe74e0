import type { FastifyInstance } from 'fastify';
import { page } from './html.js';

/**
 * GET /connect/capture?state=…: the capture URL of static providers. A small
 * page that asks Nexus for the credential schema, renders the form (masking
 * `format: password` fields) and submits it, all through the public Connect
 * JSON API with the state as its only authority. Nothing secret is in the
 * HTML; the state stays in the page's URL.
 */
export function registerCapturePageRoute(app: FastifyInstance): void {
  app.get('/connect/capture', async (_request, reply) => {
    return reply
      .header('content-type', 'text/html; charset=utf-8')
      .header('cache-control', 'no-store')
      .header('referrer-policy', 'no-referrer')
      .header('content-security-policy', "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'; form-action 'none'")
      .send(page('Connect', '<h1 id="title">Connect</h1><div id="app">Loading…</div>', CAPTURE_SCRIPT));
  });
}

const CAPTURE_SCRIPT = `
const state = new URLSearchParams(location.search).get('state') || '';
const app = document.getElementById('app');
async function call(method, body) {
  const res = await fetch('/nexus.v1.ConnectionService/' + method, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const json = await res.json();
  if (!res.ok) throw json;
  return json;
}
function text(el, value) { el.textContent = value; return el; }
function showError(err) {
  const p = document.getElementById('error') || app.appendChild(document.createElement('p'));
  p.id = 'error'; p.className = 'error'; p.setAttribute('role', 'alert');
  text(p, (err && err.message) || 'Something went wrong');
}
call('GetCredentialSchema', { state }).then((res) => {
  text(document.getElementById('title'), 'Connect ' + (res.providerDisplayName || res.providerName));
  const form = document.createElement('form');
  const schema = res.schema || {}; const required = new Set(schema.required || []);
  for (const [name, prop] of Object.entries(schema.properties || {})) {
    const id = 'f_' + name;
    const label = form.appendChild(document.createElement('label'));
    label.htmlFor = id; text(label, (prop.title || name) + (required.has(name) ? ' *' : ''));
    const input = form.appendChild(document.createElement('input'));
    input.id = id; input.name = name; input.required = required.has(name);
    input.type = prop.format === 'password' ? 'password' : 'text';
    input.autocomplete = 'off';
  }
  const button = form.appendChild(document.createElement('button'));
  button.type = 'submit'; text(button, 'Connect');
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const credentials = {};
    for (const input of form.querySelectorAll('input')) if (input.value !== '') credentials[input.name] = input.value;
    call('SubmitCredentials', { state, credentials }).then((r) => { location.href = r.redirectUrl; }, showError);
  });
  app.replaceChildren(form);
}, (err) => { app.replaceChildren(); showError(err); });
`;
