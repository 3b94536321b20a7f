import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import type { FastifyInstance } from 'fastify'
import { Agent, textOf } from '../test-support/agent.ts'
import { startDemoApp } from '../test-support/demo-app.ts'
import type { TestServices } from '../test-support/services.ts'

// The upload page: upload, preview what would change (nothing written), apply; problems listed by
// line and column; other lead providers' rows refused; admins only.

const password = 'demo-password-for-tests'
let services: TestServices
let app: FastifyInstance

let close: () => Promise<void>

before(async () => {
  ;({ services, app, close } = await startDemoApp())
})
after(() => close())

const partners =
  'delivery_partner_id,name,lead_provider\nriver-tsh,River Teaching School Hub,edt\nnorth-star-tsh,North Star Teaching School Hub,edt\n'

async function admin(): Promise<Agent> {
  const agent = new Agent(app)
  await agent.signIn('lead-provider-admin@demo.test', password)
  return agent
}

const countPartners = async () =>
  Number(
    (
      await services.db
        .selectFrom('organisations')
        .select((eb) => eb.fn.countAll().as('n'))
        .where('kind', '=', 'delivery-partner')
        .executeTakeFirstOrThrow()
    ).n,
  )

test('an admin uploads a file, sees what it would change without anything written, then imports it', async () => {
  const agent = await admin()
  const page = await agent.get('/lead-provider/imports')
  assert.equal(page.statusCode, 200)
  assert.match(page.body, /What does the file hold\?/)
  const before = await countPartners()

  const uploaded = await agent.upload(
    '/lead-provider/imports',
    { kind: 'delivery-partners' },
    { field: 'file', filename: 'partners.csv', content: partners },
  )
  assert.equal(uploaded.statusCode, 303)
  const previewUrl = uploaded.headers.location as string
  const preview = await agent.get(previewUrl)
  assert.equal(preview.statusCode, 200)
  assert.match(textOf(preview.body, 'h1')!, /Check partners\.csv before importing/)
  assert.match(preview.body, /New\s*<\/dt>\s*<dd class="govuk-summary-list__value">\s*1/)
  assert.match(preview.body, /Unchanged\s*<\/dt>\s*<dd class="govuk-summary-list__value">\s*1/)
  assert.match(preview.body, /River Teaching School Hub/)
  assert.equal(await countPartners(), before, 'the preview writes nothing')

  const applied = await agent.post(`${previewUrl}/apply`, {}, { csrfFrom: previewUrl })
  assert.equal(applied.statusCode, 303)
  const done = await agent.get(previewUrl)
  assert.match(done.body, /Import complete/)
  assert.match(done.body, /1 new, 0 updated, 1 unchanged/)
  assert.equal(await countPartners(), before + 1)
  const audit = await services.db
    .selectFrom('audit_events')
    .select('action')
    .where('action', 'in', ['import.uploaded', 'import.applied'])
    .execute()
  assert.deepEqual(audit.map((a) => a.action).sort(), ['import.applied', 'import.uploaded'])

  // Applying twice does nothing more.
  const again = await agent.post(`${previewUrl}/apply`, {}, { csrfFrom: previewUrl })
  assert.equal(again.statusCode, 303)
  assert.equal(await countPartners(), before + 1)
  const list = await agent.get('/lead-provider/imports')
  assert.match(list.body, /partners\.csv/)
})

test('a file with problems lists each by line and column, and cannot be imported; rows of another lead provider are refused', async () => {
  const agent = await admin()
  const bad = 'delivery_partner_id,name,lead_provider\nok-tsh,OK TSH,edt\n,No Id,edt\nother-tsh,Other TSH,ucl\n'
  const uploaded = await agent.upload(
    '/lead-provider/imports',
    { kind: 'delivery-partners' },
    { field: 'file', filename: 'bad.csv', content: bad },
  )
  const preview = await agent.get(uploaded.headers.location as string)
  assert.equal(preview.statusCode, 422)
  assert.match(preview.body, /govuk-error-summary/)
  assert.match(preview.body, /2 problems in the file: nothing can be imported/)
  assert.match(preview.body, /must be letters, digits/)
  assert.match(preview.body, /you can import delivery partners of edt only/)
  assert.doesNotMatch(preview.body, /\/apply"/)
  const applied = await agent.post(`${uploaded.headers.location}/apply`, {}, { csrfFrom: uploaded.headers.location as string })
  assert.equal(applied.statusCode, 422)
  const ok = await services.db.selectFrom('organisations').select('id').where('code', '=', 'ok-tsh').executeTakeFirst()
  assert.equal(ok, undefined)
})

test('the form explains a missing kind or file; people other than admins cannot import', async () => {
  const agent = await admin()
  const missing = await agent.upload('/lead-provider/imports', {}, { field: 'file', filename: 'empty.csv', content: '' })
  assert.equal(missing.statusCode, 400)
  assert.match(missing.body, /Select what the file holds/)
  assert.match(missing.body, /Select a CSV file with a header row/)

  const lead = new Agent(app)
  await lead.signIn('delivery-partner-lead@demo.test', password)
  assert.equal((await lead.get('/lead-provider/imports')).statusCode, 403)
  const anonymous = await new Agent(app).get('/lead-provider/imports')
  assert.equal(anonymous.statusCode, 303)

  // Another lead provider's admin cannot see this provider's uploads.
  const upload = await services.db.selectFrom('import_uploads').select('id').executeTakeFirstOrThrow()
  const ucl = await services.db.selectFrom('organisations').select('id').where('code', '=', 'ucl').executeTakeFirstOrThrow()
  await services.accounts.createUser(
    { kind: 'system', name: 'test' },
    {
      email: 'ucl-admin@test.test',
      fullName: 'UCL Admin',
      role: 'lead-provider-admin',
      organisationId: ucl.id,
      password: 'a long test password',
    },
  )
  const other = new Agent(app)
  await other.signIn('ucl-admin@test.test', 'a long test password')
  assert.equal((await other.get(`/lead-provider/imports/${upload.id}`)).statusCode, 404)
})
