// Who may reach each route, as data: the access matrix (access-matrix.db.test.ts) requests every route
// of the built application as each principal, with a resource of their own and of others, and fails
// on any route this file does not classify, so a new route cannot ship without someone saying who may
// use it. A route is "reached" when the answer is anything but 401, 403, 404 or the sign-in page (a 400
// for the empty form the matrix posts means the handler accepted the person).

/**
 * The principals: a demo account of each role, a line manager whose role was taken away (still named on
 * a participant's enrolment), nobody, and API tokens of the demo's and another lead provider.
 */
export const principals = [
  'participant',
  'line-manager',
  'facilitator',
  'delivery-partner-lead',
  'lead-provider-admin',
  'assessor',
  'moderator',
  'school-contact',
  'former-line-manager',
  'signed-out',
  'api-own',
  'api-other',
] as const
export type Who = (typeof principals)[number]

/**
 * Whose resource fills the route's parameters (and its query and body): the principal's own (EDT, North
 * Star, Oakfield Primary, Priya Patel); another participant's at the same partner (`peer`); another
 * delivery partner's of the same lead provider (`sibling`); another lead provider's and partner's
 * (`other`). Then two that put a record inside the principal's own: `nested`, another participant's or
 * partner's id in the last place of the path, and `mixed`, another lead provider's (in the last place of
 * the path, or every record the query or body names).
 */
export type Owner = 'own' | 'peer' | 'sibling' | 'other'
export type MatrixOwner = Owner | 'nested' | 'mixed'

/** Values that name a place in a programme rather than a record: never swapped in `nested` or `mixed`. */
export const scalarKinds = [
  'lp-code',
  'dp-code',
  'dp-id',
  'lp-id',
  'course',
  'cohort',
  'design-block',
  'content-block',
  'activity-code',
  'meeting-number',
  'content-action',
  'link-token',
  'feed-token',
  'email',
] as const
export const entityKinds = [
  'enrolment',
  'participant',
  'meeting-enrolment',
  'meeting-schedule',
  'event',
  'event-ref',
  'import-upload',
  'application',
  'dfe-request',
  'declaration',
  'escalation-case',
  'deferral-request',
  'withdrawal-request',
  'participant-group',
  'assessment-window',
  'assessment-entry',
  'extenuating',
  'script-reference',
  'project-entry',
  'project-report',
  'content-item',
  'quiz-item',
  'prompt-item',
  'media-item',
  'webinar-item',
  'content-file',
  'task-submission',
  'journal-entry',
  'safeguarding-concern',
  'people-group',
  'facilitator-user',
  'lp-news',
  'dp-news',
  'forum',
  'forum-thread',
  'forum-post',
  'course-forum',
  'course-forum-thread',
  'course-forum-post',
  'survey',
  'learning-record',
  'api-token',
] as const
export type ResourceKind = (typeof scalarKinds)[number] | (typeof entityKinds)[number]

/** What a parameter names when the route does not say (`:id` always needs saying). */
export const paramKindsByName: Record<string, ResourceKind> = {
  lp: 'lp-code',
  dp: 'dp-code',
  course: 'course',
  course_identifier: 'course',
  cohort: 'cohort',
  code: 'activity-code',
  n: 'meeting-number',
  action: 'content-action',
  token: 'link-token',
  reportId: 'project-report',
  entryId: 'project-entry',
  reference: 'script-reference',
  userId: 'facilitator-user',
  forumId: 'forum',
  threadId: 'forum-thread',
  postId: 'forum-post',
  participant: 'participant',
  participant_id: 'participant',
  event_id: 'event-ref',
}

export type RouteExpectation = {
  /** What each `:param` names, where paramKindsByName does not say or says wrongly. */
  params?: Record<string, ResourceKind>
  /** Who reaches it with their own resource (or, without parameters, at all). */
  own: readonly Who[]
  /** Who reaches it with another's resource; nobody unless listed. */
  peer?: readonly Who[]
  sibling?: readonly Who[]
  other?: readonly Who[]
  nested?: readonly Who[]
  mixed?: readonly Who[]
  /**
   * A query string and a form (or JSON) body to send, for routes that need them to reach the check on
   * the resource. `{kind}` is the owner's resource of that kind, `{own:kind}` always the principal's own.
   */
  query?: string
  body?: Record<string, unknown>
  /** A page endpoint that takes JSON (with the CSRF token in it). */
  json?: true
  /**
   * Filters a list page reads (`{kind}` as above): requested with the principal's own organisation's
   * codes and with another's, they must never open the page to anyone else or show another's data.
   */
  searches?: readonly string[]
  /** Static files: classified, not requested. */
  static?: true
  /** Development tools (absent in production) that show every outbox email: not checked for others' data. */
  developmentOnly?: true
}

// Shorthands for the table below.
const P = 'participant'
const LM = 'line-manager'
const F = 'facilitator'
const DPL = 'delivery-partner-lead'
const LPA = 'lead-provider-admin'
const AS = 'assessor'
const MO = 'moderator'
const SC = 'school-contact'
const APIX = 'api-other'
const everyone: readonly Who[] = principals
/** Pages about the person signed in (their courses, journal, calendar link…): anyone signed in, each seeing only their own. */
const signedIn: readonly Who[] = [P, LM, F, DPL, LPA, AS, MO, SC, 'former-line-manager']
/** Public pages, and the sign-in forms, which everyone reaches (API tokens count for nothing outside /api). */
const anyone: readonly Who[] = everyone
/** The API: either lead provider's token reaches a route; what it may see is its own lead provider's. */
const tokens: readonly Who[] = ['api-own', 'api-other']
/** A delivery partner's leads, and the lead provider's admins who oversee every partner of theirs. */
const partnerAndProvider: readonly Who[] = [DPL, LPA]

// Filters of the reporting pages: each with the principal's own organisation and course, and another's.
const reportSearches = [
  'lead_provider={lp-code}',
  'delivery_partner={dp-code}',
  'cohort={cohort}&course={course}',
  'delivery_partner={dp-code}&format=csv',
  'lead_provider={lp-code}&delivery_partner={dp-code}&format=xlsx',
  'report=declaration&delivery_partner={dp-code}&format=csv',
]
const moneySearches = [
  'lead_provider={lp-code}',
  'delivery_partner={dp-code}',
  'cohort={cohort}&course={course}',
  'delivery_partner={dp-code}&table=expected&format=csv',
  'lead_provider={lp-code}&table=invoice-now&format=xlsx',
  'delivery_partner={dp-code}&table=paid&format=csv',
]

