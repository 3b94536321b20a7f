import type { ForumsSchema } from '../forums/schema.ts'
import type { SurveysSchema } from '../surveys/schema.ts'
import type { ContentSchema } from '../content/schema.ts'
import type { NewsSchema } from '../news/schema.ts'
import type { PeopleSchema } from '../people/schema.ts'
import type { ColumnType, Generated, Insertable, Selectable } from 'kysely'

// Kysely's view of the tables (migrations are the source of truth; keep the two in step).

type Timestamp = ColumnType<Date, Date | string | undefined, Date | string>
type Json = ColumnType<unknown, string | null | undefined, string | null>

export type OrganisationKind = 'lead-provider' | 'delivery-partner' | 'school'

export interface OrganisationsTable {
  id: Generated<string>
  kind: OrganisationKind
  code: string
  name: string
  created_at: Timestamp
}

export interface DeliveryPartnershipsTable {
  lead_provider_id: string
  delivery_partner_id: string
  created_at: Timestamp
}

export interface UsersTable {
  id: Generated<string>
  email: string
  full_name: string
  password_hash: string | null
  status: ColumnType<'invited' | 'active' | 'disabled', 'invited' | 'active' | 'disabled' | undefined>
  is_demo: ColumnType<boolean, boolean | undefined>
  created_at: Timestamp
  last_signed_in_at: Date | null
}

export interface RoleAssignmentsTable {
  id: Generated<string>
  user_id: string
  role: string
  organisation_id: string
  created_at: Timestamp
}

export interface SessionsTable {
  id_hash: string
  user_id: string
  created_at: Timestamp
  last_seen_at: Timestamp
  expires_at: Date
}

export interface OneTimeLinksTable {
  id: Generated<string>
  token_hash: string
  purpose: string
  user_id: string | null
  subject_id: string | null
  expires_at: Date
  used_at: Date | null
  created_at: Timestamp
}

export interface SignInAttemptsTable {
  id: Generated<string>
  email: string
  ip: string
  succeeded: boolean
  attempted_at: Timestamp
}

export interface AuditEventsTable {
  id: Generated<string>
  occurred_at: Timestamp
  actor_user_id: string | null
  actor: string
  action: string
  entity_type: string
  entity_id: string
  before: Json
  after: Json
}

export type EmailStatus = 'queued' | 'sending' | 'sent' | 'failed'

export interface EmailOutboxTable {
  id: Generated<string>
  to_address: string
  subject: string
  body: string
  status: ColumnType<EmailStatus, EmailStatus | undefined>
  attempts: ColumnType<number, number | undefined>
  claimed_at: Date | null
  last_error: string | null
  provider_reference: string | null
  created_at: Timestamp
  sent_at: Date | null
  /** Files sent with the email (an .ics invitation): content as text. */
  attachments: ColumnType<EmailAttachment[] | null, string | null | undefined, string | null>
}

export type EmailAttachment = { filename: string; contentType: string; content: string }

export interface ApiTokensTable {
  id: Generated<string>
  lead_provider_id: string
  name: string
  token_hash: string
  created_at: Timestamp
  last_used_at: Date | null
  revoked_at: Date | null
}

export interface ParticipantsTable {
  id: string
  user_id: string | null
  full_name: string
  email: string
  trn: string
  created_at: Timestamp
  /** When the person's data was erased after the retention period (0025); the row stays as a pseudonym. */
  anonymised_at: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>
}

export interface EnrolmentsTable {
  id: Generated<string>
  participant_id: string
  lead_provider_id: string
  delivery_partner_id: string | null
  school_id: string | null
  line_manager_user_id: string | null
  course_identifier: string
  cohort: string
  status: ColumnType<EnrolmentStatus, EnrolmentStatus | undefined>
  school_contract_signed_on: string | null
  sponsorship_agreement_signed_on: string | null
  school_contract_recorded_by: ColumnType<string | null, string | null | undefined>
  sponsorship_agreement_recorded_by: ColumnType<string | null, string | null | undefined>
  created_at: Timestamp
}

