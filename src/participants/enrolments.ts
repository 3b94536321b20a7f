import type { Db } from '../db/database.ts'
import { findCourse } from '../catalogue/courses.ts'

export type EnrolmentRow = {
  enrolmentId: string
  participantId: string
  fullName: string
  courseIdentifier: string
  courseName: string
  cohort: string
  status: string
  leadProvider: string
  leadProviderCode: string
  deliveryPartner: string | null
  deliveryPartnerCode: string | null
  school: string | null
}

type Scope = {
  participantUserId?: string
  lineManagerUserId?: string
  leadProviderIds?: string[]
  deliveryPartnerIds?: string[]
  schoolIds?: string[]
}

/** Enrolments within one scope (whose they are is decided by the caller through the policy layer). */
export async function listEnrolments(db: Db, scope: Scope): Promise<EnrolmentRow[]> {
  const empty = (ids?: string[]) => ids !== undefined && ids.length === 0
  if (empty(scope.leadProviderIds) || empty(scope.deliveryPartnerIds) || empty(scope.schoolIds)) return []
  let query = db
    .selectFrom('enrolments as e')
    .innerJoin('participants as p', 'p.id', 'e.participant_id')
    .innerJoin('organisations as lp', 'lp.id', 'e.lead_provider_id')
    .leftJoin('organisations as dp', 'dp.id', 'e.delivery_partner_id')
    .leftJoin('organisations as s', 's.id', 'e.school_id')
    .select([
      'e.id as enrolmentId',
      'p.id as participantId',
      'p.full_name as fullName',
      'e.course_identifier as courseIdentifier',
      'e.cohort',
      'e.status',
      'lp.name as leadProvider',
      'lp.code as leadProviderCode',
      'dp.name as deliveryPartner',
      'dp.code as deliveryPartnerCode',
      's.name as school',
    ])
  if (scope.participantUserId) query = query.where('p.user_id', '=', scope.participantUserId)
  if (scope.lineManagerUserId) query = query.where('e.line_manager_user_id', '=', scope.lineManagerUserId)
  if (scope.leadProviderIds) query = query.where('e.lead_provider_id', 'in', scope.leadProviderIds)
  if (scope.deliveryPartnerIds) query = query.where('e.delivery_partner_id', 'in', scope.deliveryPartnerIds)
  if (scope.schoolIds) query = query.where('e.school_id', 'in', scope.schoolIds)
  const rows = await query.orderBy('p.full_name').orderBy('e.course_identifier').execute()
  return rows.map((r) => ({ ...r, courseName: findCourse(r.courseIdentifier)?.name ?? r.courseIdentifier }))
}

export type EnrolmentCount = {
  leadProvider: string
  deliveryPartner: string | null
  courseIdentifier: string
  courseName: string
  cohort: string
  total: number
  active: number
}

/**
 * How many enrolments a scope holds per lead provider, delivery partner, course and cohort, counted in
 * the database: a staff Home at national scale (thousands of participants) shows these, never every row.
 */
export async function countEnrolments(db: Db, scope: Pick<Scope, 'leadProviderIds' | 'deliveryPartnerIds'>): Promise<EnrolmentCount[]> {
  const empty = (ids?: string[]) => ids !== undefined && ids.length === 0
  if (empty(scope.leadProviderIds) || empty(scope.deliveryPartnerIds)) return []
  // Counted by ids first (an index-only scan of enrolments_dashboard_status), then named.
  let counts = db
    .selectFrom('enrolments as e')
    .select((eb) => [
      'e.lead_provider_id',
      'e.delivery_partner_id',
      'e.course_identifier',
      'e.cohort',
      eb.fn.countAll<number>().as('total'),
      eb.fn.countAll<number>().filterWhere('e.status', '=', 'active').as('active'),
    ])
  if (scope.leadProviderIds) counts = counts.where('e.lead_provider_id', 'in', scope.leadProviderIds)
  if (scope.deliveryPartnerIds) counts = counts.where('e.delivery_partner_id', 'in', scope.deliveryPartnerIds)
  const rows = await db
    .with('c', () => counts.groupBy(['e.lead_provider_id', 'e.delivery_partner_id', 'e.course_identifier', 'e.cohort']))
    .selectFrom('c')
    .innerJoin('organisations as lp', 'lp.id', 'c.lead_provider_id')
    .leftJoin('organisations as dp', 'dp.id', 'c.delivery_partner_id')
    .select([
      'lp.name as leadProvider',
      'dp.name as deliveryPartner',
      'c.course_identifier as courseIdentifier',
      'c.cohort',
      'c.total',
      'c.active',
    ])
    .execute()
  return rows.map((r) => ({
    ...r,
    total: Number(r.total),
    active: Number(r.active),
    courseName: findCourse(r.courseIdentifier)?.name ?? r.courseIdentifier,
  }))
}
