import { sql } from 'kysely'
import { z } from 'zod'
import { recordAudit } from '../audit/audit.ts'
import { londonDateOf } from '../dates/london.ts'
import { formatDate } from '../escalations/cases.ts'
import { defineJob, type JobDefinition } from '../jobs/queue.ts'
import type { Principal } from '../policy/principal.ts'
import type { Services } from '../services.ts'
import { addMonths, didNotReturn, loadEnrolment, requestWithdrawal, resumeEnrolment, type Deps } from './requests.ts'

// The daily deferral check (seed 002 "Re-joining the programme"): within 3 months of the planned
// return the participant is asked to confirm it; on the return date a confirmed return resumes the
// enrolment; with no answer by then, not returning means withdrawing, so a withdrawal request is
// opened for the lead provider to confirm.

const system: Principal = { kind: 'system', name: 'deferral-check' }
const contactedAction = 'deferral.return-contact-sent'

export async function runDeferralCheck(services: Deps & Pick<Services, 'db'>, today = londonDateOf(new Date())) {
  const { db } = services
  const deferred = await db
    .selectFrom('deferrals as d')
    .innerJoin('enrolments as e', 'e.id', 'd.enrolment_id')
    .select(['d.id', 'd.enrolment_id', sql<string>`d.planned_return_on::text`.as('returnOn'), 'd.return_confirmed_at'])
    .where('e.status', '=', 'deferred')
    .where('d.resumed_on', 'is', null)
    .where('d.planned_return_on', 'is not', null)
    .where('d.planned_return_on', '<=', addMonths(today, 3))
    .execute()
  let contacted = 0
  let resumed = 0
  let withdrawalsRequested = 0
  for (const d of deferred) {
    await db.transaction().execute(async (trx) => {
      const e = (await loadEnrolment(trx, d.enrolment_id!))!
      if (d.returnOn <= today && d.return_confirmed_at) {
        await resumeEnrolment(trx, services, system, e.id, d.returnOn, 'Return confirmed by the participant')
        resumed++
        return
      }
      if (d.returnOn <= today) {
        // No answer by the return date: a withdrawal request, once (an open or decided one stops another).
        const exists = await trx
          .selectFrom('withdrawal_requests')
          .select('id')
          .where('enrolment_id', '=', e.id)
          .where('status', 'in', ['requested', 'confirmed'])
          .executeTakeFirst()
        if (exists) return
        await requestWithdrawal(trx, services, system, { enrolmentId: e.id, reason: 'other', details: didNotReturn, plannedOn: d.returnOn })
        withdrawalsRequested++
        return
      }
      const sent = await trx
        .selectFrom('audit_events')
        .select('id')
        .where('action', '=', contactedAction)
        .where('entity_id', '=', d.id)
        .executeTakeFirst()
      if (sent || d.return_confirmed_at) return
      await services.email.queue(trx, {
        to: e.email,
        subject: `Confirm your return to ${e.courseName}`,
        body:
          [
            `Hello ${e.fullName},`,
            `Your deferral from ${e.courseName} ends on ${formatDate(d.returnOn)}. Please confirm whether you are returning:`,
            `${services.config.baseUrl}/participant/enrolments/${e.id}`,
            'If we have not heard from you by then, you will be withdrawn from the course.',
          ].join('\n\n') + '\n',
      })
      await recordAudit(trx, {
        by: system,
        action: contactedAction,
        entityType: 'deferral',
        entityId: d.id,
        after: { return_on: d.returnOn },
      })
      contacted++
    })
  }
  return { contacted, resumed, withdrawalsRequested }
}

export function lifecycleJobDefinitions(services: Deps & Pick<Services, 'db'>): JobDefinition[] {
  return [
    defineJob({
      name: 'deferral-check',
      schema: z.object({}),
      retryLimit: 2,
      retryDelay: 300,
      schedule: '40 6 * * *',
      handler: async () => {
        await runDeferralCheck(services)
      },
    }),
  ]
}