export interface DesignVersionsTable {
  id: Generated<string>
  lead_provider: string
  course_identifier: string
  version: number
  content: Json
  content_hash: string
  origin: 'file' | 'admin'
  note: string | null
  created_by: string | null
  created_at: Timestamp
}

export interface CohortDesignsTable {
  lead_provider: string
  course_identifier: string
  cohort: string
  design_version_id: string
  bound_at: Timestamp
  bound_by: string | null
}

export interface BlockWindowsTable {
  lead_provider: string
  course_identifier: string
  cohort: string
  block: number
  goes_live_on: string
  completes_by: string
  updated_by: string | null
  updated_at: Timestamp
}

export interface LearningRecordsTable {
  id: Generated<string>
  participant_id: string
  course_identifier: string
  activity_code: string
  occurred_at: Date | string
  evidence_on: string
  source: 'automatic' | 'self-report'
  progress_percent: ColumnType<string | null, number | null | undefined, number | null>
  client_event_id: string | null
  supersedes: string | null
  retracted: ColumnType<boolean, boolean | undefined, never>
  reason: string | null
  recorded_by: string | null
  recorded_at: Timestamp
}

/** First completion per enrolment, activity and source; kept by a trigger on learning_records (migration 0007). */
export interface LearningCompletionsTable {
  participant_id: string
  course_identifier: string
  activity_code: string
  source: 'automatic' | 'self-report'
  first_on: string
}

/** First attended / contingency-completed date per enrolment and activity; kept by triggers (migration 0007). */
export interface AttendanceFirstsTable {
  participant_id: string
  course_identifier: string
  activity_code: string
  lead_provider_id: string
  status: 'attended' | 'contingency-completed'
  first_on: string
}

export const eventKinds = [
  'induction',
  'conference',
  'f2f',
  'live-webinar',
  'peer-learning-group',
  'clinic',
  'community',
  'coaching',
  'school-visit',
  'assessment-clinic',
  'tutor-session',
  'welcome',
] as const
export type EventKind = (typeof eventKinds)[number]

export interface EventsTable {
  id: Generated<string>
  /** The event's identifier in imports and the API (`event_id`). */
  event_ref: string
  lead_provider_id: string
  /** Null for a lead provider's central event (open to all its participants on the course and cohort). */
  delivery_partner_id: string | null
  course_identifier: string
  cohort: string
  /** The design activity it delivers; null for events that deliver none (a welcome event). */
  activity_code: string | null
  kind: EventKind
  starts_at: Date | string
  ends_at: Date | string
  /** London date of the start: the evidence date of an `attended` register entry. */
  starts_on: string
  capacity: number
  created_at: Timestamp
  updated_at: Timestamp
  title: string | null
  description: string | null
  venue: string | null
  joining_link: string | null
  booking_opens_at: Date | string | null
  booking_closes_at: Date | string | null
  /** Participants may cancel until then (null: until the start). */
  cancel_by: Date | string | null
  /** Events scheduled together as a series (PLG 1–4) share this. */
  series_ref: string | null
  reminder_days_before: number | null
  status: ColumnType<EventStatus, EventStatus | undefined, EventStatus>
  cancelled_at: Date | string | null
  cancelled_reason: string | null
  register_taken_at: Date | string | null
  register_taken_by: string | null
  /** When the first register entry arrived (a trigger keeps it; migration 0024). */
  register_entered_at: ColumnType<Date | string | null, never, never>
  created_by: string | null
}

export const eventStatuses = ['scheduled', 'cancelled'] as const
export type EventStatus = (typeof eventStatuses)[number]

export interface EventSharedPartnersTable {
  event_id: string
  delivery_partner_id: string
}

export interface EventFacilitatorsTable {
  event_id: string
  user_id: string
}

export const bookingStatuses = ['booked', 'waiting', 'cancelled'] as const
export type BookingStatus = (typeof bookingStatuses)[number]

export interface BookingsTable {
  id: Generated<string>
  event_id: string
  participant_id: string
  status: BookingStatus
  /** The order of the waiting list. */
  requested_at: Timestamp
  booked_at: Date | string | null
  promoted_at: Date | string | null
  cancelled_at: Date | string | null
  booked_by: string | null
  cancelled_by: string | null
}

