import { loadUserPrincipal } from '../accounts/principals.ts'
import { addDays } from '../applications/deadlines.ts'
import { assessmentPolicy } from '../assessment/windows.ts'
import { countWords } from '../assessment/words.ts'
import { recordAudit } from '../audit/audit.ts'
import { londonDateOf } from '../dates/london.ts'
import type { Trx } from '../db/database.ts'
import type { Principal } from '../policy/principal.ts'
import type { Services } from '../services.ts'

// The summative assessment (issue 8) in use for the demo lead provider EDT (lead-provider-admin@demo.test):
//   open     a window open today (day 1 was two days ago) with its case study released, and one participant
//            entered (over 90% engagement at the deadline) with a saved draft, not submitted yet;
//   closed   a window that closed two weeks ago with every entered participant's response submitted: scripts
//            for the admin to allocate (to assessor@demo.test) and then to mark. Not allocated here, so the
//            demo assessor's own list starts empty, as the marking tests expect.
//
// The open window is for EDT's NPQSL cohort at East Coast (2022-spring), the first of its participants by
// name entered; the closed one for EDT's NPQLTD cohort at East Coast (2021-autumn). Not Priya Patel's NPQH (participant@demo.test), whose windows, entries and results the
// assessment and marking tests make for themselves from nothing, nor North Star's generated NPQH places,
// which the marking tests enter alongside her.
//
// Inserted directly (day 1 is in the past, which the admin's form refuses), with entries_decided_at set so
// the daily job does not decide entries again (it keys on that column); the open window's day 8 is ahead
// and the closed window's entries are submitted, so the job's outcomes leave both alone. Runs after the rest of the
// demo is committed; finds any window of EDT for this course and cohort first, so a second load (on any
// day) creates nothing.

const deliveryPartner = 'east-coast-tsh'
const open = { course: 'npq-senior-leadership', cohort: '2022-spring' }
const closed = { course: 'npq-leading-teaching-development', cohort: '2021-autumn' }

const caseStudyTitle = 'Brookfield Academy: closing the attendance gap'
const caseStudy = [
  'You have just become deputy headteacher of Brookfield Academy, an 11–16 school of 1,050 pupils in a town on the edge of a city. ' +
    'Overall attendance is 91%, but for pupils eligible for free school meals it is 85%, and one in four of them is persistently absent. ' +
    'The gap has widened for three years running, and the headteacher has asked you to lead the school’s response from September.',
  'Staff explain the problem in different ways. Heads of year say families do not value school; the attendance officer spends most of her ' +
    'week on first-day calls and has little time for anything else; several form tutors say they do not know which of their pupils are at ' +
    'risk until letters have already gone home. Pupils in a recent survey said lessons in Year 9 felt repetitive, and a small group said ' +
    'they stayed at home when they were behind with coursework.',
  'Governors want a clear plan by the end of the autumn term, and the trust expects attendance of disadvantaged pupils to rise by at least ' +
    'two percentage points within the year. Your budget for the work is modest, and two experienced pastoral staff leave at Christmas. ' +
    'Set out how you would diagnose the causes, decide what to change, bring staff with you and judge whether it is working.',
].join('\n\n')

const draft = [
  'Before deciding what to change I would want to understand why disadvantaged pupils are absent, rather than accept the explanations ' +
    'staff already hold. I would start with the attendance data by year group, day of the week and subject, and ask tutors to talk to ' +
    'the twenty pupils with the lowest attendance and their families.',
  'I would then set up a small working group of a head of year, the attendance officer and two form tutors, so that the plan is shaped ' +
    'by the people who will carry it out.',
].join('\n\n')

const closedTitle = 'Millbrook Primary: making staff development stick'
const closedCaseStudy = [
  'You lead teacher development at Millbrook Primary, a two-form entry school where a third of the teachers are in their first five ' +
    'years. Every teacher attends six twilight sessions a year, and feedback on them is good, but lesson visits show little change in ' +
    'how questioning and feedback are used in classrooms.',
  'The headteacher wants the sessions replaced by something that makes a difference to pupils. Some experienced teachers are wary of ' +
    'coaching, which was tried four years ago and dropped; early career teachers say they would value more time in each other’s lessons.',
  'Explain how you would design, deliver and evaluate a year of professional development in questioning for Millbrook’s teachers, ' +
    'drawing on what is known about effective professional development.',
].join('\n\n')

const responses = [
  'I would begin by agreeing with the headteacher what better questioning would look like in Millbrook’s classrooms, using short ' +
    'lesson visits and pupils’ work to find where it breaks down. The twilight sessions would become a sequence: a model of the technique, ' +
    'rehearsal with colleagues, a chance to try it in class and a short follow-up to reflect on what happened.\n\n' +
    'To win over the experienced teachers I would start with volunteers and share what changes for pupils, not impose coaching on everyone.',
  'Effective professional development builds knowledge, motivates staff, develops techniques and embeds practice. I would plan the year ' +
    'around one technique each half term, with instructional coaching for early career teachers and peer observation in pairs for the rest.\n\n' +
    'I would judge success by what pupils say and write in lessons, collected at the start, middle and end of the year, and adjust the ' +
    'programme at each half term.',
  'The main risk is that the programme becomes another set of sessions. I would protect time in the calendar for teachers to watch each ' +
    'other, ask phase leaders to model the techniques and keep the focus narrow: questioning to check understanding before moving on.\n\n' +
    'At the end of the year I would report to governors on changes in practice and in pupils’ answers, and decide with staff what to keep.',
]

