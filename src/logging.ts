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

/**
 * Properties of database errors that carry the values of a query: TypeORM's
 * QueryFailedError keeps the SQL and its parameters (a provider's whole
 * request, 3-4 KB a line, sealed secrets included) and the driver's error,
 * and PostgreSQL's `detail`/`where` quote row values ("Key (name)=(...)").
 * An error is logged with its type, message, SQLSTATE and stack only.
 */
const ERROR_PROPERTIES_NOT_LOGGED = ['query', 'parameters', 'driverError', 'detail', 'where', 'internalQuery'];

/** pino's error serializer, without the properties above (also on the error's causes). */
export function serializeError(err: Error): Record<string, unknown> {
  const serialized = pino.stdSerializers.err(err) as unknown as Record<string, unknown>;
  const strip = (value: Record<string, unknown>, depth: number): Record<string, unknown> => {
    for (const key of ERROR_PROPERTIES_NOT_LOGGED) delete value[key];
    const cause = value.cause;
    if (cause && typeof cause === 'object' && depth < 5) value.cause = strip({ ...(cause as Record<string, unknown>) }, depth + 1);
    return value;
  };
  return strip(serialized, 0);
}

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
        err: serializeError,
      },
    },
    destination,
  );
}