export interface CalendarFeedsTable {
  user_id: string
  token_hash: string
  created_at: Timestamp
}

export interface EventRemindersTable {
  event_id: string
  /** The participant (booking reminders) or the user (register reminders). */
  recipient_id: string
  kind: 'booking' | 'register-not-taken'
  sent_at: Timestamp
}

export const registerStatuses = ['attended', 'absent', 'contingency-completed'] as const
export type RegisterStatus = (typeof registerStatuses)[number]

export interface RegisterEntriesTable {
  id: Generated<string>
  event_id: string
  participant_id: string
  status: RegisterStatus
  completed_at: Date | string | null
  completed_on: string | null
  note: string | null
  supersedes: string | null
  recorded_by: string | null
  recorded_at: Timestamp
  contingency_method: ContingencyMethod | null
  /** Why a locked register (over 14 days old) was changed, given by a delivery-partner lead. */
  change_reason: string | null
}

export const contingencyMethods = ['recording', 'mop-up-session', 'slides-with-notes', 'another-delivery-partner-event'] as const
export type ContingencyMethod = (typeof contingencyMethods)[number]

export interface MeetingLogsTable {
  id: Generated<string>
  participant_id: string
  course_identifier: string
  meeting_number: number
  held_on: string
  signed_by_line_manager: boolean
  signed_by_participant: boolean
  fats_completed: number | null
  supersedes: string | null
  recorded_by: string | null
  recorded_at: Timestamp
}

export interface ImportUploadsTable {
  id: Generated<string>
  lead_provider_id: string
  kind: string
  filename: string
  content: string
  uploaded_by: string
  uploaded_at: Timestamp
  applied_at: Date | string | null
  applied_by: string | null
  result: Json | null
}

/** DfE's reasons (Lead Provider API v3). A change to these lists needs a migration of the checks (0009). */
export const deferralReasons = ['bereavement', 'long-term-sickness', 'parental-leave', 'career-break', 'other'] as const

export const withdrawalReasons = [
  'insufficient-capacity-to-undertake-programme',
  'personal-reason-health-or-pregnancy-related',
  'personal-reason-moving-school',
  'personal-reason-other',
  'insufficient-capacity',
  'change-in-developmental-or-personal-priorities',
  'change-in-school-circumstances',
  'change-in-school-leadership',
  // The spec spells this one with a trailing full stop; DfE accepts it as written there.
  'quality-of-programme-structure-not-suitable.',
  'quality-of-programme-content-not-suitable',
  'quality-of-programme-facilitation-not-effective',
  'quality-of-programme-accessibility',
  'quality-of-programme-other',
  'programme-not-appropriate-for-role-and-cpd-needs',
  'started-in-error',
  'expected-commitment-unclear',
  'assessment-requirements-not-met',
  'change-in-career',
  'disengaged-and-unresponsive',
  'non-payment-of-invoice',
  'other',
] as const

export type DeferralReason = (typeof deferralReasons)[number]
export type WithdrawalReason = (typeof withdrawalReasons)[number]

export interface DeferralsTable {
  id: Generated<string>
  participant_id: string
  /** Null: every enrolment of the participant (the CSV import names only the person). */
  enrolment_id: ColumnType<string | null, string | null | undefined, string | null>
  reason: DeferralReason
  deferred_on: string
  /** Deferred until the day before this date; null: no return date yet. */
  planned_return_on: string | null
  recorded_by: string | null
  recorded_at: Timestamp
  /** The participant confirmed they are returning (0016): the enrolment resumes on the planned return date. */
  return_confirmed_at: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>
  return_confirmed_by: ColumnType<string | null, string | null | undefined, string | null>
  /** The day the enrolment became active again; null while deferred (or for rows imported without one). */
  resumed_on: ColumnType<string | null, string | null | undefined, string | null>
}

