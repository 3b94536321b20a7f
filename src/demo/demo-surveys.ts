import { recordAudit } from '../audit/audit.ts'
import { londonDateOf } from '../dates/london.ts'
import type { Services } from '../services.ts'
import { surveyActivityOk } from '../surveys/surveys.ts'

// Demo surveys: EDT's NPQH block 1 end-of-block survey, open from a week before the demo was loaded
// for four weeks, so it is due to Priya (block 1 has long gone live for her 2022 cohort). Added once.

export const demoSurveyTitle = 'Block 1 feedback'

export async function addDemoSurveys(services: Services, progress: (line: string) => void): Promise<number> {
  const { db, catalogue } = services
  const edt = await db
    .selectFrom('organisations')
    .select(['id', 'code'])
    .where('kind', '=', 'lead-provider')
    .where('code', '=', 'edt')
    .executeTakeFirst()
  const admin = await db.selectFrom('users').select('id').where('email', '=', 'lead-provider-admin@demo.test').executeTakeFirst()
  if (!edt || !admin) return 0
  const exists = await db
    .selectFrom('surveys')
    .select('id')
    .where('lead_provider_id', '=', edt.id)
    .where('title', '=', demoSurveyTitle)
    .executeTakeFirst()
  if (exists) return 0
  const day = (offset: number) => londonDateOf(new Date(Date.now() + offset * 86_400_000))
  const activity = surveyActivityOk(catalogue, edt.code, 'npq-headship', 'NPQH-B1-SURVEY') ? 'NPQH-B1-SURVEY' : null
  const input = {
    lead_provider_id: edt.id,
    kind: 'end-of-block' as const,
    title: demoSurveyTitle,
    course_identifier: 'npq-headship',
    cohort: '2022-autumn',
    block: 1,
    activity_code: activity,
    questions: JSON.stringify([
      { id: 'q1', kind: 'rating', text: 'How useful was block 1 for your role?' },
      {
        id: 'q2',
        kind: 'choice',
        text: 'How much of the self-study did you complete?',
        options: ['All of it', 'Most of it', 'Some of it', 'None of it'],
      },
      { id: 'q3', kind: 'text', text: 'What one thing would improve block 1?' },
    ]),
    opens_on: day(-7),
    closes_on: day(21),
    created_by: admin.id,
  }
  const row = await db.insertInto('surveys').values(input).returning('id').executeTakeFirstOrThrow()
  await recordAudit(db, {
    by: { kind: 'system', name: 'demo' },
    action: 'survey.created',
    entityType: 'survey',
    entityId: row.id,
    after: { title: demoSurveyTitle },
  })
  progress(`Surveys: 1 (${demoSurveyTitle}, due to participant@demo.test)`)
  return 1
}
