/**
 * Renders and checks a provider's credential JSON Schema (an object of
 * flat properties) in the browser. The server validates again with ajv and
 * has the last word; these checks only spare a round trip for the common
 * mistakes (required, length, pattern, enum, numbers).
 */
export interface JsonSchema {
  type?: string | string[];
  title?: string;
  description?: string;
  properties?: Record<string, JsonSchema>;
  required?: string[];
  format?: string;
  minLength?: number;
  maxLength?: number;
  pattern?: string;
  enum?: unknown[];
  minimum?: number;
  maximum?: number;
  default?: unknown;
  'x-placeholder'?: string;
}

export type FieldKind = 'text' | 'password' | 'number' | 'checkbox' | 'select';

export interface Field {
  name: string;
  label: string;
  description: string;
  kind: FieldKind;
  required: boolean;
  options: string[];
  placeholder: string;
  schema: JsonSchema;
}

export function fieldsOf(schema: JsonSchema): Field[] {
  const required = new Set(schema.required ?? []);
  // A schema travels as a protobuf Struct, whose keys carry no order: required fields come
  // first, in the order `required` lists them, then the optional ones by name.
  const rank = (name: string) => (required.has(name) ? schema.required!.indexOf(name) : Number.MAX_SAFE_INTEGER);
  const entries = Object.entries(schema.properties ?? {}).sort(([a], [b]) => rank(a) - rank(b) || a.localeCompare(b));
  return entries.map(([name, prop]) => ({
    name,
    label: prop.title || humanize(name),
    description: prop.description ?? '',
    kind: kindOf(prop),
    required: required.has(name),
    options: Array.isArray(prop.enum) ? prop.enum.map(String) : [],
    placeholder: prop['x-placeholder'] ?? '',
    schema: prop,
  }));
}

function kindOf(prop: JsonSchema): FieldKind {
  const type = Array.isArray(prop.type) ? prop.type[0] : prop.type;
  if (Array.isArray(prop.enum)) return 'select';
  if (type === 'boolean') return 'checkbox';
  if (type === 'integer' || type === 'number') return 'number';
  return prop.format === 'password' ? 'password' : 'text';
}

function humanize(name: string): string {
  const words = name.replace(/[_-]+/g, ' ').trim();
  return words.charAt(0).toUpperCase() + words.slice(1);
}

export type Values = Record<string, string | boolean>;

/** One message per invalid field; empty when the values pass the checks made here. */
export function check(fields: Field[], values: Values): Record<string, string> {
  const errors: Record<string, string> = {};
  for (const f of fields) {
    const value = values[f.name];
    if (f.kind === 'checkbox') continue;
    const text = typeof value === 'string' ? value : '';
    if (text === '') {
      if (f.required) errors[f.name] = 'This field is required.';
      continue;
    }
    const s = f.schema;
    if (f.kind === 'number') {
      const n = Number(text);
      if (!Number.isFinite(n) || (s.type === 'integer' && !Number.isInteger(n))) errors[f.name] = 'Enter a number.';
      else if (s.minimum !== undefined && n < s.minimum) errors[f.name] = `Must be at least ${s.minimum}.`;
      else if (s.maximum !== undefined && n > s.maximum) errors[f.name] = `Must be at most ${s.maximum}.`;
      continue;
    }
    const length = [...text].length;
    if (s.minLength !== undefined && length < s.minLength) errors[f.name] = `Must be at least ${s.minLength} characters.`;
    else if (s.maxLength !== undefined && length > s.maxLength) errors[f.name] = `Must be at most ${s.maxLength} characters.`;
    else if (s.pattern !== undefined && !matches(s.pattern, text)) errors[f.name] = 'This value does not have the expected format.';
    else if (f.options.length > 0 && !f.options.includes(text)) errors[f.name] = 'Choose one of the options.';
  }
  return errors;
}

function matches(pattern: string, text: string): boolean {
  try {
    return new RegExp(pattern, 'u').test(text);
  } catch {
    // A pattern this browser cannot compile is left to the server.
    return true;
  }
}

/** The JSON object to submit: typed values, empty optional fields left out. */
export function toJson(fields: Field[], values: Values): Record<string, string | number | boolean> {
  const out: Record<string, string | number | boolean> = {};
  for (const f of fields) {
    const value = values[f.name];
    if (f.kind === 'checkbox') {
      if (value === true || f.required) out[f.name] = value === true;
      continue;
    }
    if (typeof value !== 'string' || value === '') continue;
    out[f.name] = f.kind === 'number' ? Number(value) : value;
  }
  return out;
}
