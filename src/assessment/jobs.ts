import { sql } from 'kysely'
import { z } from 'zod'
import { recordAudit } from '../audit/audit.ts'
import type { Db, Trx } from '../db/database.ts'
import { engagementAsOf } from '../engagement/engine.ts'
import { loadEvidence } from '../engagement/evidence.ts'
import { defineJob, type JobDefinition } from '../jobs/queue.ts'
import type { Principal } from '../policy/principal.ts'
import type { Services } from '../services.ts'
import {
  attemptState,
  entryDecision,
  entryEmail,
  entryHistory,
  recordedPercent,
  selectEnrolmentPeople,
  type EnrolmentPerson,
} from './entry.ts'
import { assessmentPolicy, courseName, londonToday, selectWindows, toWindow, type Window } from './windows.ts'
import { formatDate } from '../escalations/cases.ts'

// The daily assessment job: entry decisions after each window's 90% deadline, and outcomes after each
// window's day 8. Both are idempotent (entries_decided_at and the unique (window, enrolment); an
// outcome is set once), so running again, or twice in a day, changes nothing.

export type AssessmentDeps = Pick<Services, 'db' | 'email' | 'config' | 'catalogue' | 'designs'>

const system: Principal = { kind: 'system', name: 'assessment-entry' }

/**
 * The exact engagement ratio of enrolments of one provider, course and cohort as of a date: the same
 * evidence loader and engine as the Engagement report (src/reports/engagement-reports.ts).
 */
export async function engagementRatios(
  deps: Pick<AssessmentDeps, 'catalogue' | 'designs'>,
  db: Db | Trx,
  scope: { leadProviderId: string; leadProviderCode: string; course: string; cohort: string; participantIds?: string[] },
  asOf: string,
): Promise<Map<string, number>> {
  const ratios = new Map<string, number>()
  const design = await deps.designs.designForCohort(scope.leadProviderCode, scope.course, scope.cohort, db)
  if (!design) return ratios
  const selfReporting = deps.catalogue.cohortOutputs(scope.leadProviderCode, scope.cohort, scope.course)?.selfReporting ?? false
  const enrolments = await loadEvidence(
    db,
    { leadProviderId: scope.leadProviderId, cohort: scope.cohort, courseIdentifier: scope.course, participantIds: scope.participantIds },
    asOf,
    { meetingLogs: design.style === 'weighted' },
  )
  for (const e of enrolments) ratios.set(e.participantId, engagementAsOf(design, e.evidence, asOf, { selfReporting }).ratio)
  return ratios
}

/**
 * Entry decisions for every window whose 90% deadline has passed (today is after it: engagement is
 * taken as of the end of the deadline day). Each active or deferred enrolment of the window's provider,
 * course and cohort that has not used an attempt and has nothing pending gets an entry: ≥ 90% entered;
 * below, not entered (an attempt lost) unless a deferral was requested by the deadline (kept). People
 * who have used an attempt sit their next one in a window the lead provider chooses (enterNextAttempt).
 */
export async function decideEntries(deps: AssessmentDeps, today = londonToday()) {
  const { db } = deps
  const due = await selectWindows(db)
    .where('w.entries_decided_at', 'is', null)
    .where('w.engagement_deadline', '<', today)
    .orderBy('w.engagement_deadline')
    .execute()
  const counts = { windows: 0, entered: 0, notEntered: 0, kept: 0 }
  for (const row of due) {
    await db.transaction().execute(async (trx) => {
      const locked = await trx
        .selectFrom('assessment_windows')
        .select('entries_decided_at')
        .where('id', '=', row.id)
        .forUpdate()
        .executeTakeFirstOrThrow()
      if (locked.entries_decided_at) return
      const w = toWindow(row)
      const lp = await trx.selectFrom('organisations').select('code').where('id', '=', w.leadProviderId).executeTakeFirstOrThrow()
      const decided = await decideWindow(deps, trx, w, lp.code)
      await trx.updateTable('assessment_windows').set({ entries_decided_at: new Date() }).where('id', '=', w.id).execute()
      await recordAudit(trx, {
        by: system,
        action: 'assessment-window.entries-decided',
        entityType: 'assessment_window',
        entityId: w.id,
        after: decided,
      })
      counts.windows++
      counts.entered += decided.entered
      counts.notEntered += decided.notEntered
      counts.kept += decided.kept
    })
  }
  return counts
}

