import crypto from 'node:crypto'
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import type { Db } from '../db/database.ts'
import type { DeclarationState } from '../db/schema.ts'
import { organisation, partnership } from '../test-support/fixtures.ts'

// Data for the DfE sync tests: a lead provider and a delivery partner known to DfE by its UUID,
// participants on a course, declarations; and a stand-in DfE server whose answers a test chooses.

export const dfeDeliveryPartnerId = '524df095-f9bf-4f9d-ba4c-772545a99e60'

export type DfeWorld = { db: Db; leadProviderId: string; deliveryPartnerId: string }

export async function dfeWorld(db: Db, leadProviderCode = 'edt'): Promise<DfeWorld> {
  // The demo's lead provider keeps its name; a bare database gets one.
  const existing = await db
    .selectFrom('organisations')
    .select('id')
    .where('kind', '=', 'lead-provider')
    .where('code', '=', leadProviderCode)
    .executeTakeFirst()
  const leadProviderId = existing?.id ?? (await organisation(db, 'lead-provider', leadProviderCode))
  const deliveryPartnerId = await organisation(db, 'delivery-partner', dfeDeliveryPartnerId, 'Foo Education')
  await partnership(db, leadProviderId, deliveryPartnerId)
  return { db, leadProviderId, deliveryPartnerId }
}

let trn = 3_000_000 + Math.floor(Math.random() * 5_000_000)

/** A participant enrolled on one course with the world's lead provider and partner. */
export async function dfeParticipant(
  world: DfeWorld,
  options: { name?: string; course?: string; cohort?: string } = {},
): Promise<{ participantId: string; enrolmentId: string; course: string; cohort: string }> {
  const participantId = crypto.randomUUID()
  const course = options.course ?? 'npq-headship'
  const cohort = options.cohort ?? '2024-autumn'
  trn++
  await world.db
    .insertInto('participants')
    .values({ id: participantId, full_name: options.name ?? `Participant ${trn}`, email: `p${trn}@school.test`, trn: String(trn) })
    .execute()
  const enrolment = await world.db
    .insertInto('enrolments')
    .values({
      participant_id: participantId,
      lead_provider_id: world.leadProviderId,
      delivery_partner_id: world.deliveryPartnerId,
      course_identifier: course,
      cohort,
    })
    .returning('id')
    .executeTakeFirstOrThrow()
  return { participantId, enrolmentId: enrolment.id, course, cohort }
}

export async function dfeDeclaration(
  world: DfeWorld,
  p: { participantId: string; enrolmentId: string; course: string; cohort: string },
  options: {
    type?: 'started' | 'retained-1' | 'retained-2' | 'completed'
    date?: string
    hasPassed?: boolean
    state?: DeclarationState
  } = {},
): Promise<string> {
  const type = options.type ?? 'started'
  const row = await world.db
    .insertInto('declarations')
    .values({
      enrolment_id: p.enrolmentId,
      participant_id: p.participantId,
      lead_provider_id: world.leadProviderId,
      delivery_partner_id: world.deliveryPartnerId,
      course_identifier: p.course,
      cohort: p.cohort,
      declaration_type: type,
      declaration_date: options.date ?? '2024-11-05',
      has_passed: type === 'completed' ? (options.hasPassed ?? true) : null,
      state: options.state,
      evidence: JSON.stringify({ criterion: 'register-attendance' }),
      engagement: JSON.stringify({ percent: 50 }),
      idempotency_key: crypto.randomUUID(),
    })
    .returning('id')
    .executeTakeFirstOrThrow()
  return row.id
}

export type SeenRequest = { method: string; url: string; authorization: string | undefined; body: unknown }
export type FakeAnswer = { status: number; body?: unknown } | 'hang'

/** A stand-in for DfE: `answer` decides each response (or to never answer); every request is kept. */
export async function startFakeDfe(answer: (request: SeenRequest) => FakeAnswer): Promise<{
  url: string
  seen: SeenRequest[]
  close(): Promise<void>
}> {
  const seen: SeenRequest[] = []
  const server = http.createServer((req, res) => {
    let text = ''
    req.on('data', (chunk: Buffer) => (text += String(chunk)))
    req.on('end', () => {
      const request = { method: req.method!, url: req.url!, authorization: req.headers.authorization, body: text ? JSON.parse(text) : null }
      seen.push(request)
      const a = answer(request)
      if (a === 'hang') return
      res.writeHead(a.status, { 'content-type': 'application/json' })
      res.end(a.body === undefined ? '' : JSON.stringify(a.body))
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/v3`,
    seen,
    async close() {
      server.closeAllConnections()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
}

/** DfE's answer about a declaration, as the API sends it (dasherised states). */
export function dfeDeclarationBody(id: string, state: string, attributes: Record<string, unknown> = {}) {
  return {
    data: {
      id,
      type: 'participant-declaration',
      attributes: { declaration_type: 'started', course_identifier: 'npq-headship', state, has_passed: null, ...attributes },
    },
  }
}
