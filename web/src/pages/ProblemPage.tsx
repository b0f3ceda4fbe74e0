import { useEffect, useRef } from 'preact/hooks';

export interface Problem {
  title: string;
  body: string;
  /** Where "Return to the app" goes, when known. */
  returnTo?: string;
  returnLabel?: string;
  /** A machine-readable kind, for tests and support (`data-problem`). */
  kind: string;
}

/** A whole page that explains why nothing else can be shown, and how to go on. */
export function ProblemPage({ problem }: { problem: Problem }) {
  const heading = useRef<HTMLHeadingElement>(null);
  useEffect(() => heading.current?.focus(), [problem.kind]);
  return (
    <main class="problem" data-problem={problem.kind}>
      <div class="card">
        <h1 ref={heading} tabIndex={-1}>
          {problem.title}
        </h1>
        <p>{problem.body}</p>
        {problem.returnTo && (
          <a class="button primary" href={problem.returnTo}>
            {problem.returnLabel ?? 'Return to the app'}
          </a>
        )}
      </div>
    </main>
  );
}

export const PROBLEMS = {
  missingCode: {
    kind: 'missing-code',
    title: 'Open this page from your app',
    body: 'This page manages the services connected to your account. It needs a sign-in link from the app you came from; go back to that app and choose "Manage connections" again.',
  },
  linkExpired: {
    kind: 'link-expired',
    title: 'This link has expired',
    body: 'Sign-in links work once and only for a few seconds. Go back to the app and open "Manage connections" again to get a fresh one.',
  },
  linkUsed: {
    kind: 'link-used',
    title: 'This link was already used',
    body: 'Sign-in links work only once. Go back to the app and open "Manage connections" again to get a fresh one.',
  },
  linkInvalid: {
    kind: 'link-invalid',
    title: 'This link cannot be used',
    body: 'The sign-in link is not valid here. Go back to the app and open "Manage connections" again.',
  },
  sessionEnded: {
    kind: 'session-ended',
    title: 'Your session has ended',
    body: 'For your security, this page signs you out after a short while. Go back to the app and open "Manage connections" again.',
  },
  unavailable: {
    kind: 'unavailable',
    title: 'Something went wrong',
    body: 'The service could not be reached. Try again in a moment, or go back to the app.',
  },
} satisfies Record<string, Problem>;
