import { sql, type Insertable } from 'kysely'
import type { Config } from '../config.ts'
import { recordAudit } from '../audit/audit.ts'
import type { Db, Trx } from '../db/database.ts'
import type { UsersTable } from '../db/schema.ts'
import type { EmailOutbox } from '../email/outbox.ts'
import { AppError, forbidden, notFound } from '../errors.ts'
import { organisationRef } from '../organisations/organisations.ts'
import { can } from '../policy/policy.ts'
import type { Principal } from '../policy/principal.ts'
import { roleLabels, roleOrganisationKind, type Role } from '../policy/roles.ts'
import { hashPassword, passwordProblem, verifyDecoy, verifyPassword } from './passwords.ts'
import { createSession, endAllSessions } from './sessions.ts'
import { hashToken, randomToken } from './tokens.ts'

// Sign-in throttling: failures in the window, per email address and per network address.
const THROTTLE_WINDOW = '15 minutes'
const MAX_FAILURES_PER_EMAIL = 5
const MAX_FAILURES_PER_IP = 30
// Lockout, beyond throttling: LOCKOUT_FAILURES failed sign-ins to one address within LOCKOUT_WINDOW_MINUTES
// lock it for LOCKOUT_MINUTES after the last of them. Addresses without an account lock just the same, so
// the answer never says whether an account exists. A password reset unlocks at once.
export const LOCKOUT_FAILURES = 10
export const LOCKOUT_WINDOW_MINUTES = 60
export const LOCKOUT_MINUTES = 60
const INVITATION_DAYS = 7
const RESET_HOURS = 2
// Sign-in links: short-lived, and at most a few per account in the throttle window.
const SIGN_IN_LINK_MINUTES = 30
const MAX_SIGN_IN_LINKS_PER_EMAIL = 3

export type SignInResult =
  { outcome: 'signed-in'; userId: string; sessionToken: string } | { outcome: 'invalid' } | { outcome: 'throttled' } | { outcome: 'locked' }

/** The person themself as the actor of their own sign-in or password change. */
const asUser = (userId: string, email: string): Principal => ({ kind: 'user', userId, email, fullName: '', roles: [] })

export type InviteInput = { email: string; fullName: string; role: Role; organisationId: string }

export class Accounts {
  private readonly db: Db
  private readonly email: EmailOutbox
  private readonly config: Config

  constructor(db: Db, email: EmailOutbox, config: Config) {
    this.db = db
    this.email = email
    this.config = config
  }

  async signIn(emailAddress: string, password: string, ip: string): Promise<SignInResult> {
    const email = emailAddress.trim().toLowerCase()
    if (await this.isLocked(email)) {
      await verifyDecoy(password)
      return { outcome: 'locked' }
    }
    // An address's failures count from its last success (a sign-in or a password reset).
    const since = this.lastSuccess(email)
    const failures = await this.db
      .selectFrom('sign_in_attempts')
      .select([
        sql<number>`count(*) filter (where email = ${email} and attempted_at > ${since})`.as('byEmail'),
        sql<number>`count(*) filter (where ip = ${ip})`.as('byIp'),
      ])
      .where('succeeded', '=', false)
      .where('attempted_at', '>', sql<Date>`now() - ${THROTTLE_WINDOW}::interval`)
      .where((eb) => eb.or([eb('email', '=', email), eb('ip', '=', ip)]))
      .executeTakeFirstOrThrow()
    if (Number(failures.byEmail) >= MAX_FAILURES_PER_EMAIL || Number(failures.byIp) >= MAX_FAILURES_PER_IP) {
      await verifyDecoy(password)
      return { outcome: 'throttled' }
    }

    const user = await this.db
      .selectFrom('users')
      .select(['id', 'password_hash', 'status', 'is_demo'])
      .where('email', '=', email)
      .executeTakeFirst()
    const usable = user && user.status === 'active' && user.password_hash && !(user.is_demo && this.config.isProduction)
    const ok = usable ? await verifyPassword(user.password_hash!, password) : (await verifyDecoy(password), false)
    await this.db.insertInto('sign_in_attempts').values({ email, ip, succeeded: ok }).execute()
    if (!ok) return { outcome: 'invalid' }

    // A fresh session token at every sign-in: a token planted before sign-in is never promoted.
    const sessionToken = await this.db.transaction().execute(async (trx) => {
      await trx.updateTable('users').set({ last_signed_in_at: new Date() }).where('id', '=', user!.id).execute()
      await recordAudit(trx, { by: asUser(user!.id, email), action: 'session.started', entityType: 'user', entityId: user!.id })
      return createSession(trx, user!.id)
    })
    return { outcome: 'signed-in', userId: user!.id, sessionToken }
  }

