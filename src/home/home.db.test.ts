import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import type { FastifyInstance } from 'fastify'
import { Agent } from '../test-support/agent.ts'
import { demoPassword, startDemoApp } from '../test-support/demo-app.ts'
import type { TestServices } from '../test-support/services.ts'

// Staff Homes count their participants per course and cohort in the database: at national scale a
// partner has thousands, and listing every one made the page megabytes long (docs/PERFORMANCE.md).

let services: TestServices
let app: FastifyInstance
let close: () => Promise<void>
before(async () => {
  ;({ services, app, close } = await startDemoApp())
})
after(() => close())

const as = async (email: string) => {
  const agent = new Agent(app)
  await agent.signIn(email, demoPassword)
  return agent
}
const enrolmentsOf = async (column: 'delivery_partner_id' | 'lead_provider_id', code: string) => {
  const org = await services.db.selectFrom('organisations').select('id').where('code', '=', code).executeTakeFirstOrThrow()
  return services.db.selectFrom('enrolments').select(['status', 'course_identifier', 'cohort']).where(column, '=', org.id).execute()
}

test('a delivery partner’s and a facilitator’s Home count participants per course and cohort, without listing them', async () => {
  const own = await enrolmentsOf('delivery_partner_id', 'north-star-tsh')
  assert.ok(own.length > 5)
  for (const email of ['delivery-partner-lead@demo.test', 'facilitator@demo.test']) {
    const home = await (await as(email)).get(email.startsWith('facilitator') ? '/facilitator' : '/delivery-partner')
    assert.equal(home.statusCode, 200)
    assert.match(home.body, new RegExp(`Participants \\(${own.length}\\)`))
    assert.doesNotMatch(home.body, /Priya Patel/, 'names are on the dashboard and group pages, not Home')
    const headship = own.filter((e) => e.course_identifier === 'npq-headship' && e.cohort === '2022-autumn')
    const row = new RegExp(
      `NPQ for Headship</td>\\s*<td[^>]*>2022-autumn</td>\\s*<td[^>]*>[^<]+</td>\\s*` +
        `<td[^>]*>${headship.filter((e) => e.status === 'active').length}</td>\\s*<td[^>]*>${headship.length}</td>`,
    )
    assert.match(home.body, row)
  }
})

test('a lead provider’s Home counts participants by delivery partner', async () => {
  const all = await enrolmentsOf('lead_provider_id', 'edt')
  const home = await (await as('lead-provider-admin@demo.test')).get('/lead-provider')
  assert.equal(home.statusCode, 200)
  assert.match(home.body, new RegExp(`Participants by delivery partner \\(${all.length} in all\\)`))
})
