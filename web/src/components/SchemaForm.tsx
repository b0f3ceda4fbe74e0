import { useMemo, useRef, useState } from 'preact/hooks';
import { check, fieldsOf, toJson, type JsonSchema, type Values } from '../schema.js';

export interface SubmitResult {
  /** Messages for individual fields (from the server's violations). */
  fields?: Record<string, string>;
  /** A message for the form as a whole. */
  form?: string;
}

interface Props {
  id: string;
  schema: JsonSchema;
  submitLabel: string;
  /** Resolves with nothing on success, or with errors to show inline. */
  onSubmit: (values: Record<string, string | number | boolean>) => Promise<SubmitResult | void>;
  onCancel?: () => void;
}

/**
 * A form rendered from a JSON Schema: one labelled control per property,
 * `format: password` masked, required marked, and errors shown next to their
 * field (aria-invalid + aria-describedby) with focus moved to the first one.
 */
export function SchemaForm({ id, schema, submitLabel, onSubmit, onCancel }: Props) {
  const fields = useMemo(() => fieldsOf(schema), [schema]);
  const [values, setValues] = useState<Values>(() =>
    Object.fromEntries(
      fields.map((f) => [f.name, f.kind === 'checkbox' ? f.schema.default === true : typeof f.schema.default === 'string' ? f.schema.default : '']),
    ),
  );
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [formError, setFormError] = useState('');
  const [busy, setBusy] = useState(false);
  const formRef = useRef<HTMLFormElement>(null);

  const focusFirstInvalid = (names: string[]) => {
    const first = fields.find((f) => names.includes(f.name));
    if (first) requestAnimationFrame(() => formRef.current?.querySelector<HTMLElement>(`#${id}-${cssId(first.name)}`)?.focus());
  };

  const submit = async (e: Event) => {
    e.preventDefault();
    if (busy) return;
    setFormError('');
    const local = check(fields, values);
    setErrors(local);
    if (Object.keys(local).length > 0) {
      focusFirstInvalid(Object.keys(local));
      return;
    }
    setBusy(true);
    try {
      const result = await onSubmit(toJson(fields, values));
      if (result) {
        const known = Object.fromEntries(Object.entries(result.fields ?? {}).filter(([k]) => fields.some((f) => f.name === k)));
        setErrors(known);
        setFormError(result.form ?? '');
        focusFirstInvalid(Object.keys(known));
      }
    } finally {
      setBusy(false);
    }
  };

  return (
    <form ref={formRef} id={id} class="schema-form" noValidate onSubmit={submit}>
      {fields.map((f) => {
        const inputId = `${id}-${cssId(f.name)}`;
        const error = errors[f.name];
        const describedBy = [f.description ? `${inputId}-hint` : '', error ? `${inputId}-error` : ''].filter(Boolean).join(' ') || undefined;
        const set = (v: string | boolean) => setValues((prev) => ({ ...prev, [f.name]: v }));
        const common = {
          id: inputId,
          name: f.name,
          'aria-invalid': error ? ('true' as const) : undefined,
          'aria-describedby': describedBy,
          'aria-required': f.required ? ('true' as const) : undefined,
        };
        return (
          <div class={`field${error ? ' invalid' : ''}`} key={f.name}>
            {f.kind === 'checkbox' ? (
              <label class="checkbox" for={inputId}>
                <input {...common} type="checkbox" checked={values[f.name] === true} onChange={(e) => set((e.currentTarget as HTMLInputElement).checked)} />
                {f.label}
              </label>
            ) : (
              <>
                <label for={inputId}>
                  {f.label}
                  {f.required ? <span aria-hidden="true"> *</span> : <span class="optional"> (optional)</span>}
                </label>
                {f.kind === 'select' ? (
                  <select {...common} value={String(values[f.name] ?? '')} onChange={(e) => set((e.currentTarget as HTMLSelectElement).value)}>
                    <option value="">Choose…</option>
                    {f.options.map((o) => (
                      <option key={o} value={o}>
                        {o}
                      </option>
                    ))}
                  </select>
                ) : (
                  <input
                    {...common}
                    // Preact types `type` as a union per input kind; any of the three fits here.
                    type={(f.kind === 'password' ? 'password' : f.kind === 'number' ? 'number' : 'text') as 'text'}
                    inputMode={f.kind === 'number' ? 'decimal' : undefined}
                    autoComplete={f.kind === 'password' ? 'new-password' : 'off'}
                    spellcheck={false}
                    placeholder={f.placeholder || undefined}
                    value={String(values[f.name] ?? '')}
                    onInput={(e) => set((e.currentTarget as HTMLInputElement).value)}
                  />
                )}
              </>
            )}
            {f.description && (
              <p class="hint" id={`${inputId}-hint`}>
                {f.description}
              </p>
            )}
            {error && (
              <p class="field-error" id={`${inputId}-error`}>
                {error}
              </p>
            )}
          </div>
        );
      })}
      <div class="form-error" role="alert">
        {formError}
      </div>
      <div class="actions">
        {onCancel && (
          <button type="button" class="button secondary" onClick={onCancel}>
            Cancel
          </button>
        )}
        <button type="submit" class="button primary" disabled={busy} aria-busy={busy}>
          {busy ? 'Saving…' : submitLabel}
        </button>
      </div>
    </form>
  );
}

function cssId(name: string): string {
  return name.replace(/[^A-Za-z0-9_-]/g, '_');
}
