import { ScalarType, type DescEnum, type DescField, type DescMessage, type Message } from '@bufbuild/protobuf';
import { reflect, type ReflectMessage } from '@bufbuild/protobuf/reflect';
import type { Interceptor } from '@connectrpc/connect';
import { echo, InvalidFieldError } from '../domain/shared/errors.js';
import { closest, didYouMean } from '../domain/shared/suggest.js';

/**
 * Text every request field must be, checked once at the boundary for every
 * RPC: a NUL character is refused by PostgreSQL (the call failed deep inside
 * as INTERNAL, after work was done), and a lone UTF-16 surrogate cannot be
 * encoded as UTF-8 (the driver would silently store U+FFFD instead). Open
 * enums also accept any number on the wire, so an unknown one is refused
 * here rather than read as "unset" (a filter that matched everything, a
 * setting that fell back to its default).
 *
 * The walk covers every string field, repeated field, map (keys and values)
 * and nested message, Struct values included, of any request message type,
 * by reflection: a new RPC or field is covered without being listed.
 */
export function checkRequestMessage(desc: DescMessage, message: Message): void {
  const problem = findProblem(reflect(desc, message), '');
  if (problem) throw new InvalidFieldError(problem.path, problem.problem);
}

/**
 * The interceptor that runs `checkRequestMessage` on every request message
 * before a handler sees it: at once for unary calls, as each is read for
 * streaming ones (a server-streaming call's single request included).
 */
export function inputValidationInterceptor(): Interceptor {
  return (next) => async (req) => {
    if (!req.stream) {
      checkRequestMessage(req.method.input, req.message);
      return next(req);
    }
    const desc = req.method.input;
    const messages = req.message;
    return next({
      ...req,
      message: (async function* () {
        for await (const message of messages) {
          checkRequestMessage(desc, message);
          yield message;
        }
      })(),
    });
  };
}

export interface InputProblem {
  /** The field path, proto names: `provider.oauth2.authorize_params["k"]`, `scopes[2]`. */
  path: string;
  problem: string;
}

const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/** Why `value` is not acceptable text, or undefined when it is. */
export function textProblem(value: string): string | undefined {
  if (value.includes('\0')) return 'must not contain a NUL character';
  if (LONE_SURROGATE.test(value)) return 'must be valid Unicode text (it contains a lone surrogate)';
  return undefined;
}

function findProblem(msg: ReflectMessage, prefix: string): InputProblem | undefined {
  for (const field of msg.fields) {
    if (!msg.isSet(field)) continue;
    const path = `${prefix}${field.name}`;
    const found = fieldProblem(field, msg.get(field), path);
    if (found) return found;
  }
  return undefined;
}

function fieldProblem(field: DescField, value: unknown, path: string): InputProblem | undefined {
  switch (field.fieldKind) {
    case 'scalar':
      return valueProblem(field.scalar, undefined, value, path);
    case 'enum':
      return valueProblem(undefined, field.enum, value, path);
    case 'message':
      return findProblem(value as ReflectMessage, `${path}.`);
    case 'list': {
      let i = 0;
      for (const item of value as Iterable<unknown>) {
        const itemPath = `${path}[${i++}]`;
        const found =
          field.listKind === 'message' ? findProblem(item as ReflectMessage, `${itemPath}.`) : valueProblem(field.scalar, field.enum, item, itemPath);
        if (found) return found;
      }
      return undefined;
    }
    case 'map': {
      for (const [key, item] of value as ReadonlyMap<unknown, unknown>) {
        const keyText = String(key);
        const keyProblem = typeof key === 'string' ? textProblem(key) : undefined;
        if (keyProblem) return { path: `${path} key`, problem: keyProblem };
        const itemPath = `${path}[${JSON.stringify(keyText)}]`;
        const found =
          field.mapKind === 'message'
            ? findProblem(item as ReflectMessage, `${itemPath}.`)
            : valueProblem(field.mapKind === 'scalar' ? field.scalar : undefined, field.mapKind === 'enum' ? field.enum : undefined, item, itemPath);
        if (found) return found;
      }
      return undefined;
    }
  }
}

/**
 * Where a Connect JSON request that failed to decode went wrong, with the
 * field named: an unknown field (with a suggestion), an enum name or number
 * that does not exist, or text that is not valid (a lone surrogate). The
 * JSON parser reports the first two without the field's path, and before
 * strict parsing dropped them silently. Undefined when none of these is found.
 */