type Demo = { db: Services['db']; catalogue: Services['catalogue']; leadId: string; adminUserId: string; admin: Principal; today: string }

export async function addDemoAssessment(services: Services, progress: (line: string) => void = () => {}): Promise<number> {
  const { db } = services
  progress('demo: assessment')
  const lead = await db
    .selectFrom('organisations')
    .select('id')
    .where('kind', '=', 'lead-provider')
    .where('code', '=', 'edt')
    .executeTakeFirstOrThrow()
  const adminUser = await db.selectFrom('users').select('id').where('email', '=', 'lead-provider-admin@demo.test').executeTakeFirstOrThrow()
  const admin = await loadUserPrincipal(db, adminUser.id)
  if (admin?.kind !== 'user') throw new Error('The demo account lead-provider-admin@demo.test is not active')
  const demo: Demo = {
    db,
    catalogue: services.catalogue,
    leadId: lead.id,
    adminUserId: adminUser.id,
    admin,
    today: londonDateOf(new Date()),
  }
  return (await addOpenWindow(demo)) + (await addClosedWindow(demo))
}

/** EDT's window for the course and cohort, if the demo (or anyone) has made one. */
const hasWindow = async (demo: Demo, spec: { course: string; cohort: string }) =>
  Boolean(
    await demo.db
      .selectFrom('assessment_windows')
      .select('id')
      .where('lead_provider_id', '=', demo.leadId)
      .where('course_identifier', '=', spec.course)
      .where('cohort', '=', spec.cohort)
      .executeTakeFirst(),
  )

/** The active enrolments of EDT's East Coast cohort, by name. */
const enrolmentsOf = (demo: Demo, spec: { course: string; cohort: string }) =>
  demo.db
    .selectFrom('enrolments as e')
    .innerJoin('participants as p', 'p.id', 'e.participant_id')
    .innerJoin('organisations as dp', 'dp.id', 'e.delivery_partner_id')
    .select('e.id')
    .where('e.lead_provider_id', '=', demo.leadId)
    .where('e.course_identifier', '=', spec.course)
    .where('e.cohort', '=', spec.cohort)
    .where('dp.code', '=', deliveryPartner)
    .where('e.status', '=', 'active')
    .orderBy('p.full_name')
    .orderBy('e.id')
    .execute()

async function insertWindow(
  demo: Demo,
  trx: Trx,
  spec: { course: string; cohort: string },
  opensOn: string,
  title: string,
  text: string,
): Promise<string> {
  const maxWords = assessmentPolicy(demo.catalogue, 'edt').maxWords
  const window = await trx
    .insertInto('assessment_windows')
    .values({
      lead_provider_id: demo.leadId,
      course_identifier: spec.course,
      cohort: spec.cohort,
      opens_on: opensOn,
      closes_on: addDays(opensOn, 7),
      engagement_deadline: addDays(opensOn, -7),
      max_words: maxWords,
      case_study_title: title,
      case_study: text,
      created_by: demo.adminUserId,
      entries_decided_at: new Date(),
    })
    .returning('id')
    .executeTakeFirstOrThrow()
  await recordAudit(trx, {
    by: demo.admin,
    action: 'assessment-window.created',
    entityType: 'assessment_window',
    entityId: window.id,
    after: { course: spec.course, cohort: spec.cohort, opensOn, maxWords, caseStudyTitle: title, caseStudy: `${text.length} characters` },
  })
  return window.id
}

/** Day 1 two days ago; the first participant by name entered, with a draft saved and not submitted. */
async function addOpenWindow(demo: Demo): Promise<number> {
  if (await hasWindow(demo, open)) return 0
  const [participant] = await enrolmentsOf(demo, open)
  if (!participant) return 0
  const now = new Date()
  await demo.db.transaction().execute(async (trx) => {
    const windowId = await insertWindow(demo, trx, open, addDays(demo.today, -2), caseStudyTitle, caseStudy)
    await trx
      .insertInto('assessment_entries')
      .values({
        window_id: windowId,
        enrolment_id: participant.id,
        attempt: 1,
        decision: 'entered',
        engagement_percent: 92.5,
        decided_at: now,
        draft,
        draft_word_count: countWords(draft),
        draft_saved_at: now,
      })
      .execute()
  })
  return 2
}

/** Closed two weeks ago: every participant (up to three) entered and submitted; scripts not allocated yet. */
async function addClosedWindow(demo: Demo): Promise<number> {
  if (await hasWindow(demo, closed)) return 0
  const participants = (await enrolmentsOf(demo, closed)).slice(0, responses.length)
  if (!participants.length) return 0
  const opensOn = addDays(demo.today, -21)
  await demo.db.transaction().execute(async (trx) => {
    const windowId = await insertWindow(demo, trx, closed, opensOn, closedTitle, closedCaseStudy)
    for (const [i, p] of participants.entries()) {
      const text = responses[i]!
      await trx
        .insertInto('assessment_entries')
        .values({
          window_id: windowId,
          enrolment_id: p.id,
          attempt: 1,
          decision: 'entered',
          engagement_percent: 94 + i,
          decided_at: new Date(`${addDays(opensOn, -6)}T00:20:00Z`),
          draft: text,
          draft_word_count: countWords(text),
          draft_saved_at: new Date(`${addDays(opensOn, 3 + i)}T16:00:00Z`),
          submitted_text: text,
          submitted_word_count: countWords(text),
          submitted_at: new Date(`${addDays(opensOn, 3 + i)}T16:05:00Z`),
          outcome: 'submitted',
        })
        .execute()
    }
  })
  return 1 + participants.length
}
