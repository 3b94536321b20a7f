import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import type { FastifyInstance } from 'fastify'
import { Agent } from '../test-support/agent.ts'
import { demoPassword, startDemoApp } from '../test-support/demo-app.ts'
import type { TestServices } from '../test-support/services.ts'

// Inviting someone: the form lists the lead provider and its delivery partners, never every school;
// a school contact or line manager's school is named by its URN, one of the provider's participants' schools.

let services: TestServices
let app: FastifyInstance
let close: () => Promise<void>

before(async () => {
  ;({ services, app, close } = await startDemoApp())
})
after(() => close())

test('a lead-provider admin names a school by its URN; the list offers only the provider and its partners', async () => {
  const { db } = services
  const school = await db
    .selectFrom('enrolments as e')
    .innerJoin('organisations as lp', 'lp.id', 'e.lead_provider_id')
    .innerJoin('organisations as s', 's.id', 'e.school_id')
    .select(['s.id', 's.code', 's.name'])
    .where('lp.code', '=', 'edt')
    .executeTakeFirstOrThrow()
  const admin = new Agent(app)
  await admin.signIn('lead-provider-admin@demo.test', demoPassword)
  const form = await admin.get('/lead-provider/users/invite')
  assert.equal(form.statusCode, 200)
  assert.match(form.body, /\(delivery partner\)/)
  assert.ok(!form.body.includes(school.id), 'schools are not listed')
  assert.match(form.body, /A school \(enter its URN\)/)
  assert.match(form.body, /id="schoolUrn"/)

  const invite = (urn: string, email: string) =>
    admin.post(
      '/lead-provider/users/invite',
      { fullName: 'Sam School', email, role: 'school-contact', organisationId: 'school', schoolUrn: urn },
      { csrfFrom: '/lead-provider/users/invite' },
    )
  const missing = await invite('', 'sam@school.test')
  assert.equal(missing.statusCode, 400)
  assert.match(missing.body, /href="#schoolUrn">Enter the school’s URN/)
  const unknown = await invite('999999', 'sam@school.test')
  assert.equal(unknown.statusCode, 400)
  assert.match(unknown.body, /There is no school with URN 999999 among your participants’ schools/)
  assert.equal(await db.selectFrom('users').select('id').where('email', '=', 'sam@school.test').executeTakeFirst(), undefined)

  const sent = await invite(school.code, 'sam@school.test')
  assert.equal(sent.statusCode, 303)
  const role = await db
    .selectFrom('role_assignments as ra')
    .innerJoin('users as u', 'u.id', 'ra.user_id')
    .select(['ra.role', 'ra.organisation_id'])
    .where('u.email', '=', 'sam@school.test')
    .executeTakeFirstOrThrow()
  assert.deepEqual(role, { role: 'school-contact', organisation_id: school.id })

  // A school's id posted directly still works when it is one of theirs (the list used to carry them).
  const direct = await admin.post(
    '/lead-provider/users/invite',
    { fullName: 'Lee Manager', email: 'lee@school.test', role: 'line-manager', organisationId: school.id },
    { csrfFrom: '/lead-provider/users/invite' },
  )
  assert.equal(direct.statusCode, 303)
})