export const expectations: Record<string, RouteExpectation> = {
  // ---- Static files, health, signing in (public) ----
  'GET /assets/*': { own: everyone, static: true },
  'GET /govuk/*': { own: everyone, static: true },
  'GET /moj/*': { own: everyone, static: true },
  'GET /public/*': { own: everyone, static: true },
  'GET /health': { own: anyone },
  // Home sends a signed-in person to their role's home, and shows the start page to anyone else.
  'GET /': { own: anyone },
  'GET /sign-in': { own: anyone },
  'POST /sign-in': { own: [...signedIn, 'signed-out'] },
  'POST /sign-out': { own: [...signedIn, 'signed-out'] },
  'GET /signed-out': { own: anyone },
  // One-time links: the secret in the link is the access, and a made-up one opens nothing.
  'GET /set-password/:token': { own: [] },
  'POST /set-password/:token': { own: [] },
  'GET /sign-in/email-link': { own: anyone },
  'POST /sign-in/email-link': { own: [...signedIn, 'signed-out'] },
  'GET /sign-in/link/:token': { own: [] },
  'POST /sign-in/link/:token': { own: [] },
  'GET /reset-password': { own: anyone },
  'POST /reset-password': { own: [...signedIn, 'signed-out'] },
  'GET /application-form/:token': { own: [] },
  'POST /application-form/:token': { own: [] },
  'GET /endorse/:token': { own: [] },
  'POST /endorse/:token': { own: [] },
  'GET /agreements/:token': { own: [] },
  'POST /agreements/:token': { own: [] },
  // The calendar feed: its secret token is the access (another person's feed: the iCal test below).
  'GET /calendar/:token.ics': { params: { token: 'feed-token' }, own: anyone },
  // Development only (absent in production): the outbox, every email sent.
  'GET /dev/emails': { own: anyone, developmentOnly: true },
  'GET /dev/emails/:id': { params: { id: 'email' }, own: anyone, developmentOnly: true },
  'GET /api/v1/openapi.json': { own: anyone },

  // ---- Each role's home and its section pages ----
  'GET /participant': { own: [P] },
  'GET /participant/programme': { own: [P] },
  'GET /participant/community': { own: [P] },
  'GET /line-manager': { own: [LM] },
  'GET /facilitator': { own: [F] },
  'GET /delivery-partner': { own: [DPL] },
  'GET /delivery-partner/participants': { own: [DPL] },
  'GET /delivery-partner/learning': { own: [DPL] },
  'GET /delivery-partner/reporting': { own: [DPL] },
  'GET /delivery-partner/team': { own: [DPL] },
  'GET /lead-provider': { own: [LPA] },
  'GET /lead-provider/participants': { own: [LPA] },
  'GET /lead-provider/delivery': { own: [LPA] },
  'GET /lead-provider/learning': { own: [LPA] },
  'GET /lead-provider/assessments': { own: [LPA] },
  'GET /lead-provider/finance': { own: [LPA] },
  'GET /lead-provider/settings': { own: [LPA] },
  'GET /assessor': { own: [AS] },
  'GET /moderator': { own: [MO] },
  'GET /school': { own: [SC] },

  // ---- The person's own account: calendar link ----
  'GET /account/calendar': { own: signedIn },
  'POST /account/calendar': { own: signedIn },
  'POST /account/calendar/stop': { own: signedIn },

  // ---- Teams, invitations, API tokens ----
  'GET /lead-provider/users': { own: [LPA] },
  'GET /lead-provider/users/invite': { own: [LPA] },
  'POST /lead-provider/users/invite': {
    body: { fullName: 'Ivy Invitee', email: 'ivy.invitee@matrix.test', role: 'facilitator', organisationId: '{dp-id}' },
    own: [LPA],
    sibling: [LPA],
  },
  'GET /delivery-partner/users': { own: [DPL] },
  'GET /delivery-partner/users/invite': { own: [DPL] },
  'POST /delivery-partner/users/invite': {
    body: { fullName: 'Dev Invitee', email: 'dev.invitee@matrix.test', role: 'facilitator', organisationId: '{dp-id}' },
    own: [DPL],
  },
  'GET /lead-provider/api-tokens': { own: [LPA] },
  'POST /lead-provider/api-tokens': { own: [LPA] },
  'POST /lead-provider/api-tokens/:id/revoke': { params: { id: 'api-token' }, own: [LPA] },
  // Data protection (src/privacy): lead-provider admins; a person another provider holds is "nobody" to them (no parameters).
  'GET /lead-provider/privacy': { own: [LPA] },
  'POST /lead-provider/privacy/export': { own: [LPA] },

  // ---- The catalogue (a lead provider's designs) ----
  'GET /lead-provider/catalogue': { own: [LPA] },
  'GET /lead-provider/catalogue/cohorts': { own: [LPA] },
  'GET /lead-provider/catalogue/:lp/:course': { own: [LPA], sibling: [LPA] },
  'GET /lead-provider/catalogue/:lp/:course/edit': { own: [LPA], sibling: [LPA] },
  'POST /lead-provider/catalogue/:lp/:course/edit': { own: [LPA], sibling: [LPA] },
  'POST /lead-provider/catalogue/:lp/:course/blocks/:block/publish': { params: { block: 'design-block' }, own: [LPA], sibling: [LPA] },
  'GET /lead-provider/catalogue/:lp/:course/cohorts/:cohort/blocks': { own: [LPA], sibling: [LPA] },
  'POST /lead-provider/catalogue/:lp/:course/cohorts/:cohort/blocks': { own: [LPA], sibling: [LPA] },
  'POST /lead-provider/catalogue/:lp/:course/cohorts/:cohort': { body: { version: '1' }, own: [LPA], sibling: [LPA] },

  // ---- Learning: the participant's course pages, self-study ----
  'GET /participant/courses/:course': { own: [P] },
  'POST /participant/courses/:course/activities/:code/complete': { own: [P] },
  'POST /participant/courses/:course/activities/:code/progress': { json: true, body: { percent: 10 }, own: [P] },

  // ---- Events: booking (participants), scheduling (partners and providers), registers ----
  'GET /participant/events': { own: [P] },
  'GET /participant/events/:id': { params: { id: 'event' }, own: [P] },
  'POST /participant/events/:id/book': { params: { id: 'event' }, own: [P] },
  'POST /participant/events/:id/cancel': { params: { id: 'event' }, own: [P] },
  'GET /delivery-partner/events': { own: [DPL] },
  'GET /delivery-partner/events/new': { own: [DPL], searches: ['offer={lp-code}%7C{course}%7C{cohort}'] },
  'POST /delivery-partner/events/new': { query: 'offer={lp-code}%7C{course}%7C{cohort}', own: [DPL] },
  'GET /delivery-partner/events/:id': { params: { id: 'event' }, own: [DPL], peer: [DPL] },
  'POST /delivery-partner/events/:id/book': {
    params: { id: 'event' },
    body: { participant: '{participant}' },
    own: [DPL],
    peer: [DPL],
    mixed: [DPL],
  },
  'POST /delivery-partner/events/:id/bookings/:participant/cancel': {
    params: { id: 'event' },
    own: [DPL],
    peer: [DPL],
    nested: [DPL],
    mixed: [DPL],
  },
  'POST /delivery-partner/events/:id/cancel': { params: { id: 'event' }, own: [DPL], peer: [DPL] },
  'GET /delivery-partner/events/:id/edit': { params: { id: 'event' }, own: [DPL], peer: [DPL] },
  'POST /delivery-partner/events/:id/edit': { params: { id: 'event' }, own: [DPL], peer: [DPL] },
  'GET /lead-provider/events': { own: [LPA] },
  'GET /lead-provider/events/new': { own: [LPA], searches: ['offer={lp-code}%7C{course}%7C{cohort}'] },
  'POST /lead-provider/events/new': { query: 'offer={lp-code}%7C{course}%7C{cohort}', own: [LPA], sibling: [LPA] },
  'GET /lead-provider/events/:id': { params: { id: 'event' }, own: [LPA], peer: [LPA], sibling: [LPA] },
  'POST /lead-provider/events/:id/book': {
    params: { id: 'event' },
    body: { participant: '{participant}' },
    own: [LPA],
    peer: [LPA],
    sibling: [LPA],
    mixed: [LPA],
  },
  'POST /lead-provider/events/:id/bookings/:participant/cancel': {
    params: { id: 'event' },
    own: [LPA],
    peer: [LPA],
    sibling: [LPA],
    nested: [LPA],
    mixed: [LPA],
  },
  'POST /lead-provider/events/:id/cancel': { params: { id: 'event' }, own: [LPA], peer: [LPA], sibling: [LPA] },
  'GET /lead-provider/events/:id/edit': { params: { id: 'event' }, own: [LPA], peer: [LPA], sibling: [LPA] },
  'POST /lead-provider/events/:id/edit': { params: { id: 'event' }, own: [LPA], peer: [LPA], sibling: [LPA] },
  'GET /facilitator/events': { own: [F] },
  'GET /events/:id/register': { params: { id: 'event' }, own: [F, DPL, LPA], peer: [DPL, LPA], sibling: [LPA] },
  'POST /events/:id/register': { params: { id: 'event' }, own: [F, DPL, LPA], peer: [DPL, LPA], sibling: [LPA] },
  'POST /events/:id/register/walk-in': {
    params: { id: 'event' },
    body: { walkIn: '{participant}', walkInReason: 'Came on the day' },
    own: [F, DPL, LPA],
    peer: [DPL, LPA],
    sibling: [LPA],
    mixed: [F, DPL, LPA],
  },
  'POST /events/:id/register/contingency': { params: { id: 'event' }, own: [F, DPL, LPA], peer: [DPL, LPA], sibling: [LPA] },
  'GET /events/:id/register.csv': { params: { id: 'event' }, own: [F, DPL, LPA], peer: [DPL, LPA], sibling: [LPA] },

  // ---- Imports, applications, DfE sync (lead-provider admins) ----
  'GET /lead-provider/imports': { own: [LPA] },
  'POST /lead-provider/imports': { own: [LPA] },
  'GET /lead-provider/imports/:id': { params: { id: 'import-upload' }, own: [LPA] },
  'POST /lead-provider/imports/:id/apply': { params: { id: 'import-upload' }, own: [LPA] },
  'GET /lead-provider/applications': { own: [LPA], searches: ['q=Otherworld', 'q=Peerless', 'course={course}', 'status=applied&q=xanthe'] },
  'GET /lead-provider/applications/:id': { params: { id: 'application' }, own: [LPA] },
  'POST /lead-provider/applications/:id/send-form': { params: { id: 'application' }, own: [LPA] },
  'POST /lead-provider/applications/:id/extend': { params: { id: 'application' }, own: [LPA] },
  'POST /lead-provider/applications/:id/accept': { params: { id: 'application' }, own: [LPA] },
  'POST /lead-provider/applications/:id/funded-place': { params: { id: 'application' }, own: [LPA] },
  'POST /lead-provider/applications/:id/reject': { params: { id: 'application' }, own: [LPA] },
  'GET /lead-provider/dfe-sync': { own: [LPA], searches: ['status=all', 'status=queued', 'status=failed'] },
  'GET /lead-provider/dfe-sync/:id': { params: { id: 'dfe-request' }, own: [LPA] },
  'POST /lead-provider/dfe-sync/:id/retry': { params: { id: 'dfe-request' }, own: [LPA] },
  'POST /lead-provider/dfe-sync/:id/cancel': { params: { id: 'dfe-request' }, own: [LPA] },
  'POST /lead-provider/dfe-sync/pull': { own: [LPA] },

  // ---- Reports, money, declarations, outputs ----
  'GET /lead-provider/reports': { own: [LPA], searches: reportSearches },
  'GET /delivery-partner/reports': { own: [DPL], searches: reportSearches },
  'GET /lead-provider/money': { own: [LPA], searches: moneySearches },
  'GET /lead-provider/money/line': {
    query: 'lead_provider={lp-code}&delivery_partner={dp-code}&cohort={cohort}&course={course}&output=started',
    own: [LPA],
    sibling: [LPA],
  },
  'GET /delivery-partner/money': { own: [DPL], searches: moneySearches },
  'GET /delivery-partner/money/line': {
    query: 'lead_provider={lp-code}&delivery_partner={dp-code}&cohort={cohort}&course={course}&output=started',
    own: [DPL],
  },
  'GET /lead-provider/money/prices': { own: [LPA] },
  'GET /lead-provider/money/prices/:lp/:course/:cohort': { own: [LPA], sibling: [LPA] },
  'POST /lead-provider/money/prices/:lp/:course/:cohort': { own: [LPA], sibling: [LPA] },
  'GET /lead-provider/enrolments/:id/agreements': { params: { id: 'enrolment' }, own: [LPA], peer: [LPA], sibling: [LPA] },
  'POST /lead-provider/enrolments/:id/agreements': { params: { id: 'enrolment' }, own: [LPA], peer: [LPA], sibling: [LPA] },
  'GET /lead-provider/declarations': {
    own: [LPA],
    searches: ['cohort={cohort}&course={course}&delivery_partner={dp-code}', 'type=retained-1&cohort={cohort}'],
  },
  'POST /lead-provider/declarations': {
    body: { cohort: '{own:cohort}', type: 'started', participant: '{participant}' },
    own: [LPA],
    peer: [LPA],
    sibling: [LPA],
    other: [LPA],
  },
  'GET /lead-provider/declarations/made': { own: [LPA], searches: ['cohort={cohort}', 'state=submitted&cohort={cohort}'] },
  'GET /lead-provider/declarations/:id': { params: { id: 'declaration' }, own: [LPA], sibling: [LPA] },
  'POST /lead-provider/declarations/:id/void': { params: { id: 'declaration' }, own: [LPA], sibling: [LPA] },
  // What the lead provider is paid on: its admins, and the participant's delivery partner's leads, from either area.
  'GET /lead-provider/outputs/:id': { params: { id: 'enrolment' }, own: partnerAndProvider, peer: partnerAndProvider, sibling: [LPA] },
  'GET /delivery-partner/outputs/:id': { params: { id: 'enrolment' }, own: partnerAndProvider, peer: partnerAndProvider, sibling: [LPA] },

  // ---- Escalations and the partnership pack ----
  'GET /delivery-partner/escalations': { own: [DPL] },
  'GET /delivery-partner/escalations/:id': { params: { id: 'escalation-case' }, own: [DPL], peer: [DPL] },
  'POST /delivery-partner/escalations/:id/extension': { params: { id: 'escalation-case' }, own: [DPL], peer: [DPL] },
  'POST /delivery-partner/escalations/:id/contact': { params: { id: 'escalation-case' }, own: [DPL], peer: [DPL] },
  'POST /delivery-partner/escalations/:id/support': { params: { id: 'escalation-case' }, own: [DPL], peer: [DPL] },
  'POST /delivery-partner/escalations/:id/removal': { params: { id: 'escalation-case' }, own: [DPL], peer: [DPL] },
  'POST /delivery-partner/escalations/:id/removal/decision': { params: { id: 'escalation-case' }, own: [DPL], peer: [DPL] },
  'GET /lead-provider/escalations': { own: [LPA], searches: ['delivery_partner={dp-code}'] },
  'GET /lead-provider/escalations/:id': { params: { id: 'escalation-case' }, own: [LPA], peer: [LPA], sibling: [LPA] },
  // Partners work their cases; the lead provider's admins read them and sign off removals.
  'POST /lead-provider/escalations/:id/extension': { params: { id: 'escalation-case' }, own: [] },
  'POST /lead-provider/escalations/:id/contact': { params: { id: 'escalation-case' }, own: [] },
  'POST /lead-provider/escalations/:id/support': { params: { id: 'escalation-case' }, own: [] },
  'POST /lead-provider/escalations/:id/removal': { params: { id: 'escalation-case' }, own: [] },
  'POST /lead-provider/escalations/:id/removal/decision': { params: { id: 'escalation-case' }, own: [LPA], peer: [LPA], sibling: [LPA] },
  'GET /delivery-partner/partnership-pack': {
    own: [DPL],
    searches: ['delivery_partner={dp-code}', 'delivery_partner={dp-code}&lead_provider={lp-code}&format=xlsx'],
  },
  'GET /lead-provider/partnership-pack': {
    own: [LPA],
    searches: ['lead_provider={lp-code}&delivery_partner={dp-code}', 'lead_provider={lp-code}&delivery_partner={dp-code}&format=xlsx'],
  },

  // ---- Deferral and withdrawal ----
  'GET /participant/enrolments': { own: signedIn },
  'GET /participant/enrolments/:id': { params: { id: 'enrolment' }, own: [P] },
  'GET /participant/enrolments/:id/defer': { params: { id: 'enrolment' }, own: [P] },
  'POST /participant/enrolments/:id/defer': { params: { id: 'enrolment' }, own: [P] },
  'GET /participant/enrolments/:id/withdraw': { params: { id: 'enrolment' }, own: [P] },
  'POST /participant/enrolments/:id/withdraw': { params: { id: 'enrolment' }, own: [P] },
  'POST /participant/enrolments/:id/return': { params: { id: 'enrolment' }, own: [P] },
  'GET /delivery-partner/lifecycle': { own: [DPL] },
  // The "request on behalf" chooser: on to the enrolment's page, or not found.
  'GET /delivery-partner/lifecycle/enrolments': { query: 'enrolment={enrolment}', own: [DPL], peer: [DPL] },
  'GET /delivery-partner/lifecycle/enrolments/:id': { params: { id: 'enrolment' }, own: [DPL], peer: [DPL] },
  'GET /delivery-partner/lifecycle/enrolments/:id/defer': { params: { id: 'enrolment' }, own: [DPL], peer: [DPL] },
  'POST /delivery-partner/lifecycle/enrolments/:id/defer': { params: { id: 'enrolment' }, own: [DPL], peer: [DPL] },
  'GET /delivery-partner/lifecycle/enrolments/:id/withdraw': { params: { id: 'enrolment' }, own: [DPL], peer: [DPL] },
  'POST /delivery-partner/lifecycle/enrolments/:id/withdraw': { params: { id: 'enrolment' }, own: [DPL], peer: [DPL] },
  'GET /delivery-partner/lifecycle/deferrals/:id': { params: { id: 'deferral-request' }, own: [DPL] },
  'POST /delivery-partner/lifecycle/deferrals/:id/conversation': { params: { id: 'deferral-request' }, own: [DPL] },
  'GET /delivery-partner/lifecycle/withdrawals/:id': { params: { id: 'withdrawal-request' }, own: [DPL] },
  'GET /lead-provider/lifecycle': { own: [LPA] },
  'GET /lead-provider/lifecycle/enrolments': { query: 'enrolment={enrolment}', own: [LPA], peer: [LPA], sibling: [LPA] },
  'GET /lead-provider/lifecycle/enrolments/:id': { params: { id: 'enrolment' }, own: [LPA], peer: [LPA], sibling: [LPA] },
  'POST /lead-provider/lifecycle/enrolments/:id/resume': { params: { id: 'enrolment' }, own: [LPA], peer: [LPA], sibling: [LPA] },
  'POST /lead-provider/lifecycle/enrolments/:id/reinstate': { params: { id: 'enrolment' }, own: [LPA], peer: [LPA], sibling: [LPA] },
  'GET /lead-provider/lifecycle/deferrals/:id': { params: { id: 'deferral-request' }, own: [LPA], sibling: [LPA] },
  'POST /lead-provider/lifecycle/deferrals/:id/decision': { params: { id: 'deferral-request' }, own: [LPA], sibling: [LPA] },
  'GET /lead-provider/lifecycle/withdrawals/:id': { params: { id: 'withdrawal-request' }, own: [LPA], sibling: [LPA] },
  'POST /lead-provider/lifecycle/withdrawals/:id/decision': { params: { id: 'withdrawal-request' }, own: [LPA], sibling: [LPA] },

  // ---- Onboarding ----
  'GET /lead-provider/onboarding': { own: [LPA] },
  'GET /lead-provider/onboarding/:id': { params: { id: 'enrolment' }, own: [LPA], peer: [LPA], sibling: [LPA] },
  'POST /lead-provider/onboarding/:id/send': { params: { id: 'enrolment' }, own: [LPA], peer: [LPA], sibling: [LPA] },
  'POST /lead-provider/onboarding/:id/participant': { params: { id: 'enrolment' }, own: [LPA], peer: [LPA], sibling: [LPA] },
  'POST /lead-provider/onboarding/:id/line-manager': { params: { id: 'enrolment' }, own: [LPA], peer: [LPA], sibling: [LPA] },
  'POST /lead-provider/onboarding/:id/funding': { params: { id: 'enrolment' }, own: [LPA], peer: [LPA], sibling: [LPA] },

  // ---- Groups ----
  'GET /delivery-partner/groups': { own: [DPL] },
  'POST /delivery-partner/groups': { own: [DPL] },
  'GET /delivery-partner/groups/:id': { params: { id: 'participant-group' }, own: [DPL] },
  'POST /delivery-partner/groups/:id/move': {
    params: { id: 'participant-group' },
    body: { enrolment: '{enrolment}' },
    own: [DPL],
    mixed: [DPL],
  },
  'GET /lead-provider/groups': { own: [LPA] },

  // ---- The assessment: windows, sitting it, marking ----
  'GET /lead-provider/assessment': { own: [LPA] },
  'GET /lead-provider/assessment/windows/new': { own: [LPA] },
  'POST /lead-provider/assessment/windows': { own: [LPA] },
  'GET /lead-provider/assessment/windows/:id': { params: { id: 'assessment-window' }, own: [LPA], sibling: [LPA] },
  'GET /lead-provider/assessment/windows/:id/edit': { params: { id: 'assessment-window' }, own: [LPA], sibling: [LPA] },
  'POST /lead-provider/assessment/windows/:id/edit': { params: { id: 'assessment-window' }, own: [LPA], sibling: [LPA] },
  'POST /lead-provider/assessment/next-attempt': {
    body: { enrolment_id: '{enrolment}', window_id: '{own:assessment-window}' },
    own: [LPA],
    peer: [LPA],
    sibling: [LPA],
  },
  'GET /lead-provider/assessment/extenuating/:id': { params: { id: 'extenuating' }, own: [LPA], peer: [LPA], sibling: [LPA] },
  'POST /lead-provider/assessment/extenuating/:id': { params: { id: 'extenuating' }, own: [LPA], peer: [LPA], sibling: [LPA] },
  'GET /participant/assessment': { own: signedIn },
  'GET /participant/assessment/:id': { params: { id: 'assessment-entry' }, own: [P] },
  'POST /participant/assessment/:id': { params: { id: 'assessment-entry' }, own: [P] },
  'POST /participant/assessment/:id/autosave': { params: { id: 'assessment-entry' }, own: [P] },
  'POST /participant/assessment/:id/extenuating': { params: { id: 'assessment-entry' }, own: [P] },
  'GET /participant/assessment/results': { own: [P] },
  'GET /lead-provider/assessment/marking': { own: [LPA] },
  'GET /lead-provider/assessment/windows/:id/marking': { params: { id: 'assessment-window' }, own: [LPA], sibling: [LPA] },
  'POST /lead-provider/assessment/windows/:id/marking/allocate': { params: { id: 'assessment-window' }, own: [LPA], sibling: [LPA] },
  'POST /lead-provider/assessment/windows/:id/marking/reallocate': { params: { id: 'assessment-window' }, own: [LPA], sibling: [LPA] },
  'POST /lead-provider/assessment/windows/:id/marking/external-moderation': {
    params: { id: 'assessment-window' },
    own: [LPA],
    sibling: [LPA],
  },
  'POST /lead-provider/assessment/windows/:id/marking/release': { params: { id: 'assessment-window' }, own: [LPA], sibling: [LPA] },
  // Assessors see the scripts allocated to them, moderators the sampled ones: by reference, never by name.
  'GET /assessor/scripts': { own: [AS] },
  'GET /assessor/scripts/:reference': { own: [AS] },
  'POST /assessor/scripts/:reference': { own: [AS] },
  'GET /moderator/scripts': { own: [MO] },
  'GET /moderator/scripts/:reference': { own: [MO] },
  'POST /moderator/scripts/:reference': { own: [MO] },

  // ---- The implementation project ----
  'GET /delivery-partner/projects': { own: [DPL] },
  'GET /delivery-partner/projects/:id': { params: { id: 'enrolment' }, own: [DPL], peer: [DPL] },
  'GET /delivery-partner/projects/:id/reports/:reportId/file': { params: { id: 'enrolment' }, own: [DPL], peer: [DPL] },
  'GET /lead-provider/projects': { own: [LPA] },
  'GET /lead-provider/projects/:id': { params: { id: 'enrolment' }, own: [LPA], peer: [LPA], sibling: [LPA] },
  'GET /lead-provider/projects/:id/reports/:reportId/file': { params: { id: 'enrolment' }, own: [LPA], peer: [LPA], sibling: [LPA] },
  'GET /participant/project': { own: signedIn },
  'GET /participant/enrolments/:id/project': { params: { id: 'enrolment' }, own: [P] },
  'POST /participant/enrolments/:id/project/title': { params: { id: 'enrolment' }, own: [P] },
  'GET /participant/enrolments/:id/project/entries/new': { params: { id: 'enrolment' }, own: [P] },
  'POST /participant/enrolments/:id/project/entries': { params: { id: 'enrolment' }, own: [P] },
  'GET /participant/enrolments/:id/project/entries/:entryId': { params: { id: 'enrolment' }, own: [P] },
  'POST /participant/enrolments/:id/project/entries/:entryId': { params: { id: 'enrolment' }, own: [P] },
  'GET /participant/enrolments/:id/project/report': { params: { id: 'enrolment' }, own: [P] },
  'POST /participant/enrolments/:id/project/report': { params: { id: 'enrolment' }, own: [P] },
  'GET /participant/enrolments/:id/project/reports/:reportId/file': { params: { id: 'enrolment' }, own: [P] },

  // ---- Line manager meetings (the demo line manager's UCL participant, Sam Whitfield: the demo
  // participant's own courses have none; EDT's admins are not UCL's) ----
  'GET /participant/meetings': { own: signedIn },
  'GET /delivery-partner/meetings': { own: [DPL], searches: ['deliveryPartner={dp-id}', 'course={course}&cohort={cohort}'] },
  'GET /lead-provider/meetings': { own: [LPA], searches: ['deliveryPartner={dp-id}', 'course={course}&cohort={cohort}&page=2'] },
  'GET /meetings/:id': { params: { id: 'meeting-enrolment' }, own: [LM, DPL], peer: [DPL] },
  'GET /meetings/:id/schedule': { params: { id: 'meeting-enrolment' }, own: [LM] },
  'POST /meetings/:id/schedule': { params: { id: 'meeting-enrolment' }, own: [LM] },
  'GET /meetings/:id/schedules/:sid': { params: { id: 'meeting-enrolment', sid: 'meeting-schedule' }, own: [LM] },
  'POST /meetings/:id/schedules/:sid': { params: { id: 'meeting-enrolment', sid: 'meeting-schedule' }, own: [LM] },
  'POST /meetings/:id/schedules/:sid/cancel': { params: { id: 'meeting-enrolment', sid: 'meeting-schedule' }, own: [LM] },
  'GET /meetings/:id/logs/:n': { params: { id: 'meeting-enrolment' }, own: [LM, DPL], peer: [DPL] },
  // A reader (the partner's lead) is told they cannot change a log: reached, and refused with a message.
  'GET /meetings/:id/logs/:n/edit': { params: { id: 'meeting-enrolment' }, own: [LM, DPL], peer: [DPL] },
  'POST /meetings/:id/logs/:n/edit': { params: { id: 'meeting-enrolment' }, own: [LM, DPL], peer: [DPL] },
  'POST /meetings/:id/logs/:n/sign': { params: { id: 'meeting-enrolment' }, own: [LM, DPL], peer: [DPL] },
  'POST /meetings/:id/logs/:n/new-version': { params: { id: 'meeting-enrolment' }, own: [LM, DPL], peer: [DPL] },

  // ---- Block content: authoring, files, the Learn zone, tasks, local context ----
  'GET /lead-provider/content': { own: [LPA] },
  'GET /lead-provider/content/:lp/:course': { own: [LPA], sibling: [LPA] },
  'GET /lead-provider/content/:lp/:course/blocks/:block/new': { params: { block: 'content-block' }, own: [LPA], sibling: [LPA] },
  'POST /lead-provider/content/:lp/:course/blocks/:block/items': { params: { block: 'content-block' }, own: [LPA], sibling: [LPA] },
  'GET /lead-provider/content/items/:id': { params: { id: 'content-item' }, own: [LPA] },
  'POST /lead-provider/content/items/:id': { params: { id: 'content-item' }, own: [LPA] },
  'POST /lead-provider/content/items/:id/:action': { params: { id: 'content-item' }, own: [LPA] },
  'GET /lead-provider/content/items/:id/preview': { params: { id: 'content-item' }, own: [LPA] },
  // Those who may see an item that uses the file: its lead provider's admins, staff of partners running the course, its participants.
  'GET /content/files/:id': { params: { id: 'content-file' }, own: [P, F, DPL, LPA] },
  'GET /participant/learn': { own: signedIn },
  'GET /participant/learn/:course': { own: [P] },
  'GET /participant/learn/:course/blocks/:block': { params: { block: 'content-block' }, own: [P] },
  'GET /participant/learn/:course/items/:id': { params: { id: 'content-item' }, own: [P] },
  'POST /participant/learn/:course/items/:id/complete': { params: { id: 'content-item' }, own: [P] },
  'POST /participant/learn/:course/items/:id/answers': { params: { id: 'prompt-item' }, own: [P] },
  'POST /participant/learn/:course/items/:id/quiz': { params: { id: 'quiz-item' }, own: [P] },
  'POST /participant/learn/:course/items/:id/version': { params: { id: 'webinar-item' }, body: { version: '0' }, own: [P] },
  'POST /participant/learn/:course/items/:id/progress': {
    params: { id: 'media-item' },
    json: true,
    body: { version: 0, intervals: [[0, 5]] },
    own: [P],
  },
  'POST /participant/learn/:course/items/:id/task': { params: { id: 'content-item' }, own: [P] },
  'GET /participant/learn/:course/items/:id/submissions/:sid/file': { params: { id: 'content-item', sid: 'task-submission' }, own: [P] },
  // Formative tasks: the partner's facilitators and leads give feedback on its participants' submissions.
  'GET /facilitator/tasks': { own: [F, DPL] },
  'GET /facilitator/tasks/:id': { params: { id: 'task-submission' }, own: [F, DPL], peer: [F, DPL] },
  'POST /facilitator/tasks/:id': { params: { id: 'task-submission' }, own: [F, DPL], peer: [F, DPL] },
  'GET /facilitator/tasks/:id/file': { params: { id: 'task-submission' }, own: [F, DPL], peer: [F, DPL] },
  'GET /delivery-partner/content': { own: [DPL] },
  'GET /delivery-partner/content/:dp/:lp/:course': { params: { dp: 'dp-id' }, own: [DPL] },
  'GET /delivery-partner/content/:dp/:lp/:course/blocks/:block': { params: { dp: 'dp-id', block: 'content-block' }, own: [DPL] },
  'POST /delivery-partner/content/:dp/:lp/:course/blocks/:block': { params: { dp: 'dp-id', block: 'content-block' }, own: [DPL] },

  // ---- People: learning audits and journals (the participant's only), safeguarding, groups, contacts ----
  'GET /participant/learning-audit': { own: signedIn },
  'GET /participant/learning-audit/:id/new': { params: { id: 'enrolment' }, own: [P] },
  'POST /participant/learning-audit/:id': { params: { id: 'enrolment' }, own: [P] },
  'GET /participant/journal': { own: signedIn },
  'GET /participant/journal/new': { own: signedIn },
  'POST /participant/journal': { own: signedIn },
  'GET /participant/journal/:id': { params: { id: 'journal-entry' }, own: [P] },
  'POST /participant/journal/:id': { params: { id: 'journal-entry' }, own: [P] },
  'GET /participant/people': { own: signedIn },
  'GET /participant/contacts': { own: signedIn },
  // Anyone may raise a safeguarding concern; only designated safeguarding leads read them, whatever the path.
  'GET /participant/safeguarding/new': { own: signedIn },
  'POST /participant/safeguarding': { own: signedIn },
  'GET /participant/safeguarding/sent': { own: signedIn },
  'GET /safeguarding/concerns': { own: [DPL] },
  'GET /delivery-partner/safeguarding': { own: [DPL] },
  'GET /lead-provider/safeguarding': { own: [DPL] },
  'GET /facilitator/safeguarding': { own: [DPL] },
  'GET /safeguarding/concerns/:id': { params: { id: 'safeguarding-concern' }, own: [DPL] },
  'POST /safeguarding/concerns/:id': { params: { id: 'safeguarding-concern' }, own: [DPL] },
  'GET /delivery-partner/people': { own: [DPL], searches: ['partner={dp-id}'] },
  'GET /delivery-partner/people/groups/new': { own: [DPL], searches: ['partner={dp-id}&kind=buddies'] },
  'POST /delivery-partner/people/groups': { body: { partner: '{dp-id}' }, own: [DPL], sibling: [DPL], other: [DPL] },
  'GET /delivery-partner/people/groups/:id': { params: { id: 'people-group' }, own: [DPL] },
  'POST /delivery-partner/people/groups/:id/members': {
    params: { id: 'people-group' },
    body: { member: '{enrolment}' },
    own: [DPL],
    mixed: [DPL],
  },
  'GET /delivery-partner/people/contacts': { own: [DPL], searches: ['partner={dp-id}'] },
  'POST /delivery-partner/people/contacts': { body: { partner: '{dp-id}' }, own: [DPL], sibling: [DPL], other: [DPL] },
  'GET /delivery-partner/facilitators': { own: [DPL], searches: ['partner={dp-id}'] },
  'GET /delivery-partner/facilitators/:userId': { own: [DPL] },
  'GET /delivery-partner/facilitators/:userId/observations/new': { own: [DPL] },
  'POST /delivery-partner/facilitators/:userId/observations': { own: [DPL] },
  'GET /lead-provider/contacts': { own: [LPA], searches: ['provider={lp-id}'] },
  'POST /lead-provider/contacts': { body: { provider: '{lp-id}' }, own: [LPA], other: [LPA] },

  // ---- Dashboards and each participant's page ----
  'GET /delivery-partner/dashboard': { own: [DPL], searches: ['organisation={dp-code}', 'course={course}&cohort={cohort}'] },
  'GET /lead-provider/dashboard': {
    own: [LPA],
    searches: ['organisation={lp-code}', 'partner={dp-code}', 'course={course}&cohort={cohort}&partner={dp-code}'],
  },
  'GET /delivery-partner/participants/:id': { params: { id: 'enrolment' }, own: [DPL], peer: [DPL] },
  'GET /lead-provider/participants/:id': { params: { id: 'enrolment' }, own: [LPA], peer: [LPA], sibling: [LPA] },

  // ---- News, progress ----
  'GET /participant/news': { own: [P] },
  'GET /participant/progress': { own: [P] },
  'GET /lead-provider/news': { own: [LPA] },
  'GET /lead-provider/news/new': { own: [LPA] },
  'POST /lead-provider/news': { own: [LPA] },
  'POST /lead-provider/news/:id/withdraw': { params: { id: 'lp-news' }, own: [LPA] },
  'GET /delivery-partner/news': { own: [DPL] },
  'GET /delivery-partner/news/new': { own: [DPL] },
  'POST /delivery-partner/news': { own: [DPL] },
  'POST /delivery-partner/news/:id/withdraw': { params: { id: 'dp-news' }, own: [DPL] },

  // ---- Forums: participants in their groups' and courses' forums; moderators by area ----
  'GET /participant/forums': { own: signedIn },
  'GET /participant/forums/:forumId': { own: [P] },
  'GET /participant/forums/:forumId/threads/new': { own: [P] },
  'POST /participant/forums/:forumId/threads': { own: [P] },
  'GET /participant/forums/:forumId/threads/:threadId': { own: [P] },
  'POST /participant/forums/:forumId/threads/:threadId/replies': { own: [P] },
  'POST /participant/forums/:forumId/threads/:threadId/lock': { own: [] },
  'GET /participant/forums/:forumId/posts/:postId/hide': { own: [] },
  'POST /participant/forums/:forumId/posts/:postId/hide': { own: [] },
  'GET /facilitator/forums': { own: signedIn },
  'GET /facilitator/forums/:forumId': { own: [F] },
  'GET /facilitator/forums/:forumId/threads/new': { own: [F] },
  'POST /facilitator/forums/:forumId/threads': { own: [F] },
  'GET /facilitator/forums/:forumId/threads/:threadId': { own: [F] },
  'POST /facilitator/forums/:forumId/threads/:threadId/replies': { own: [F] },
  'POST /facilitator/forums/:forumId/threads/:threadId/lock': { own: [F] },
  'GET /facilitator/forums/:forumId/posts/:postId/hide': { own: [F] },
  'POST /facilitator/forums/:forumId/posts/:postId/hide': { own: [F] },
  'GET /delivery-partner/forums': { own: signedIn },
  'GET /delivery-partner/forums/:forumId': { own: [DPL] },
  'GET /delivery-partner/forums/:forumId/threads/new': { own: [DPL] },
  'POST /delivery-partner/forums/:forumId/threads': { own: [DPL] },
  'GET /delivery-partner/forums/:forumId/threads/:threadId': { own: [DPL] },
  'POST /delivery-partner/forums/:forumId/threads/:threadId/replies': { own: [DPL] },
  'POST /delivery-partner/forums/:forumId/threads/:threadId/lock': { own: [DPL] },
  'GET /delivery-partner/forums/:forumId/posts/:postId/hide': { own: [DPL] },
  'POST /delivery-partner/forums/:forumId/posts/:postId/hide': { own: [DPL] },
  'GET /lead-provider/forums': { own: signedIn },
  'GET /lead-provider/forums/:forumId': { params: { forumId: 'course-forum' }, own: [LPA], sibling: [LPA] },
  'GET /lead-provider/forums/:forumId/threads/new': { params: { forumId: 'course-forum' }, own: [LPA], sibling: [LPA] },
  'POST /lead-provider/forums/:forumId/threads': { params: { forumId: 'course-forum' }, own: [LPA], sibling: [LPA] },
  'GET /lead-provider/forums/:forumId/threads/:threadId': {
    params: { forumId: 'course-forum', threadId: 'course-forum-thread' },
    own: [LPA],
    sibling: [LPA],
  },
  'POST /lead-provider/forums/:forumId/threads/:threadId/replies': {
    params: { forumId: 'course-forum', threadId: 'course-forum-thread' },
    own: [LPA],
    sibling: [LPA],
  },
  'POST /lead-provider/forums/:forumId/threads/:threadId/lock': {
    params: { forumId: 'course-forum', threadId: 'course-forum-thread' },
    own: [LPA],
    sibling: [LPA],
  },
  'GET /lead-provider/forums/:forumId/posts/:postId/hide': {
    params: { forumId: 'course-forum', postId: 'course-forum-post' },
    own: [LPA],
    sibling: [LPA],
  },
  'POST /lead-provider/forums/:forumId/posts/:postId/hide': {
    params: { forumId: 'course-forum', postId: 'course-forum-post' },
    own: [LPA],
    sibling: [LPA],
  },
  'GET /lead-provider/forums/:forumId/activity': { params: { forumId: 'course-forum' }, own: [LPA], sibling: [LPA] },
  'POST /lead-provider/forums/:forumId/activity': { params: { forumId: 'course-forum' }, own: [LPA], sibling: [LPA] },

  // ---- Surveys ----
  'GET /lead-provider/surveys': { own: [LPA] },
  'GET /lead-provider/surveys/new': { own: [LPA] },
  'POST /lead-provider/surveys': { own: [LPA] },
  'GET /lead-provider/surveys/:id': { params: { id: 'survey' }, own: [LPA] },
  'GET /lead-provider/surveys/:id/responses.csv': { params: { id: 'survey' }, own: [LPA] },
  'GET /delivery-partner/surveys': { own: [DPL] },
  'GET /delivery-partner/surveys/:id': { params: { id: 'survey' }, own: [DPL] },
  'GET /delivery-partner/surveys/:id/responses.csv': { params: { id: 'survey' }, own: [DPL] },
  'GET /participant/surveys': { own: signedIn },
  'GET /participant/surveys/:id': { params: { id: 'survey' }, own: [P], searches: ['event={event}'] },
  'POST /participant/surveys/:id': { params: { id: 'survey' }, own: [P] },

  // ---- The API (bearer tokens only; each sees its own lead provider's records) ----
  'GET /api/v1/delivery-partners': { own: tokens },
  'GET /api/v1/participants': {
    own: tokens,
    searches: ['delivery_partner_id={dp-code}', 'cohort={cohort}&course_identifier={course}'],
  },
  'GET /api/v1/catalogue/designs': { own: tokens },
  // Designs are per lead provider: a token reads its own provider's design of any course it runs.
  'GET /api/v1/catalogue/designs/:course_identifier': { own: tokens, sibling: tokens, other: tokens },
  'POST /api/v1/learning-records': {
    // Another provider's participant named in the batch: refused as an event problem (422), nothing recorded.
    body: {
      events: [
        {
          event_id: 'access-matrix-1',
          participant_id: '{participant}',
          activity_code: '{activity-code}',
          occurred_at: '2023-01-10T10:00:00Z',
          source: 'automatic',
        },
      ],
    },
    own: tokens,
    peer: tokens,
    sibling: tokens,
    other: tokens,
  },
  'POST /api/v1/learning-records/:id/corrections': {
    params: { id: 'learning-record' },
    body: { retract: true, reason: 'Entered in error (access matrix)' },
    own: ['api-own'],
    sibling: ['api-own'],
    other: [APIX],
  },
  'GET /api/v1/events': { own: tokens, searches: ['delivery_partner={dp-code}', 'course_identifier={course}&cohort={cohort}'] },
  'POST /api/v1/events': { own: tokens },
  'GET /api/v1/events/:event_id': { own: ['api-own'], peer: ['api-own'], sibling: ['api-own'], other: [APIX] },
  'PATCH /api/v1/events/:event_id': { body: { capacity: 40 }, own: ['api-own'], peer: ['api-own'], sibling: ['api-own'], other: [APIX] },
  'POST /api/v1/events/:event_id/cancel': {
    body: { reason: 'Cancelled by the access matrix' },
    own: ['api-own'],
    peer: ['api-own'],
    sibling: ['api-own'],
    other: [APIX],
  },
  'GET /api/v1/events/:event_id/bookings': { own: ['api-own'], peer: ['api-own'], sibling: ['api-own'], other: [APIX] },
  'POST /api/v1/events/:event_id/bookings': {
    body: { participant_id: '{participant}' },
    own: ['api-own'],
    peer: ['api-own'],
    sibling: ['api-own'],
    other: [APIX],
    mixed: ['api-own'],
  },
  'POST /api/v1/events/:event_id/bookings/:participant_id/cancel': {
    own: ['api-own'],
    peer: ['api-own'],
    sibling: ['api-own'],
    other: [APIX],
    nested: ['api-own'],
    mixed: ['api-own'],
  },
  'GET /api/v1/events/:event_id/register': { own: ['api-own'], peer: ['api-own'], sibling: ['api-own'], other: [APIX] },
  'POST /api/v1/events/:event_id/register': {
    body: { entries: [{ participant_id: '{participant}', status: 'attended' }] },
    own: ['api-own'],
    peer: ['api-own'],
    sibling: ['api-own'],
    other: [APIX],
    mixed: ['api-own'],
  },
}