export function locateJsonProblem(desc: DescMessage, json: unknown, prefix = ''): InputProblem | undefined {
  if (json === null || typeof json !== 'object' || Array.isArray(json)) return undefined;
  for (const [key, value] of Object.entries(json as Record<string, unknown>)) {
    const field = desc.fields.find((f) => f.jsonName === key || f.name === key);
    if (!field) {
      return {
        path: `${prefix}${echo(key)}`,
        problem: `unknown field${didYouMean(
          key,
          desc.fields.map((f) => f.name),
        )}`,
      };
    }
    if (value === null) continue;
    const found = jsonFieldProblem(field, value, `${prefix}${field.name}`);
    if (found) return found;
  }
  return undefined;
}

function jsonFieldProblem(field: DescField, value: unknown, path: string): InputProblem | undefined {
  const one = (v: unknown, at: string): InputProblem | undefined => {
    if (field.fieldKind === 'map' ? field.mapKind === 'enum' : field.fieldKind === 'enum' || (field.fieldKind === 'list' && field.listKind === 'enum')) {
      return jsonEnumProblem(field.enum!, v, at);
    }
    if (field.message) return jsonMessageProblem(field.message, v, at);
    if (typeof v === 'string') {
      const problem = textProblem(v);
      return problem ? { path: at, problem } : undefined;
    }
    return undefined;
  };
  if (field.fieldKind === 'list') {
    if (!Array.isArray(value)) return undefined;
    for (let i = 0; i < value.length; i++) {
      const found = one(value[i], `${path}[${i}]`);
      if (found) return found;
    }
    return undefined;
  }
  if (field.fieldKind === 'map') {
    if (value === null || typeof value !== 'object') return undefined;
    for (const [k, v] of Object.entries(value)) {
      const keyProblem = textProblem(k);
      if (keyProblem) return { path: `${path} key`, problem: keyProblem };
      const found = one(v, `${path}[${JSON.stringify(echo(k, 32))}]`);
      if (found) return found;
    }
    return undefined;
  }
  return one(value, path);
}

function jsonMessageProblem(desc: DescMessage, value: unknown, path: string): InputProblem | undefined {
  if (!desc.typeName.startsWith('google.protobuf.')) return locateJsonProblem(desc, value, `${path}.`);
  // Well-known types have their own JSON forms; Struct, Value and ListValue carry free JSON whose text is checked.
  if (!['google.protobuf.Struct', 'google.protobuf.Value', 'google.protobuf.ListValue'].includes(desc.typeName)) return undefined;
  const walk = (v: unknown): string | undefined => {
    if (typeof v === 'string') return textProblem(v);
    if (v === null || typeof v !== 'object') return undefined;
    for (const [k, item] of Object.entries(v)) {
      const problem = (Array.isArray(v) ? undefined : textProblem(k)) ?? walk(item);
      if (problem) return problem;
    }
    return undefined;
  };
  const problem = walk(value);
  return problem ? { path, problem } : undefined;
}

function jsonEnumProblem(enumDesc: DescEnum, value: unknown, path: string): InputProblem | undefined {
  if (typeof value === 'string') {
    if (enumDesc.values.some((v) => v.name === value || (v as { jsonName?: string }).jsonName === value)) return undefined;
    const names = enumDesc.values.filter((v) => v.number !== 0).map((v) => v.name);
    const suggestion = closest(value, names) ?? closest(`${enumDesc.sharedPrefix ?? ''}${value}`, names);
    return { path, problem: `unknown value "${echo(value, 32)}"${suggestion ? `; did you mean "${suggestion}"?` : `; expected one of ${names.join(', ')}`}` };
  }
  if (typeof value === 'number' && !enumDesc.values.some((v) => v.number === value)) {
    return { path, problem: unknownEnumProblem(enumDesc, String(value)) };
  }
  return undefined;
}

function valueProblem(scalar: ScalarType | undefined, enumDesc: DescEnum | undefined, value: unknown, path: string): InputProblem | undefined {
  if (enumDesc) {
    if (enumDesc.values.some((v) => v.number === value)) return undefined;
    return { path, problem: unknownEnumProblem(enumDesc, String(value)) };
  }
  if (scalar === ScalarType.STRING) {
    const problem = textProblem(value as string);
    return problem ? { path, problem } : undefined;
  }
  return undefined;
}

/** "unknown value 99; expected one of CONNECTION_STATUS_PENDING, ..." (the value capped). */
export function unknownEnumProblem(enumDesc: DescEnum, shown: string): string {
  const names = enumDesc.values.filter((v) => v.number !== 0).map((v) => v.name);
  return `unknown value ${echo(shown, 32)}; expected one of ${names.join(', ')}`;
}