  /** When the address last signed in or reset its password (SQL, for the failure counts). */
  private lastSuccess(email: string) {
    return sql<Date>`coalesce((select max(attempted_at) from sign_in_attempts where email = ${email} and succeeded), '-infinity')`
  }

  /**
   * Whether an address is locked: its last LOCKOUT_FAILURES failures since its last success all fell
   * within LOCKOUT_WINDOW_MINUTES, and the last of them less than LOCKOUT_MINUTES ago. Attempts while
   * locked or throttled are not recorded, so the lock ends on time however often someone keeps trying.
   */
  async isLocked(emailAddress: string): Promise<boolean> {
    const email = emailAddress.trim().toLowerCase()
    const recent = this.db
      .selectFrom('sign_in_attempts')
      .select('attempted_at')
      .where('email', '=', email)
      .where('succeeded', '=', false)
      .where('attempted_at', '>', this.lastSuccess(email))
      .where('attempted_at', '>', sql<Date>`now() - ${`${LOCKOUT_WINDOW_MINUTES + LOCKOUT_MINUTES} minutes`}::interval`)
      .orderBy('attempted_at', 'desc')
      .limit(LOCKOUT_FAILURES)
    const row = await this.db
      .selectFrom(recent.as('r'))
      .select(
        sql<boolean>`count(*) >= ${LOCKOUT_FAILURES}
          and max(r.attempted_at) - min(r.attempted_at) <= ${`${LOCKOUT_WINDOW_MINUTES} minutes`}::interval
          and max(r.attempted_at) > now() - ${`${LOCKOUT_MINUTES} minutes`}::interval`.as('locked'),
      )
      .executeTakeFirstOrThrow()
    return row.locked === true
  }

  /** Invites a person to a role in an organisation; a new person gets a link to set a password. */
  async invite(by: Principal, input: InviteInput): Promise<{ userId: string }> {
    const organisation = await organisationRef(this.db, input.organisationId)
    if (!organisation) throw notFound('Organisation')
    if (organisation.kind !== roleOrganisationKind[input.role]) {
      throw new AppError(
        'validation-failed',
        `A ${roleLabels[input.role].toLowerCase()} belongs to a ${roleOrganisationKind[input.role].replace('-', ' ')}`,
        [{ field: 'organisationId', message: `Choose a ${roleOrganisationKind[input.role].replace('-', ' ')} for this role` }],
      )
    }
    if (!can(by, 'create', { type: 'invitation', role: input.role, organisation })) throw forbidden()

    const email = input.email.trim().toLowerCase()
    return this.db.transaction().execute(async (trx) => {
      const user = await findOrCreateUser(trx, by, { email, full_name: input.fullName.trim() })
      if (!(await assignRole(trx, by, user.id, input.role, organisation.id))) {
        throw new AppError('conflict', `${email} already has that role in this organisation`, [
          { field: 'email', message: 'This person already has that role in this organisation' },
        ])
      }

      const orgName = (await trx.selectFrom('organisations').select('name').where('id', '=', organisation.id).executeTakeFirstOrThrow())
        .name
      if (user.password_hash) {
        await this.email.queue(trx, {
          to: email,
          subject: `You have a new role on the NPQ platform`,
          body: `Hello ${user.full_name},\n\nYou are now ${roleLabels[input.role].toLowerCase()} for ${orgName}.\n\nSign in at ${this.config.baseUrl}/sign-in`,
        })
      } else {
        const link = await this.createLink(trx, user.id, 'set-password', INVITATION_DAYS * 24)
        await this.email.queue(trx, {
          to: email,
          subject: 'You have been invited to the NPQ platform',
          body:
            `Hello ${user.full_name},\n\nYou have been invited to the NPQ platform as ${roleLabels[input.role].toLowerCase()} for ${orgName}.\n\n` +
            `Set your password to get started (this link works once and expires in ${INVITATION_DAYS} days):\n${this.config.baseUrl}/set-password/${link}\n`,
        })
      }
      return { userId: user.id }
    })
  }

