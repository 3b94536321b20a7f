import type { ColumnType, Generated } from 'kysely'

// Table types for learning audits, journals, people groups, contacts, safeguarding concerns and
// facilitators' records (migration 0020); part of the database Schema in src/db/schema.ts.

type Time = ColumnType<Date, Date | string | undefined, Date | string>
type MaybeTime = ColumnType<Date | null, Date | string | null | undefined, Date | string | null>
type Maybe<T> = ColumnType<T | null, T | null | undefined, T | null>
type Defaulted<T> = ColumnType<T, T | undefined, T>
/** A `date` column, read as YYYY-MM-DD text (the pg type parser returns text for dates). */
type DateText = ColumnType<string, string, string>

export const peopleGroupKinds = ['buddies', 'clinic-group', 'community', 'peer-learning-group'] as const
export type PeopleGroupKind = (typeof peopleGroupKinds)[number]

export const observationRatings = ['excellent', 'good', 'requires-improvement', 'inadequate'] as const
export type ObservationRating = (typeof observationRatings)[number]

export type ConcernStatus = 'open' | 'acknowledged' | 'closed'

export interface LearningAuditsTable {
  id: Generated<string>
  enrolment_id: string
  taken_on: DateText
  ratings: ColumnType<Record<string, number>, string, string>
  note: Defaulted<string>
  created_by: Maybe<string>
  created_at: Time
}

export interface JournalEntriesTable {
  id: Generated<string>
  user_id: string
  entry_on: DateText
  title: string
  body: string
  enrolment_id: Maybe<string>
  block: Maybe<string>
  created_at: Time
  updated_at: Time
}

export interface PeopleGroupsTable {
  id: Generated<string>
  delivery_partner_id: string
  kind: PeopleGroupKind
  name: string
  course_identifier: Maybe<string>
  cohort: Maybe<string>
  description: Defaulted<string>
  created_by: Maybe<string>
  created_at: Time
}

export interface PeopleGroupMembersTable {
  group_id: string
  enrolment_id: string
  added_by: Maybe<string>
  added_at: Time
}

export interface ProgrammeContactsTable {
  lead_provider_id: string
  kind: 'programme' | 'technical-help'
  name: string
  email: string
  phone: Defaulted<string>
  updated_by: Maybe<string>
  updated_at: Time
}

export interface DeliveryPartnerContactsTable {
  delivery_partner_id: string
  /** '' for every course. */
  course_identifier: Defaulted<string>
  user_id: string
  updated_by: Maybe<string>
  updated_at: Time
}

export interface SafeguardingLeadsTable {
  organisation_id: string
  user_id: string
  named_by: Maybe<string>
  named_at: Time
}

export interface SafeguardingConcernsTable {
  id: Generated<string>
  raised_by: string
  lead_provider_id: string
  delivery_partner_id: Maybe<string>
  concern: string
  immediate_risk: boolean
  contact_by: 'email' | 'phone'
  phone: Defaulted<string>
  status: Defaulted<ConcernStatus>
  raised_at: Time
  acknowledged_at: MaybeTime
  acknowledged_by: Maybe<string>
  closed_at: MaybeTime
  closed_by: Maybe<string>
  outcome: Defaulted<string>
}

export interface FacilitatorObservationsTable {
  id: Generated<string>
  delivery_partner_id: string
  facilitator_user_id: string
  observed_on: DateText
  event_id: Maybe<string>
  session: Defaulted<string>
  observer: string
  strengths: string
  areas_to_develop: string
  rating: ObservationRating
  created_by: Maybe<string>
  created_at: Time
}

export interface PeopleSchema {
  learning_audits: LearningAuditsTable
  journal_entries: JournalEntriesTable
  people_groups: PeopleGroupsTable
  people_group_members: PeopleGroupMembersTable
  programme_contacts: ProgrammeContactsTable
  delivery_partner_contacts: DeliveryPartnerContactsTable
  safeguarding_leads: SafeguardingLeadsTable
  safeguarding_concerns: SafeguardingConcernsTable
  facilitator_observations: FacilitatorObservationsTable
}
