import type { Api } from './client.js';
import { fieldErrorsOf, problemOf } from './errors.js';
import type { SubmitResult } from '../components/SchemaForm.js';
import type { JsonSchema } from '../schema.js';
import { PROBLEMS, type Problem } from '../pages/ProblemPage.js';

export interface CaptureForm {
  schema: JsonSchema;
  providerName: string;
  providerDisplayName: string;
  connectionId: string;
  /** Whose connection it will be, and which app asks: shown so a forwarded link is recognised. */
  workspaceId: string;
  appName: string;
}

/** GetCredentialSchema for a capture state; a page to show when the state cannot be used. */
export async function loadCaptureForm(api: Api, state: string): Promise<{ form: CaptureForm } | { problem: Problem }> {
  try {
    const res = await api.connections.getCredentialSchema({ state });
    return {
      form: {
        schema: (res.schema ?? {}) as JsonSchema,
        providerName: res.providerName,
        providerDisplayName: res.providerDisplayName || res.providerName,
        connectionId: res.connectionId,
        workspaceId: res.workspaceId,
        appName: res.appName,
      },
    };
  } catch (err) {
    return { problem: stateProblem(problemOf(err).reason) };
  }
}

/**
 * SubmitCredentials. Invalid credentials come back as inline errors (the
 * state is not consumed, so the user corrects and resubmits); success
 * resolves with the redirect URL Nexus built from the return URL.
 */
export async function submitCapture(
  api: Api,
  state: string,
  credentials: Record<string, string | number | boolean>,
): Promise<{ redirectUrl: string; connectionId: string } | { errors: SubmitResult } | { problem: Problem }> {
  try {
    const res = await api.connections.submitCredentials({ state, credentials });
    return { redirectUrl: res.redirectUrl, connectionId: res.connection?.id ?? '' };
  } catch (err) {
    const p = problemOf(err);
    if (p.reason === 'CREDENTIALS_INVALID') {
      const { fields, other } = fieldErrorsOf(p);
      return { errors: { fields, form: other.join(' ') || (Object.keys(fields).length ? '' : 'These credentials were not accepted.') } };
    }
    if (p.reason.startsWith('STATE_')) return { problem: stateProblem(p.reason) };
    return { errors: { form: p.message || 'The credentials could not be saved. Try again.' } };
  }
}

function stateProblem(reason: string): Problem {
  if (reason === 'STATE_EXPIRED') {
    return { ...PROBLEMS.linkExpired, body: 'This form was open for too long. Start connecting again from the app.' };
  }
  if (reason === 'STATE_ALREADY_USED') {
    return { ...PROBLEMS.linkUsed, body: 'These credentials were already submitted. Start again from the app to connect once more.' };
  }
  if (reason === 'STATE_INVALID' || reason === 'INVALID_FIELD') return PROBLEMS.linkInvalid;
  return PROBLEMS.unavailable;
}
