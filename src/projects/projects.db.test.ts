import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import type { FastifyInstance } from 'fastify'
import { loadEvidence } from '../engagement/evidence.ts'
import { formatDate } from '../escalations/cases.ts'
import { Agent, csrfToken } from '../test-support/agent.ts'
import { demoPassword, startDemoApp } from '../test-support/demo-app.ts'
import type { TestServices } from '../test-support/services.ts'
import { detectReportType, MAX_REPORT_BYTES } from './projects.ts'

// The implementation project without a browser: Priya keeps a project per course with entries per
// stage (a reflection linked to a meeting where her lead provider requires meetings), submits her final
// report as text and as files (a wrong type or size refused, nothing stored, the text kept); her delivery
// partner's lead and her lead provider's admin read it and download the file; nobody else can; and
// none of it changes her engagement.

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
const orgId = async (kind: 'lead-provider' | 'delivery-partner' | 'school', code: string) =>
  (await services.db.selectFrom('organisations').select('id').where('kind', '=', kind).where('code', '=', code).executeTakeFirstOrThrow())
    .id
const priyaEnrolment = async (course: string) =>
  await services.db
    .selectFrom('enrolments as e')
    .innerJoin('participants as p', 'p.id', 'e.participant_id')
    .select(['e.id', 'e.participant_id', 'e.lead_provider_id', 'e.cohort'])
    .where('p.email', '=', 'participant@demo.test')
    .where('e.course_identifier', '=', course)
    .executeTakeFirstOrThrow()

