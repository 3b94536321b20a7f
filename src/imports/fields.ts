import { z } from 'zod'
import { courseIdentifiers } from '../catalogue/courses.ts'

// Column types shared by the import kinds (and the ingest API), with the wording people see.

const isoMoment = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/

/** An ISO 8601 timestamp with an offset or `Z`: a moment that falls on one London date. */
export const moment = z
  .string()
  .refine(
    (s) => isoMoment.test(s) && !Number.isNaN(Date.parse(s)),
    'must be an ISO 8601 timestamp with an offset or Z, e.g. 2022-11-24T14:05:00Z',
  )

export const calendarDate = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}$/, 'must be a date like 2023-01-31')
  .refine(
    (s) => !Number.isNaN(Date.parse(`${s}T00:00:00Z`)) && new Date(`${s}T00:00:00Z`).toISOString().startsWith(s),
    'is not a real date',
  )

export const yesNo = z
  .string()
  .toLowerCase()
  .pipe(z.enum(['yes', 'no'], 'must be yes or no'))
  .transform((s) => s === 'yes')

/** An optional column: empty means absent. */
export const optionalText = z
  .string()
  .optional()
  .transform((s) => (s === undefined || s.trim() === '' ? null : s.trim()))

export const percent = z
  .string()
  .optional()
  .transform((s) => (s === undefined || s === '' ? null : Number(s)))
  .pipe(z.number('must be a number from 0 to 100').min(0, 'must be from 0 to 100').max(100, 'must be from 0 to 100').nullable())

export const courseIdentifier = z.enum(courseIdentifiers, 'must be a DfE course identifier, e.g. npq-headship')