export interface WithdrawalsTable {
  id: Generated<string>
  participant_id: string
  /** Null: every enrolment of the participant (the CSV import names only the person). */
  enrolment_id: ColumnType<string | null, string | null | undefined, string | null>
  reason: WithdrawalReason
  withdrawn_on: string
  recorded_by: string | null
  recorded_at: Timestamp
  /** A withdrawal reversed by a lead-provider admin (0016): kept as evidence, no longer in force from this day. */
  reinstated_on: ColumnType<string | null, string | null | undefined, string | null>
  reinstated_by: ColumnType<string | null, string | null | undefined, string | null>
  reinstated_reason: ColumnType<string | null, string | null | undefined, string | null>
}

export interface AssessmentAttemptsTable {
  id: Generated<string>
  participant_id: string
  attempt: number
  submitted_at: Date | string | null
  word_count: number | null
  result: 'passed' | 'failed' | null
  marked_at: Date | string | null
  moderated_at: Date | string | null
  externally_moderated_at: Date | string | null
  recorded_by: string | null
  recorded_at: Timestamp
}

export const declarationTypes = ['started', 'retained-1', 'retained-2', 'completed'] as const
export const declarationStates = [
  'submitted',
  'eligible',
  'payable',
  'paid',
  'voided',
  'ineligible',
  'awaiting-clawback',
  'clawed-back',
] as const
export type DeclarationState = (typeof declarationStates)[number]
/** A live declaration: at most one per participant, course and type (DfE's rule and ours). */
export const liveDeclarationStates = ['submitted', 'eligible', 'payable', 'paid'] as const satisfies readonly DeclarationState[]

export interface DeclarationsTable {
  id: Generated<string>
  enrolment_id: string
  participant_id: string
  lead_provider_id: string
  delivery_partner_id: string | null
  course_identifier: string
  cohort: string
  declaration_type: (typeof declarationTypes)[number]
  declaration_date: string
  has_passed: boolean | null
  state: ColumnType<DeclarationState, DeclarationState | undefined>
  evidence: ColumnType<unknown, string, string>
  engagement: ColumnType<unknown, string, string>
  idempotency_key: string
  dfe_declaration_id: string | null
  declared_by: string | null
  declared_at: Timestamp
  state_changed_at: Timestamp
}

export interface DeclarationStateChangesTable {
  id: Generated<string>
  declaration_id: string
  from_state: DeclarationState | null
  to_state: DeclarationState
  source: 'platform' | 'dfe'
  reason: string | null
  changed_by: string | null
  changed_at: Timestamp
}

export interface ClawbacksTable {
  id: Generated<string>
  declaration_id: string
  raised_on: string
  raised_by: string | null
  clawed_back_on: string | null
  recorded_at: Timestamp
}

export interface ContractPricesTable {
  id: Generated<string>
  lead_provider_id: string
  course_identifier: string
  cohort: string
  price_pence: number
  recorded_by: string | null
  recorded_at: Timestamp
}

export const dfeRequestKinds = [
  'submit-declaration',
  'void-declaration',
  'defer-participant',
  'resume-participant',
  'withdraw-participant',
  'post-outcome',
  'pull-applications',
  'pull-statements',
  'accept-application',
  'reject-application',
  'change-funded-place',
  'change-schedule',
] as const
export type DfeRequestKind = (typeof dfeRequestKinds)[number]
export type DfeRequestStatus = 'queued' | 'sent' | 'cancelled'

export interface DfeRequestsTable {
  id: Generated<string>
  lead_provider_id: string
  kind: DfeRequestKind
  subject_id: string | null
  method: 'GET' | 'POST' | 'PUT'
  path: string
  body: ColumnType<unknown, string | null, string | null>
  status: ColumnType<DfeRequestStatus, DfeRequestStatus | undefined>
  attempts: ColumnType<number, number | undefined>
  last_error: string | null
  next_attempt_at: ColumnType<Date, Date | string | undefined, Date | string>
  queued_by: string | null
  queued_at: Timestamp
  sent_at: Date | null
  cancelled_by: string | null
  cancelled_at: Date | null
  /** Whom the request is about (null for pulls); one participant's requests are sent in queue order (0011). */
  participant_id: string | null
  seq: Generated<number>
  /** A sender's lease while the call is in flight. */
  claimed_until: Date | null
}

