import pino, { type Logger } from 'pino';
import { redactUrl } from './http/redact.js';

/**
 * Structured JSON logs. Secrets never reach a log line: credential-bearing
 * headers and fields are censored by path, and URLs lose sensitive query
 * values (OAuth code and state) before they are serialized.
 */
export const REDACT_PATHS = [
  'req.headers.authorization',
  'req.headers["x-api-key"]',
  'req.headers.cookie',
  '*.client_secret',
  '*.clientSecret',
  '*.access_token',
  '*.accessToken',
  '*.refresh_token',
  '*.refreshToken',
  '*.password',
  '*.api_key',
  '*.apiKey',
  '*.credentials',
  '*.state',
  '*.code',
];

export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  return pino(
    {
      level,
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
      serializers: {
        req: (req: { method?: string; url?: string; headers?: Record<string, unknown> }) => ({
          method: req.method,
          url: redactUrl(req.url ?? ''),
          userAgent: req.headers?.['user-agent'],
        }),
        err: pino.stdSerializers.err,
      },
    },
    destination,
  );
}