  /** Sends a password link to an active account; says nothing about whether one exists. */
  async requestPasswordReset(emailAddress: string): Promise<void> {
    const email = emailAddress.trim().toLowerCase()
    await this.db.transaction().execute(async (trx) => {
      const user = await trx.selectFrom('users').select(['id', 'full_name', 'status']).where('email', '=', email).executeTakeFirst()
      if (!user || user.status === 'disabled') return
      const link = await this.createLink(trx, user.id, 'set-password', RESET_HOURS)
      await this.email.queue(trx, {
        to: email,
        subject: 'Set a new password for the NPQ platform',
        body: `Hello ${user.full_name},\n\nUse this link to set a new password (it works once and expires in ${RESET_HOURS} hours):\n${this.config.baseUrl}/set-password/${link}\n\nIf you did not ask for this, you can ignore this email.`,
      })
    })
  }

  /** The account a set-password link belongs to, while the link is usable. */
  async findPasswordLink(token: string): Promise<{ userId: string; email: string } | null> {
    const row = await this.db
      .selectFrom('one_time_links as l')
      .innerJoin('users as u', 'u.id', 'l.user_id')
      .select(['u.id', 'u.email', 'u.status'])
      .where('l.token_hash', '=', hashToken(token))
      .where('l.purpose', '=', 'set-password')
      .where('l.used_at', 'is', null)
      .where('l.expires_at', '>', new Date())
      .executeTakeFirst()
    return row && row.status !== 'disabled' ? { userId: row.id, email: row.email } : null
  }

  /**
   * Sets a password through a one-time link, ends every other session, unlocks the address (the link
   * proved the person holds it) and signs the person in.
   */
  async setPasswordWithLink(token: string, password: string, ip: string): Promise<{ sessionToken: string }> {
    const link = await this.findPasswordLink(token)
    if (!link) throw new AppError('not-found', 'This link has expired or has already been used')
    const problem = passwordProblem(password, link.email)
    if (problem) throw new AppError('validation-failed', problem, [{ field: 'password', message: problem }])
    const hash = await hashPassword(password)
    await this.db.transaction().execute(async (trx) => {
      const used = await trx
        .updateTable('one_time_links')
        .set({ used_at: new Date() })
        .where('token_hash', '=', hashToken(token))
        .where('used_at', 'is', null)
        .returning('id')
        .executeTakeFirst()
      if (!used) throw new AppError('not-found', 'This link has expired or has already been used')
      await trx.updateTable('users').set({ password_hash: hash, status: 'active' }).where('id', '=', link.userId).execute()
      // A success for the address: earlier failures no longer count towards throttling or lockout.
      await trx.insertInto('sign_in_attempts').values({ email: link.email, ip, succeeded: true }).execute()
      await recordAudit(trx, {
        by: asUser(link.userId, link.email),
        action: 'user.password-set',
        entityType: 'user',
        entityId: link.userId,
      })
    })
    await endAllSessions(this.db, link.userId)
    return { sessionToken: await createSession(this.db, link.userId) }
  }

  /**
   * Emails a one-time link that signs the person in (any account that is not disabled: a line manager
   * need never set a password). Says nothing about whether an account exists; beyond a few links per
   * account in the throttle window, no more are sent.
   */
  async requestSignInLink(emailAddress: string, returnTo: string | null): Promise<void> {
    const email = emailAddress.trim().toLowerCase()
    await this.db.transaction().execute(async (trx) => {
      const user = await trx
        .selectFrom('users')
        .select(['id', 'full_name', 'status', 'is_demo'])
        .where('email', '=', email)
        .forUpdate()
        .executeTakeFirst()
      if (!user || user.status === 'disabled' || (user.is_demo && this.config.isProduction)) return
      const recent = await trx
        .selectFrom('one_time_links')
        .select(sql<number>`count(*)`.as('n'))
        .where('user_id', '=', user.id)
        .where('purpose', '=', 'sign-in')
        .where('created_at', '>', sql<Date>`now() - ${THROTTLE_WINDOW}::interval`)
        .executeTakeFirstOrThrow()
      if (Number(recent.n) >= MAX_SIGN_IN_LINKS_PER_EMAIL) return
      const link = await this.createLink(trx, user.id, 'sign-in', SIGN_IN_LINK_MINUTES / 60)
      const query = returnTo ? `?returnTo=${encodeURIComponent(returnTo)}` : ''
      await this.email.queue(trx, {
        to: email,
        subject: 'Your link to sign in to the NPQ platform',
        body: `Hello ${user.full_name},\n\nUse this link to sign in (it works once and expires in ${SIGN_IN_LINK_MINUTES} minutes):\n${this.config.baseUrl}/sign-in/link/${link}${query}\n\nIf you did not ask for this, you can ignore this email.`,
      })
    })
  }