export interface DfeRequestAttemptsTable {
  id: Generated<string>
  request_id: string
  attempted_at: Timestamp
  status_code: number | null
  response: ColumnType<unknown, string | null, never>
  error: string | null
  duration_ms: number | null
}

export const escalationClosedReasons = ['criteria-met', 'deferred', 'withdrawn', 'removed'] as const
export interface EscalationCasesTable {
  id: Generated<string>
  enrolment_id: string
  participant_id: string
  course_identifier: string
  declaration_type: (typeof declarationTypes)[number]
  review_date: string
  opened_on: string
  extended_deadline: string | null
  closed_on: string | null
  closed_reason: (typeof escalationClosedReasons)[number] | null
}

export const escalationActionKinds = [
  'note',
  'extension-agreed',
  'contact-attempt',
  'support-offered',
  'removal-proposed',
  'removal-approved',
  'removal-rejected',
  'stage-changed',
] as const
export const contactChannels = ['email', 'phone', 'meeting', 'letter', 'other'] as const
export const contactOutcomes = ['no-response', 'responded', 'support-accepted', 'deferral-requested', 'withdrawal-requested'] as const

export interface EscalationActionsTable {
  id: Generated<string>
  case_id: string
  kind: (typeof escalationActionKinds)[number]
  on_date: string
  channel: (typeof contactChannels)[number] | null
  outcome: (typeof contactOutcomes)[number] | null
  extended_deadline: string | null
  organisation_id: string | null
  notes: string | null
  recorded_by: string | null
  recorded_at: Timestamp
}

export const enrolmentStatuses = ['accepted', 'active', 'deferred', 'withdrawn', 'completed'] as const
export type EnrolmentStatus = (typeof enrolmentStatuses)[number]

export interface EnrolmentTransitionsTable {
  id: Generated<string>
  enrolment_id: string
  from_status: EnrolmentStatus | null
  to_status: EnrolmentStatus
  effective_on: string
  reason: string | null
  details: string | null
  recorded_by: string | null
  recorded_at: Timestamp
}

export interface DeferralRequestsTable {
  id: Generated<string>
  enrolment_id: string
  reason: DeferralReason
  details: string
  starts_on: string
  planned_return_on: string
  proposed_cohort: string | null
  proposed_return_block: string | null
  return_override: ColumnType<boolean, boolean | undefined, boolean>
  requested_by: string | null
  requested_at: Timestamp
  conversation_notes: string | null
  conversation_recorded_by: string | null
  conversation_recorded_at: Date | null
  status: ColumnType<'requested' | 'approved' | 'declined' | 'cancelled', 'requested' | undefined, 'approved' | 'declined' | 'cancelled'>
  decided_by: string | null
  decided_at: Date | null
  decision_reason: string | null
  deferral_id: string | null
}

export interface WithdrawalRequestsTable {
  id: Generated<string>
  enrolment_id: string
  reason: WithdrawalReason
  details: string | null
  planned_on: string
  requested_by: string | null
  requested_at: Timestamp
  status: ColumnType<'requested' | 'confirmed' | 'declined' | 'cancelled', 'requested' | undefined, 'confirmed' | 'declined' | 'cancelled'>
  decided_by: string | null
  decided_at: Date | null
  decision_reason: string | null
  refund_note: string | null
  withdrawal_id: string | null
}

export const agreementKinds = ['school-contract', 'sponsorship-agreement'] as const
export type AgreementKind = (typeof agreementKinds)[number]

/** One sending of an agreement to a school contact, signed through its one-time link (migration 0015). */
export interface AgreementRequestsTable {
  id: Generated<string>
  enrolment_id: string
  kind: AgreementKind
  sent_to: string
  sent_by: string | null
  sent_at: Timestamp
  token_hash: string
  expires_at: Date
  superseded_at: Date | null
  signed_at: Date | null
  signed_by_name: string | null
  signed_by_user: string | null
}

export const placeFundings = ['school', 'self', 'dfe'] as const

