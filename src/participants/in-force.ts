import { sql, type ExpressionBuilder } from 'kysely'
import type { Schema } from '../db/schema.ts'

// Which deferrals and withdrawals count (issue 7). Rows are evidence and never deleted, so a
// withdrawal reversed by a lead-provider admin stays, marked reinstated, and no longer counts; a
// deferral ends on the day the enrolment resumed, or else on its planned return date.

/** A withdrawal that has not been reversed. */
export const withdrawalInForce = (eb: ExpressionBuilder<Schema, 'withdrawals'>) => eb('withdrawals.reinstated_on', 'is', null)

/** The first day a deferral no longer applies: the day resumed, else the planned return (null: open-ended). */
export const deferralEnd = sql<string | null>`coalesce(deferrals.resumed_on, deferrals.planned_return_on)`

/** Deferred on a London date: started by then and not yet ended. */
export const deferredOn = (date: string) => (eb: ExpressionBuilder<Schema, 'deferrals'>) =>
  eb.and([eb('deferrals.deferred_on', '<=', date), eb.or([eb(deferralEnd, 'is', null), eb(deferralEnd, '>', date)])])