async function decideWindow(deps: AssessmentDeps, trx: Trx, w: Window, leadProviderCode: string) {
  const deadline = w.engagementDeadline
  const people: EnrolmentPerson[] = await selectEnrolmentPeople(trx)
    .where('e.lead_provider_id', '=', w.leadProviderId)
    .where('e.course_identifier', '=', w.courseIdentifier)
    .where('e.cohort', '=', w.cohort)
    .where('e.status', 'in', ['active', 'deferred'])
    .orderBy('p.full_name')
    .execute()
  const ids = people.map((p) => p.enrolmentId)
  const history = await entryHistory(trx, ids)
  const ratios = await engagementRatios(
    deps,
    trx,
    { leadProviderId: w.leadProviderId, leadProviderCode, course: w.courseIdentifier, cohort: w.cohort },
    deadline,
  )
  // A deferral asked for by the end of the deadline day (any request not cancelled), or one recorded
  // as starting by then (a deferrals row: the import, or an approved request).
  const deferring = new Set<string>()
  if (ids.length) {
    const requested = await trx
      .selectFrom('deferral_requests')
      .select('enrolment_id')
      .where('enrolment_id', 'in', ids)
      .where('status', '!=', 'cancelled')
      .where(sql<string>`(requested_at at time zone 'Europe/London')::date`, '<=', deadline)
      .execute()
    for (const r of requested) deferring.add(r.enrolment_id)
    const deferrals = await trx
      .selectFrom('deferrals as d')
      .innerJoin('enrolments as e', (join) =>
        join.on((eb) =>
          eb.or([
            eb('e.id', '=', eb.ref('d.enrolment_id')),
            eb.and([eb('d.enrolment_id', 'is', null), eb('e.participant_id', '=', eb.ref('d.participant_id'))]),
          ]),
        ),
      )
      .select('e.id')
      .where('e.id', 'in', ids)
      .where('d.deferred_on', '<=', deadline)
      .execute()
    for (const r of deferrals) deferring.add(r.id)
  }

  const attempts = assessmentPolicy(deps.catalogue, leadProviderCode).attempts
  const decided = { entered: 0, notEntered: 0, kept: 0, skipped: 0 }
  for (const person of people) {
    const past = history.get(person.enrolmentId) ?? []
    const state = attemptState(past, attempts)
    if (past.some((h) => h.windowId === w.id) || state.used > 0 || state.pending || state.passed) {
      decided.skipped++
      continue
    }
    const ratio = ratios.get(person.participantId) ?? 0
    const decision = entryDecision({ ratio, deferralRequestedByDeadline: deferring.has(person.enrolmentId) })
    const percent = recordedPercent(ratio)
    const inserted = await trx
      .insertInto('assessment_entries')
      .values({ window_id: w.id, enrolment_id: person.enrolmentId, attempt: state.used + 1, decision, engagement_percent: percent })
      .onConflict((oc) => oc.columns(['window_id', 'enrolment_id']).doNothing())
      .returning('id')
      .executeTakeFirst()
    if (!inserted) continue
    await recordAudit(trx, {
      by: system,
      action: `assessment-entry.${decision}`,
      entityType: 'assessment_entry',
      entityId: inserted.id,
      after: { enrolment_id: person.enrolmentId, window_id: w.id, engagement_percent: percent, attempt: state.used + 1 },
    })
    await deps.email.queue(trx, entryEmail(deps, person, w, decision, state.used + 1, percent))
    if (decision === 'entered') decided.entered++
    else if (decision === 'kept') decided.kept++
    else decided.notEntered++
  }
  return decided
}

/**
 * After day 8 (London): every entered participant who did not submit loses the attempt, unless their
 * extenuating circumstances are accepted (then it is kept). A request still waiting for a decision does
 * not stop the outcome: an acceptance later changes it to kept.
 */
export async function closeWindows(deps: AssessmentDeps, today = londonToday()) {
  const { db } = deps
  const open = await db
    .selectFrom('assessment_entries as a')
    .innerJoin('assessment_windows as w', 'w.id', 'a.window_id')
    .select(['a.id', 'a.enrolment_id', 'w.id as window_id'])
    .where('a.decision', '=', 'entered')
    .where('a.outcome', 'is', null)
    .where('a.submitted_at', 'is', null)
    .where('w.closes_on', '<', today)
    .execute()
  let lost = 0
  let kept = 0
  for (const entry of open) {
    await db.transaction().execute(async (trx) => {
      const accepted = await trx
        .selectFrom('extenuating_circumstances')
        .select('id')
        .where('entry_id', '=', entry.id)
        .where('decision', '=', 'accepted')
        .executeTakeFirst()
      const outcome = accepted ? 'kept' : 'lost'
      const changed = await trx
        .updateTable('assessment_entries')
        .set({ outcome })
        .where('id', '=', entry.id)
        .where('outcome', 'is', null)
        .where('submitted_at', 'is', null)
        .returning('id')
        .executeTakeFirst()
      if (!changed) return
      await recordAudit(trx, {
        by: system,
        action: `assessment-entry.${outcome}`,
        entityType: 'assessment_entry',
        entityId: entry.id,
        after: { outcome },
      })
      if (outcome === 'kept') {
        kept++
        return
      }
      lost++
      const w = toWindow(await selectWindows(trx).where('w.id', '=', entry.window_id).executeTakeFirstOrThrow())
      const person = await selectEnrolmentPeople(trx).where('e.id', '=', entry.enrolment_id).executeTakeFirstOrThrow()
      await deps.email.queue(trx, {
        to: person.email,
        subject: `Your ${courseName(w.courseIdentifier)} assessment was not submitted`,
        body:
          [
            `Hello ${person.fullName},`,
            `No response was submitted by the end of ${formatDate(w.closesOn)}, so this attempt is lost.`,
            'If something outside your control stopped you, you can request extenuating circumstances within 5 days of the window closing:',
            `${deps.config.baseUrl}/participant/assessment`,
          ].join('\n\n') + '\n',
      })
    })
  }
  return { lost, kept }
}

export async function runAssessmentDaily(deps: AssessmentDeps, today = londonToday()) {
  return { entries: await decideEntries(deps, today), closed: await closeWindows(deps, today) }
}

export function assessmentJobDefinitions(deps: AssessmentDeps): JobDefinition[] {
  return [
    defineJob({
      name: 'assessment-daily',
      schema: z.object({}),
      retryLimit: 2,
      retryDelay: 300,
      // Just after midnight: decisions for a deadline that ended yesterday, before day 1 begins.
      schedule: '20 0 * * *',
      handler: async () => {
        await runAssessmentDaily(deps)
      },
    }),
  ]
}