/** Who pays for a place, and for a school- or self-funded one its invoice and payment (migration 0015). */
export interface PlaceFundingTable {
  enrolment_id: string
  funding: (typeof placeFundings)[number]
  invoice_sent_on: string | null
  amount_pence: number | null
  paid_on: string | null
  recorded_by: string | null
  recorded_at: Timestamp
}

/** A delivery partner's local group for one course and cohort, with its facilitator (migration 0017). */
export interface ParticipantGroupsTable {
  id: Generated<string>
  delivery_partner_id: string
  course_identifier: string
  cohort: string
  name: string
  facilitator_user_id: string | null
  created_by: string | null
  created_at: Timestamp
}

/** The group an enrolment is placed in: one group per enrolment (migration 0017). */
export interface GroupMembershipsTable {
  enrolment_id: string
  group_id: string
  placed_at: Timestamp
  placed_by: string | null
}

// ---- Issue 8 (migration 0018): meetings, the implementation project, the assessment ----

type Time = ColumnType<Date, Date | string | undefined, Date | string>
type MaybeTime = ColumnType<Date | null, Date | string | null | undefined, Date | string | null>
type Maybe<T> = ColumnType<T | null, T | null | undefined, T | null>

export interface MeetingSchedulesTable {
  id: Generated<string>
  enrolment_id: string
  meeting_number: number
  starts_at: ColumnType<Date, Date | string, Date | string>
  duration_minutes: ColumnType<number, number | undefined, number>
  location: Maybe<string>
  scheduled_by: Maybe<string>
  scheduled_at: Time
  cancelled_at: MaybeTime
  cancelled_by: Maybe<string>
  updated_at: Time
}

export const meetingStages = ['contracting', 'check-in', 'reflection', 'target-setting'] as const
export type MeetingStage = (typeof meetingStages)[number]

export interface MeetingLogVersionsTable {
  id: Generated<string>
  enrolment_id: string
  meeting_number: number
  version: number
  held_on: string
  stage: MeetingStage
  fats_completed: ColumnType<boolean, boolean | undefined, boolean>
  fats_completed_count: ColumnType<number, number | undefined, number>
  checking_in: ColumnType<string, string | undefined, string>
  key_purposes: ColumnType<string, string | undefined, string>
  /** The five questions of Appendix 1 with their responses. */
  answers: ColumnType<{ question: string; response: string }[], string | undefined, string>
  created_by: Maybe<string>
  created_at: Time
  updated_at: Time
  participant_signed_at: MaybeTime
  participant_signed_by: Maybe<string>
  line_manager_signed_at: MaybeTime
  line_manager_signed_by: Maybe<string>
  meeting_log_id: Maybe<string>
}

export const projectStages = ['explore', 'prepare', 'deliver', 'sustain'] as const
export type ProjectStage = (typeof projectStages)[number]

export interface ImplementationProjectsTable {
  enrolment_id: string
  title: ColumnType<string, string | undefined, string>
  created_at: Time
  updated_at: Time
}

export interface ProjectEntriesTable {
  id: Generated<string>
  enrolment_id: string
  stage: ProjectStage
  body: string
  meeting_number: Maybe<number>
  created_by: Maybe<string>
  created_at: Time
  updated_at: Time
}

export interface ProjectReportsTable {
  id: Generated<string>
  enrolment_id: string
  body: Maybe<string>
  file_name: Maybe<string>
  file_type: Maybe<string>
  file_size: Maybe<number>
  file_data: Maybe<Buffer>
  presented_on: Maybe<string>
  submitted_by: Maybe<string>
  submitted_at: Time
}

export interface AssessmentWindowsTable {
  id: Generated<string>
  lead_provider_id: string
  course_identifier: string
  cohort: string
  opens_on: string
  closes_on: string
  engagement_deadline: string
  max_words: number
  case_study_title: ColumnType<string, string | undefined, string>
  case_study: ColumnType<string, string | undefined, string>
  created_by: Maybe<string>
  created_at: Time
  entries_decided_at: MaybeTime
  externally_moderated_at: MaybeTime
  externally_moderated_by: Maybe<string>
  results_released_at: MaybeTime
  results_released_by: Maybe<string>
}