  /** Whether a sign-in link is still usable (for the page that asks to confirm). */
  async signInLinkUsable(token: string): Promise<boolean> {
    return Boolean(await this.usableSignInLink(this.db, token))
  }

  private async usableSignInLink(db: Db | Trx, token: string) {
    const link = await db
      .selectFrom('one_time_links as l')
      .innerJoin('users as u', 'u.id', 'l.user_id')
      .select(['l.id', 'u.id as userId', 'u.email', 'u.status', 'u.is_demo'])
      .where('l.token_hash', '=', hashToken(token))
      .where('l.purpose', '=', 'sign-in')
      .where('l.used_at', 'is', null)
      .where('l.expires_at', '>', new Date())
      .where('u.status', '!=', 'disabled')
      .executeTakeFirst()
    return link && !(link.is_demo && this.config.isProduction) ? link : undefined
  }

  /** Uses a sign-in link (once) and starts a session; null when the link is expired, used or unknown. */
  async signInWithLink(token: string): Promise<{ userId: string; sessionToken: string } | null> {
    return this.db.transaction().execute(async (trx) => {
      const link = await this.usableSignInLink(trx, token)
      if (!link) return null
      const used = await trx
        .updateTable('one_time_links')
        .set({ used_at: new Date() })
        .where('id', '=', link.id)
        .where('used_at', 'is', null)
        .returning('id')
        .executeTakeFirst()
      if (!used) return null
      // Following the emailed link proves the address: an invited account becomes active.
      await trx.updateTable('users').set({ last_signed_in_at: new Date(), status: 'active' }).where('id', '=', link.userId).execute()
      await recordAudit(trx, {
        by: asUser(link.userId, link.email),
        action: 'session.started',
        entityType: 'user',
        entityId: link.userId,
        after: { via: 'sign-in-link' },
      })
      return { userId: link.userId, sessionToken: await createSession(trx, link.userId) }
    })
  }

  /** Creates an active account with a password (CLI and demo data), or adds a role to an existing one. */
  async createUser(by: Principal, input: InviteInput & { password?: string; isDemo?: boolean }, trx?: Trx): Promise<string> {
    const email = input.email.trim().toLowerCase()
    if (input.password) {
      const problem = passwordProblem(input.password, email)
      if (problem && !input.isDemo) throw new AppError('validation-failed', problem, [{ field: 'password', message: problem }])
    }
    const hash = input.password ? await hashPassword(input.password) : null
    const work = async (t: Trx) => {
      const user = await findOrCreateUser(t, by, {
        email,
        full_name: input.fullName,
        password_hash: hash,
        status: hash ? 'active' : 'invited',
        is_demo: input.isDemo ?? false,
      })
      await assignRole(t, by, user.id, input.role, input.organisationId)
      return user.id
    }
    return trx ? work(trx) : this.db.transaction().execute(work)
  }

  private async createLink(trx: Trx, userId: string, purpose: string, hours: number): Promise<string> {
    const token = randomToken()
    await trx
      .insertInto('one_time_links')
      .values({ token_hash: hashToken(token), purpose, user_id: userId, expires_at: new Date(Date.now() + hours * 3600_000) })
      .execute()
    return token
  }
}

/** The account for an email address, created (and audited) when there is none. */
async function findOrCreateUser(trx: Trx, by: Principal, values: Insertable<UsersTable> & { email: string }) {
  const existing = await trx
    .selectFrom('users')
    .select(['id', 'full_name', 'password_hash'])
    .where('email', '=', values.email)
    .forUpdate()
    .executeTakeFirst()
  if (existing) return existing
  const user = await trx.insertInto('users').values(values).returning(['id', 'full_name', 'password_hash']).executeTakeFirstOrThrow()
  await recordAudit(trx, {
    by,
    action: 'user.created',
    entityType: 'user',
    entityId: user.id,
    after: { email: values.email, full_name: values.full_name },
  })
  return user
}

/** Gives a person a role in an organisation (audited); false when they hold it already. */
async function assignRole(trx: Trx, by: Principal, userId: string, role: Role, organisationId: string): Promise<boolean> {
  const assigned = await trx
    .insertInto('role_assignments')
    .values({ user_id: userId, role, organisation_id: organisationId })
    .onConflict((oc) => oc.doNothing())
    .returning('id')
    .executeTakeFirst()
  if (assigned) {
    await recordAudit(trx, {
      by,
      action: 'role.assigned',
      entityType: 'user',
      entityId: userId,
      after: { role, organisation_id: organisationId },
    })
  }
  return Boolean(assigned)
}
