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

/**
 * `format` pretty (LOG_FORMAT, or a terminal outside production) writes each
 * record as one line of text instead of JSON; redaction has already happened
 * when a record is formatted, so the text holds no more than the JSON would.
 */
export function createLogger(level: string, destination?: pino.DestinationStream | { format?: 'json' | 'pretty' | undefined }): Logger {
  if (destination && !('write' in destination)) {
    destination = destination.format === 'pretty' ? prettyLines(process.stdout) : undefined;
  }
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

const LEVEL_NAMES: Record<number, string> = { 10: 'TRACE', 20: 'DEBUG', 30: 'INFO', 40: 'WARN', 50: 'ERROR', 60: 'FATAL' };
/** Fields every record has; the pretty line shows time, level and message in place of them. */
const OMITTED = new Set(['level', 'time', 'pid', 'hostname', 'msg']);

/** `12:00:01 WARN message key=value …`, one line per record (an error's stack follows on its own lines). */
export function formatPretty(json: string): string {
  let record: Record<string, unknown>;
  try {
    record = JSON.parse(json) as Record<string, unknown>;
  } catch {
    return json.endsWith('\n') ? json : `${json}\n`;
  }
  const time = typeof record.time === 'number' ? new Date(record.time).toISOString().slice(11, 23) : '';
  const level = LEVEL_NAMES[record.level as number] ?? String(record.level);
  const fields: string[] = [];
  let stack = '';
  for (const [key, value] of Object.entries(record)) {
    if (OMITTED.has(key) || value === undefined) continue;
    if (key === 'err' && value && typeof value === 'object' && 'stack' in value) {
      stack = `\n    ${String((value as { stack: unknown }).stack).replace(/\n/g, '\n    ')}`;
      continue;
    }
    fields.push(`${key}=${typeof value === 'string' ? value : JSON.stringify(value)}`);
  }
  return `${time} ${level.padEnd(5)} ${String(record.msg ?? '')}${fields.length ? `  ${fields.join(' ')}` : ''}${stack}\n`;
}

function prettyLines(out: NodeJS.WritableStream): pino.DestinationStream {
  return { write: (line: string) => void out.write(formatPretty(line)) };
}