export type EntryDecision = 'entered' | 'not-entered' | 'kept'
export type EntryOutcome = 'submitted' | 'lost' | 'kept'

export interface AssessmentEntriesTable {
  id: Generated<string>
  window_id: string
  enrolment_id: string
  attempt: number
  decision: EntryDecision
  /** numeric comes back as a string from the driver. */
  engagement_percent: ColumnType<string | null, number | string | null | undefined, number | string | null>
  decided_at: Time
  decided_by: Maybe<string>
  draft: ColumnType<string, string | undefined, string>
  draft_word_count: ColumnType<number, number | undefined, number>
  draft_saved_at: MaybeTime
  submitted_text: Maybe<string>
  submitted_word_count: Maybe<number>
  submitted_at: MaybeTime
  outcome: Maybe<EntryOutcome>
}

export interface ExtenuatingCircumstancesTable {
  id: Generated<string>
  entry_id: string
  reason: string
  requested_by: Maybe<string>
  requested_at: Time
  decision: Maybe<'accepted' | 'declined'>
  decision_reason: Maybe<string>
  decided_by: Maybe<string>
  decided_at: MaybeTime
}

export interface AssessmentMarksTable {
  id: Generated<string>
  entry_id: string
  script_reference: string
  assessor_user_id: string
  allocated_by: Maybe<string>
  allocated_at: Time
  mark: Maybe<number>
  result: Maybe<'passed' | 'failed'>
  feedback: Maybe<string>
  marked_at: MaybeTime
  in_moderation_sample: ColumnType<boolean, boolean | undefined, boolean>
  moderated_by: Maybe<string>
  moderated_at: MaybeTime
  moderated_result: Maybe<'passed' | 'failed'>
  moderation_notes: Maybe<string>
}

export interface Schema extends ContentSchema, PeopleSchema, NewsSchema, ForumsSchema, SurveysSchema {
  organisations: OrganisationsTable
  delivery_partnerships: DeliveryPartnershipsTable
  users: UsersTable
  role_assignments: RoleAssignmentsTable
  sessions: SessionsTable
  figure_runs: FigureRunsTable
  enrolment_figures: EnrolmentFiguresTable
  one_time_links: OneTimeLinksTable
  sign_in_attempts: SignInAttemptsTable
  audit_events: AuditEventsTable
  email_outbox: EmailOutboxTable
  api_tokens: ApiTokensTable
  participants: ParticipantsTable
  enrolments: EnrolmentsTable
  design_versions: DesignVersionsTable
  cohort_designs: CohortDesignsTable
  block_windows: BlockWindowsTable
  learning_records: LearningRecordsTable
  learning_completions: LearningCompletionsTable
  attendance_firsts: AttendanceFirstsTable
  event_shared_partners: EventSharedPartnersTable
  event_facilitators: EventFacilitatorsTable
  bookings: BookingsTable
  calendar_feeds: CalendarFeedsTable
  event_reminders: EventRemindersTable
  deferrals: DeferralsTable
  withdrawals: WithdrawalsTable
  assessment_attempts: AssessmentAttemptsTable
  events: EventsTable
  register_entries: RegisterEntriesTable
  meeting_logs: MeetingLogsTable
  import_uploads: ImportUploadsTable
  declarations: DeclarationsTable
  declaration_state_changes: DeclarationStateChangesTable
  clawbacks: ClawbacksTable
  contract_prices: ContractPricesTable
  dfe_requests: DfeRequestsTable
  dfe_request_attempts: DfeRequestAttemptsTable
  escalation_cases: EscalationCasesTable
  escalation_actions: EscalationActionsTable
  enrolment_transitions: EnrolmentTransitionsTable
  deferral_requests: DeferralRequestsTable
  withdrawal_requests: WithdrawalRequestsTable
  agreement_requests: AgreementRequestsTable
  place_funding: PlaceFundingTable
  participant_groups: ParticipantGroupsTable
  group_memberships: GroupMembershipsTable
  applications: ApplicationsTable
  meeting_schedules: MeetingSchedulesTable
  meeting_log_versions: MeetingLogVersionsTable
  implementation_projects: ImplementationProjectsTable
  project_entries: ProjectEntriesTable
  project_reports: ProjectReportsTable
  assessment_windows: AssessmentWindowsTable
  assessment_entries: AssessmentEntriesTable
  extenuating_circumstances: ExtenuatingCircumstancesTable
  assessment_marks: AssessmentMarksTable
}