/** A multipart form with one file, with binary content (the Agent's upload sends text). */
async function upload(agent: Agent, url: string, form: Record<string, string>, file: { filename: string; content: Buffer; type?: string }) {
  const csrf = csrfToken((await agent.get(url)).body)
  const boundary = `----npqtest${Math.random().toString(16).slice(2)}`
  const chunks: Buffer[] = []
  for (const [k, v] of Object.entries({ _csrf: csrf, ...form }))
    chunks.push(Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${k}"\r\n\r\n${v}\r\n`))
  chunks.push(
    Buffer.from(
      `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="${file.filename}"\r\nContent-Type: ${file.type ?? 'application/octet-stream'}\r\n\r\n`,
    ),
    file.content,
    Buffer.from(`\r\n--${boundary}--\r\n`),
  )
  return app.inject({
    method: 'POST',
    url,
    payload: Buffer.concat(chunks),
    headers: { cookie: agent.cookieHeader(), 'content-type': `multipart/form-data; boundary=${boundary}` },
  })
}

const pdf = Buffer.concat([Buffer.from('%PDF-1.7\n%\xe2\xe3\xcf\xd3\n', 'latin1'), Buffer.from('1 0 obj << >> endobj\n%%EOF\n')])
/** Enough of a DOCX for its signature: a ZIP local header, the content types part and a word/ part. */
const docx = Buffer.concat([Buffer.from([0x50, 0x4b, 0x03, 0x04, 0x14, 0, 0, 0]), Buffer.from('[Content_Types].xml word/document.xml')])
const pptx = Buffer.concat([Buffer.from([0x50, 0x4b, 0x03, 0x04, 0x14, 0, 0, 0]), Buffer.from('[Content_Types].xml ppt/presentation.xml')])
const exe = Buffer.from([0x4d, 0x5a, 0x90, 0x00, 0x03, 0x00, 0x00, 0x00, 0x04, 0x00])

test('file types are judged by content, and the extension must agree', () => {
  assert.equal(detectReportType('report.pdf', pdf)?.mimeType, 'application/pdf')
  assert.equal(detectReportType('Report.DOCX', docx)?.extension, 'docx')
  assert.equal(detectReportType('slides.pptx', pptx)?.extension, 'pptx')
  assert.equal(detectReportType('notes.txt', Buffer.from('My project\r\nwent well – mostly.\n'))?.extension, 'txt')
  assert.equal(detectReportType('report.pdf', exe), null)
  assert.equal(detectReportType('report.pdf', docx), null)
  assert.equal(detectReportType('report.docx', pptx), null)
  assert.equal(detectReportType('notes.txt', Buffer.from([0x68, 0x69, 0x00, 0x01])), null)
  assert.equal(detectReportType('notes.txt', Buffer.from([0xff, 0xfe, 0x41])), null)
  assert.equal(detectReportType('report.zip', docx), null)
  assert.equal(detectReportType('empty.txt', Buffer.alloc(0)), null)
})

test('a participant keeps their project, reports on it and their partner and provider read it; engagement is unchanged', async () => {
  const { db, catalogue } = services
  const npqh = await priyaEnrolment('npq-headship')
  // A UCL course for Priya too, where meetings are required (4 for leadership courses), one scheduled.
  const ucl = await db
    .insertInto('enrolments')
    .values({
      participant_id: npqh.participant_id,
      lead_provider_id: await orgId('lead-provider', 'ucl'),
      delivery_partner_id: await orgId('delivery-partner', 'north-star-tsh'),
      school_id: await orgId('school', '100001'),
      course_identifier: 'npq-senior-leadership',
      cohort: '2022-autumn',
      status: 'active',
    })
    .returning(['id', 'lead_provider_id'])
    .executeTakeFirstOrThrow()
  await db.insertInto('meeting_schedules').values({ enrolment_id: ucl.id, meeting_number: 2, starts_at: '2023-01-17T15:30:00Z' }).execute()
  assert.equal(catalogue.policy('ucl')?.meetings_required.leadership, 4)

  // The same evidence, whatever order the query returns it in.
  const evidence = async () =>
    (
      await Promise.all([
        loadEvidence(
          db,
          { leadProviderId: npqh.lead_provider_id, cohort: npqh.cohort, participantIds: [npqh.participant_id] },
          '2030-01-01',
          {
            meetingLogs: true,
          },
        ),
        loadEvidence(
          db,
          { leadProviderId: ucl.lead_provider_id, cohort: '2022-autumn', participantIds: [npqh.participant_id] },
          '2030-01-01',
          {
            meetingLogs: true,
          },
        ),
      ])
    )
      .flat()
      .map((e) => ({ ...e, evidence: e.evidence.map((x) => JSON.stringify(x)).sort() }))
      .sort((a, b) => a.courseIdentifier.localeCompare(b.courseIdentifier))
  const counts = async () =>
    Promise.all(
      (
        [
          'learning_records',
          'learning_completions',
          'attendance_firsts',
          'meeting_logs',
          'meeting_log_versions',
          'assessment_attempts',
        ] as const
      ).map(async (t) =>
        Number(
          (
            await db
              .selectFrom(t)
              .select((eb) => eb.fn.countAll<string>().as('n'))
              .executeTakeFirstOrThrow()
          ).n,
        ),
      ),
    )
  const evidenceBefore = JSON.stringify(await evidence())
  const countsBefore = await counts()

  const priya = await as('participant@demo.test')
  const list = await priya.get('/participant/project')
  assert.equal(list.statusCode, 200)
  assert.ok(list.body.includes(`/participant/enrolments/${npqh.id}/project`))
  assert.ok(list.body.includes(`/participant/enrolments/${ucl.id}/project`))

  const base = `/participant/enrolments/${npqh.id}/project`
  const page = await priya.get(base)
  assert.equal(page.statusCode, 200)
  for (const text of [
    'Explore',
    'Prepare',
    'Deliver',
    'Sustain',
    'Define the problem',
    'implementation plan',
    'Support staff',
    'reward and recognise',
  ])
    assert.ok(page.body.includes(text), text)
  assert.ok(page.body.includes('not part of engagement'))
  // EDT requires no meetings: no meeting to link to.
  assert.ok(!(await priya.get(`${base}/entries/new?stage=explore`)).body.includes('name="meeting"'))

  assert.equal((await priya.post(`${base}/title`, { title: 'Reading for pleasure in KS3' }, { csrfFrom: base })).statusCode, 303)
  for (const stage of ['explore', 'prepare', 'deliver', 'sustain']) {
    const r = await priya.post(`${base}/entries`, { stage, body: `My ${stage} notes\nwith a second line <b>not bold</b>`, meeting: '' })
    assert.equal(r.statusCode, 303, stage)
  }
  // Bad input: the errors, nothing stored.
  const empty = await priya.post(`${base}/entries`, { stage: 'nowhere', body: '   ' }, { csrfFrom: `${base}/entries/new` })
  assert.equal(empty.statusCode, 400)
  assert.match(empty.body, /Select the stage this entry is about/)
  assert.match(empty.body, /Enter your entry/)
  const meetingAtEdt = await priya.post(
    `${base}/entries`,
    { stage: 'explore', body: 'x', meeting: '1' },
    { csrfFrom: `${base}/entries/new` },
  )
  assert.equal(meetingAtEdt.statusCode, 400)
  assert.equal(
    Number(
      (
        await db
          .selectFrom('project_entries')
          .select((eb) => eb.fn.countAll<string>().as('n'))
          .where('enrolment_id', '=', npqh.id)
          .executeTakeFirstOrThrow()
      ).n,
    ),
    4,
  )
  const shown = await priya.get(base)
  assert.ok(shown.body.includes('Reading for pleasure in KS3'))
  assert.ok(shown.body.includes('My deliver notes<br />'))
  assert.ok(shown.body.includes('&lt;b&gt;not bold&lt;/b&gt;'))

  // Editing her own entry.
  const explore = await db
    .selectFrom('project_entries')
    .select('id')
    .where('enrolment_id', '=', npqh.id)
    .where('stage', '=', 'explore')
    .executeTakeFirstOrThrow()
  const editForm = await priya.get(`${base}/entries/${explore.id}`)
  assert.equal(editForm.statusCode, 200)
  assert.ok(editForm.body.includes('My explore notes'))
  assert.equal(
    (await priya.post(`${base}/entries/${explore.id}`, { stage: 'explore', body: 'The problem: reluctant readers in Year 8' })).statusCode,
    303,
  )
  assert.equal(
    (await db.selectFrom('project_entries').select('body').where('id', '=', explore.id).executeTakeFirstOrThrow()).body,
    'The problem: reluctant readers in Year 8',
  )

  // At UCL the entry can reflect on a meeting: 1..4, meeting 2 with its scheduled date.
  const uclBase = `/participant/enrolments/${ucl.id}/project`
  const uclForm = await priya.get(`${uclBase}/entries/new?stage=deliver`)
  for (const n of [1, 2, 3, 4]) assert.ok(uclForm.body.includes(`<option value="${n}"`), `meeting ${n}`)
  assert.ok(!uclForm.body.includes('<option value="5"'))
  assert.ok(uclForm.body.includes(`Meeting 2 (${formatDate('2023-01-17')})`))
  assert.equal(
    (await priya.post(`${uclBase}/entries`, { stage: 'deliver', body: 'After meeting 2 we adjusted the plan', meeting: '2' })).statusCode,
    303,
  )
  assert.equal(
    (await priya.post(`${uclBase}/entries`, { stage: 'deliver', body: 'x', meeting: '5' }, { csrfFrom: uclBase + '/entries/new' }))
      .statusCode,
    400,
  )
  assert.match((await priya.get(uclBase)).body, /reflection on Meeting 2/)

  // The final report: text first, then files; wrong type or size refused with the text kept.
  const reportUrl = `${base}/report`
  const noReport = await priya.post(reportUrl, { body: '' }, { csrfFrom: reportUrl })
  // A urlencoded post to the multipart route is refused outright; the form always sends multipart.
  assert.ok(noReport.statusCode >= 400)
  const nothing = await upload(priya, reportUrl, { body: '' }, { filename: '', content: Buffer.alloc(0) })
  assert.equal(nothing.statusCode, 400)
  assert.match(nothing.body, /Enter your report or upload it as a file/)
  const wrongType = await upload(
    priya,
    reportUrl,
    { body: 'My typed report' },
    { filename: 'report.pdf', content: exe, type: 'application/pdf' },
  )
  assert.equal(wrongType.statusCode, 400)
  assert.match(wrongType.body, /The selected file must be a PDF, DOCX, PPTX or TXT/)
  assert.match(wrongType.body, /My typed report<\/textarea>/)
  const tooBig = await upload(
    priya,
    reportUrl,
    { body: 'My typed report', 'presented-day': '3', 'presented-month': '7', 'presented-year': '2023' },
    { filename: 'big.txt', content: Buffer.alloc(MAX_REPORT_BYTES + 1, 0x61) },
  )
  assert.equal(tooBig.statusCode, 400)
  assert.match(tooBig.body, /The selected file must be smaller than 10 MB/)
  assert.match(tooBig.body, /My typed report<\/textarea>/)
  assert.match(tooBig.body, /name="presented-year"[^>]*value="2023"/)
  const future = await upload(
    priya,
    reportUrl,
    { body: 'x', 'presented-day': '1', 'presented-month': '1', 'presented-year': '2099' },
    { filename: '', content: Buffer.alloc(0) },
  )
  assert.equal(future.statusCode, 400)
  assert.equal((await db.selectFrom('project_reports').select('id').where('enrolment_id', '=', npqh.id).execute()).length, 0)

  // Without the form's CSRF token: refused.
  const forged = await upload(priya, reportUrl, { _csrf: 'forged', body: 'x' }, { filename: 'report.pdf', content: pdf })
  assert.equal(forged.statusCode, 403)
  assert.equal((await db.selectFrom('project_reports').select('id').where('enrolment_id', '=', npqh.id).execute()).length, 0)

  const typed = await upload(priya, reportUrl, { body: 'What we did and found' }, { filename: '', content: Buffer.alloc(0) })
  assert.equal(typed.statusCode, 303)
  const filed = await upload(
    priya,
    reportUrl,
    { body: '', 'presented-day': '3', 'presented-month': '7', 'presented-year': '2023' },
    { filename: 'Implementation report.pdf', content: pdf, type: 'application/pdf' },
  )
  assert.equal(filed.statusCode, 303)
  const reports = await db.selectFrom('project_reports').selectAll().where('enrolment_id', '=', npqh.id).orderBy('submitted_at').execute()
  assert.equal(reports.length, 2)
  assert.equal(reports[1]!.file_type, 'application/pdf')
  assert.equal(reports[1]!.file_size, pdf.length)
  const withReport = await priya.get(base)
  assert.match(withReport.body, /Implementation report\.pdf/)
  assert.match(withReport.body, /version 2/)
  assert.match(withReport.body, new RegExp(formatDate('2023-07-03')))
  assert.match(withReport.body, /Earlier versions/)

  // Downloads: the participant, her delivery partner's lead and her lead provider's admin.
  const lead = await as('delivery-partner-lead@demo.test')
  const admin = await as('lead-provider-admin@demo.test')
  const fileId = reports[1]!.id
  for (const [agent, url] of [
    [priya, `${base}/reports/${fileId}/file`],
    [lead, `/delivery-partner/projects/${npqh.id}/reports/${fileId}/file`],
    [admin, `/lead-provider/projects/${npqh.id}/reports/${fileId}/file`],
  ] as const) {
    const r = await agent.get(url)
    assert.equal(r.statusCode, 200, url)
    assert.equal(r.headers['content-type'], 'application/pdf')
    assert.match(String(r.headers['content-disposition']), /^attachment; filename="Implementation report\.pdf"/)
    assert.deepEqual(r.rawPayload, pdf)
  }
  // The text-only version has no file.
  assert.equal((await priya.get(`${base}/reports/${reports[0]!.id}/file`)).statusCode, 404)

  // Read-only for the partner and the provider.
  const leadList = await lead.get('/delivery-partner/projects')
  assert.equal(leadList.statusCode, 200)
  assert.ok(leadList.body.includes(`/delivery-partner/projects/${npqh.id}`))
  assert.ok(leadList.body.includes(`/delivery-partner/projects/${ucl.id}`))
  const leadView = await lead.get(`/delivery-partner/projects/${npqh.id}`)
  assert.equal(leadView.statusCode, 200)
  assert.ok(leadView.body.includes('Reading for pleasure in KS3'))
  assert.ok(leadView.body.includes('The problem: reluctant readers in Year 8'))
  assert.ok(!leadView.body.includes('Add an entry'))
  assert.ok(!leadView.body.includes('Save title'))
  const adminList = await admin.get('/lead-provider/projects')
  assert.ok(adminList.body.includes(`/lead-provider/projects/${npqh.id}`))
  // EDT's admin does not see Priya's UCL project.
  assert.ok(!adminList.body.includes(ucl.id))
  assert.equal((await admin.get(`/lead-provider/projects/${ucl.id}`)).statusCode, 404)
  assert.equal((await admin.get(`/lead-provider/projects/${npqh.id}`)).statusCode, 200)

  // Nobody else's: not found, with no hint it exists.
  assert.equal((await lead.get(base)).statusCode, 404)
  assert.equal((await admin.get(`${base}/reports/${fileId}/file`)).statusCode, 404)
  assert.equal(
    (await lead.post(`${base}/entries`, { stage: 'explore', body: 'x' }, { csrfFrom: '/delivery-partner/projects' })).statusCode,
    404,
  )
  assert.equal((await priya.get(`/delivery-partner/projects/${npqh.id}`)).statusCode, 404)
  const other = await db
    .selectFrom('enrolments as e')
    .innerJoin('participants as p', 'p.id', 'e.participant_id')
    .select('e.id')
    .where('p.email', '!=', 'participant@demo.test')
    .executeTakeFirstOrThrow()
  assert.equal((await priya.get(`/participant/enrolments/${other.id}/project`)).statusCode, 404)
  assert.equal((await priya.get('/participant/enrolments/not-an-id/project')).statusCode, 404)
  assert.equal((await priya.get(`${base}/entries/${crypto.randomUUID()}`)).statusCode, 404)

  // Audited, without what the participant wrote.
  const audit = await db.selectFrom('audit_events').select(['action', 'after']).where('action', 'like', 'project.%').execute()
  const actions = audit.map((a) => a.action)
  for (const action of ['project.title-saved', 'project.entry-added', 'project.entry-edited', 'project.report-submitted'])
    assert.ok(actions.includes(action), action)
  const audited = JSON.stringify(audit)
  for (const secret of ['Reading for pleasure', 'reluctant readers', 'What we did and found', 'My explore notes', 'Implementation report'])
    assert.ok(!audited.includes(secret), secret)

  // The project never counts towards engagement.
  assert.deepEqual(await counts(), countsBefore)
  assert.equal(JSON.stringify(await evidence()), evidenceBefore)
})

test('while a place is deferred the project is read-only: the page shows why, and changes are refused with nothing saved', async () => {
  const priya = await as('participant@demo.test')
  const npqh = await priyaEnrolment('npq-headship')
  const base = `/participant/enrolments/${npqh.id}/project`
  const titleBefore = (
    await services.db.selectFrom('implementation_projects').select('title').where('enrolment_id', '=', npqh.id).executeTakeFirst()
  )?.title
  const csrf = csrfToken((await priya.get(base)).body)
  await services.db.updateTable('enrolments').set({ status: 'deferred' }).where('id', '=', npqh.id).execute()
  try {
    const page = await priya.get(base)
    assert.equal(page.statusCode, 200)
    assert.match(page.body, /is deferred: your project is read-only until you return/)
    assert.ok(!page.body.includes('Save title'))
    const refused = await priya.post(`${base}/title`, { title: 'Changed while deferred' }, { csrf })
    assert.equal(refused.statusCode, 400)
    assert.match(refused.body, /read-only until you return/)
    assert.equal((await priya.get(`${base}/entries/new?stage=explore`)).statusCode, 400)
    const titleAfter = (
      await services.db.selectFrom('implementation_projects').select('title').where('enrolment_id', '=', npqh.id).executeTakeFirst()
    )?.title
    assert.equal(titleAfter, titleBefore)
  } finally {
    await services.db.updateTable('enrolments').set({ status: 'active' }).where('id', '=', npqh.id).execute()
  }
})
