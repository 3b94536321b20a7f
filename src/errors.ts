// Errors with stable codes; web and API map them to HTTP statuses in one place (web/errors.ts).

export type ErrorCode =
  | 'not-found'
  | 'forbidden'
  | 'unauthenticated'
  | 'validation-failed'
  | 'unprocessable'
  | 'conflict'
  | 'invalid-transition'
  | 'rate-limited'
  | 'csrf-failed'

export const statusOfCode: Record<ErrorCode, number> = {
  'not-found': 404,
  forbidden: 403,
  unauthenticated: 401,
  'validation-failed': 400,
  unprocessable: 422,
  conflict: 409,
  'invalid-transition': 409,
  'rate-limited': 429,
  'csrf-failed': 403,
}

export type FieldError = { field: string; message: string }

export class AppError extends Error {
  readonly code: ErrorCode
  readonly fieldErrors: FieldError[]
  constructor(code: ErrorCode, message: string, fieldErrors: FieldError[] = []) {
    super(message)
    this.code = code
    this.fieldErrors = fieldErrors
  }
}

export const notFound = (what = 'Page') => new AppError('not-found', `${what} not found`)
export const forbidden = () => new AppError('forbidden', 'You do not have permission to do this')
