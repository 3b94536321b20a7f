import type { z } from 'zod'
import type { FieldError } from '../errors.ts'

// A failed form re-renders with status 400, field-keyed errors for the inputs and an error list
// for govukErrorSummary (as GOV.UK One Login does); the page title then starts with "Error: ".

export type FormErrors = {
  errors: Record<string, { text: string }>
  errorList: { text: string; href: string }[]
}

export function formErrors(fieldErrors: FieldError[]): FormErrors {
  const errors: Record<string, { text: string }> = {}
  const errorList: { text: string; href: string }[] = []
  for (const { field, message } of fieldErrors) {
    if (errors[field]) continue
    errors[field] = { text: message }
    errorList.push({ text: message, href: `#${field}` })
  }
  return { errors, errorList }
}

export function zodFieldErrors(error: z.ZodError): FieldError[] {
  return error.issues.map((issue) => ({ field: String(issue.path[0] ?? 'form'), message: issue.message }))
}

/** Parses a form body with a schema; on failure returns the errors ready for the template. */
export function parseForm<S extends z.ZodType>(schema: S, body: unknown): { ok: true; data: z.infer<S> } | { ok: false; form: FormErrors } {
  const result = schema.safeParse(body ?? {})
  return result.success ? { ok: true, data: result.data } : { ok: false, form: formErrors(zodFieldErrors(result.error)) }
}