export const applicationStatuses = ['applied', 'accepted', 'rejected', 'expired'] as const
export type ApplicationStatus = (typeof applicationStatuses)[number]
export type Establishment = 'state-school' | 'sixteen-to-nineteen' | 'early-years' | 'independent' | 'other'

export interface ApplicationsTable {
  id: Generated<string>
  lead_provider_id: string
  source: 'dfe' | 'csv'
  dfe_application_id: string | null
  participant_id: string | null
  trn: string
  full_name: string
  email: string
  course_identifier: string
  cohort: string | null
  school_urn: string | null
  employer_name: string | null
  employment_role: string | null
  funding_choice: string | null
  eligible_for_funding: ColumnType<boolean, boolean | undefined>
  /** The place DfE funds (0016): set on acceptance, changed with DfE's change-funded-place; null before. */
  funded_place: ColumnType<boolean | null, boolean | null | undefined, boolean | null>
  ineligible_for_funding_reason: string | null
  headteacher_status: string | null
  establishment: Establishment | null
  in_england: boolean | null
  pupil_premium_uplift: ColumnType<boolean, boolean | undefined>
  status: ColumnType<ApplicationStatus, ApplicationStatus | undefined>
  reason_for_rejection: string | null
  decided_by: string | null
  decided_at: Date | null
  delivery_partner_id: string | null
  accepted_cohort: string | null
  schedule_identifier: string | null
  enrolment_id: string | null
  form_sent_on: string | null
  form_due_on: string | null
  form_reminded_at: Date | null
  form_returned_at: Date | null
  form_extended_by: string | null
  endorser_name: string | null
  endorser_email: string | null
  endorser_role: 'headteacher' | 'line-manager' | null
  ey_qualification_level: number | null
  headship_started_on: string | null
  npqh_status: 'none' | 'in-progress' | 'completed' | null
  endorsement_requested_at: Date | null
  endorsed_at: Date | null
  endorsed_by_name: string | null
  endorsed_by_email: string | null
  received_at: Timestamp
  updated_at: Timestamp
}

export type User = Selectable<UsersTable>
export type Organisation = Selectable<OrganisationsTable>
export type NewAuditEvent = Insertable<AuditEventsTable>

/** Per lead provider and cohort: the day `enrolment_figures` are for and when they were computed (migration 0026). */
export interface FigureRunsTable {
  lead_provider_id: string
  cohort: string
  as_of: ColumnType<string, string, string>
  computed_at: ColumnType<Date, Date, Date>
  enrolments: number
  took_ms: number
}

/** One enrolment's dashboard figures as of `as_of` (src/dashboards/figure-store.ts). Derived, rebuilt. */
export interface EnrolmentFiguresTable {
  enrolment_id: string
  lead_provider_id: string
  cohort: string
  course_identifier: string
  delivery_partner_id: string | null
  as_of: ColumnType<string, string, string>
  active: boolean
  ratio: number
  percent: number
  deadline: ColumnType<string | null, string | null, string | null>
  projected_percent: number | null
  /** Risk[] (src/dashboards/projection.ts). */
  risks: ColumnType<unknown, string, string>
  /** { creditsEarned, creditsAvailable, eligibleForAssessment, blocks } (engagement/engine.ts, without the items earned). */
  engagement: ColumnType<unknown, string, string>
  /** [{ declarationType, reviewDate, status, evidence, evidenceOn }] in the course's order. */
  outputs: ColumnType<unknown, string, string>
  /** Each output's reasons (string[][], same order): read only by pages that show them. */
  reasons: ColumnType<unknown, string, string>
}
