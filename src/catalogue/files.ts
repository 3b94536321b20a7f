import { z } from 'zod'

// The shapes of the reviewed data files in catalogue/ (see catalogue/README.md).

const isoDate = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'must be a date like 2022-11-24')
const leadProvider = z.enum(['edt', 'ucl', 'ambition'])
const cohortId = z.string().regex(/^[0-9]{4}-(autumn|spring)$/, 'must be a cohort like 2022-autumn')
const declarationType = z.enum(['started', 'retained-1', 'retained-2', 'completed'])
const courseGroup = z.enum(['specialist', 'leadership', 'ehco'])
const source = z.string().min(1, 'every record says where it comes from')

export const activityFile = z.strictObject({
  code: z.string().regex(/^[A-Z]+(-[A-Za-z0-9.]+)+$/, 'must be an activity code like NPQH-B1-S1.1a'),
  component: z.string().min(1),
  title: z.string().min(1),
  duration_minutes: z.number().int().positive().nullable().optional(),
  credits: z.number().int().nonnegative().optional(),
  source: source.optional(),
})

export type ActivityFile = z.infer<typeof activityFile>

const blockFile = z.strictObject({
  block: z.number().int().positive(),
  title: z.string().nullable().optional(),
  provisional: z.boolean().default(false),
  stated_total: z.number().int().nonnegative().nullable().optional(),
  source,
  activities: z.array(activityFile).min(1),
})

export const weightedComponents = ['INDUCTION', 'SDL', 'PLG', 'F2F', 'FORUM', 'FAT', 'CONSOLIDATION', 'MEETING'] as const

const componentFile = z.strictObject({
  component: z.enum(weightedComponents),
  title: z.string().min(1),
  required: z.number().int().positive(),
  weight: z.number().positive(),
  tracked_by: z.enum(['register', 'learning-platform', 'meeting-log']),
  source,
})

const designCommon = {
  lead_provider: leadProvider,
  course_identifier: z.string(),
  source,
}

export const designFile = z.discriminatedUnion('style', [
  z.strictObject({
    ...designCommon,
    style: z.literal('credits'),
    stated_total: z.number().int().nonnegative().nullable(),
    blocks: z.array(blockFile).min(1),
  }),
  z.strictObject({
    ...designCommon,
    style: z.literal('weighted'),
    components: z.array(componentFile).min(1),
  }),
  z.strictObject({
    ...designCommon,
    style: z.literal('items'),
    programme_activities: z.array(activityFile).default([]),
    blocks: z.array(blockFile).default([]),
  }),
])
export type DesignFile = z.infer<typeof designFile>

const outputFile = z.strictObject({
  declaration_type: declarationType,
  share_percent: z.number().positive().max(100).nullable().optional(),
  review_date: isoDate.nullable(),
  invoice_date: isoDate.nullable().optional(),
  payment_date: isoDate.nullable().optional(),
  source: source.optional(),
})

export const scheduleFile = z.strictObject({
  lead_provider: z.enum(['edt', 'ucl', 'ambition', 'dfe']),
  source,
  cohorts: z
    .array(
      z.strictObject({
        cohort: cohortId,
        label: z.string().optional(),
        starts_on: isoDate.nullable().optional(),
        self_reporting: z.boolean().default(false),
        course_groups: z.array(
          z.strictObject({
            course_group: courseGroup,
            schedule_identifier: z.string().optional(),
            courses: z.array(z.string()).min(1),
            source: source.optional(),
            outputs: z.array(outputFile).min(1),
          }),
        ),
      }),
    )
    .min(1),
})
export type ScheduleFile = z.infer<typeof scheduleFile>

export const policyFile = z.strictObject({
  lead_provider: leadProvider,
  source,
  cohort_start_months: z.array(z.number().int().min(1).max(12)).min(1).nullable(),
  assessment: z.strictObject({
    max_words: z.number().int().positive().nullable(),
    min_words: z.number().int().positive().nullable(),
    attempts: z.number().int().min(1).max(3),
  }),
  meetings_required: z.strictObject({
    specialist: z.number().int().min(0),
    leadership: z.number().int().min(0),
    ehco: z.number().int().min(0),
  }),
  removal_sign_off: z.enum(['delivery-partner', 'delivery-partner-and-lead-provider']),
  /** Years a participant's personal data is kept after their last enrolment ends (src/privacy); an assumption, default 7. */
  retention_years_after_completion: z.number().int().min(1).max(100).default(7),
})
export type PolicyFile = z.infer<typeof policyFile>
