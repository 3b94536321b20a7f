import assert from 'node:assert/strict'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { test } from 'node:test'
import { CatalogueError, loadCatalogue, type CatalogueProblem } from './load.ts'

const shipped = path.resolve(import.meta.dirname, '../../catalogue')

/** A throwaway catalogue folder holding only the given files. */
function catalogueWith(files: Record<string, string>): string {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'npq-catalogue-'))
  for (const [name, text] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(root, name)), { recursive: true })
    fs.writeFileSync(path.join(root, name), text)
  }
  return root
}

function problemsOf(root: string): CatalogueProblem[] {
  try {
    loadCatalogue(root)
  } catch (error) {
    if (error instanceof CatalogueError) return error.problems
    throw error
  }
  return []
}

const edtDesign = (blocks: string, statedTotal = '5') => `lead_provider: edt
course_identifier: npq-headship
style: credits
source: test
stated_total: ${statedTotal}
blocks:
${blocks}`

const block1 = `  - block: 1
    stated_total: 5
    source: test
    activities:
      - { code: NPQH-B1-DIAGNOSTIC, component: Self-study, title: Diagnostic, duration_minutes: 40, credits: 2 }
      - { code: NPQH-B1-F2F, component: Training event, title: Face to face, duration_minutes: 300, credits: 3 }
`

test('the shipped EDT designs add up to the totals seed 004 states', () => {
  const { designs } = loadCatalogue(shipped)
  const edt = (course: string) => designs.find((d) => d.leadProvider === 'edt' && d.courseIdentifier === course)!
  const expected: Record<string, [number, number[]]> = {
    'npq-leading-teaching-development': [185, [49, 43, 27, 25, 41]],
    'npq-leading-teaching': [199, [46, 41, 27, 38, 47]],
    'npq-leading-behaviour-culture': [186, [50, 34, 28, 27, 47]],
    'npq-senior-leadership': [249, [53, 56, 71, 69]],
    'npq-headship': [237, [50, 58, 71, 58]],
  }
  for (const [course, [total, blocks]] of Object.entries(expected)) {
    assert.equal(edt(course).creditsAvailable, total, course)
    assert.deepEqual(
      edt(course).blocks.map((b) => b.creditsAvailable),
      blocks,
      course,
    )
  }
  // Blocks still being finalised are listed but not counted: "47 to date" and "49 to date".
  assert.equal(edt('npq-leading-literacy').creditsAvailable, 47)
  assert.ok(edt('npq-leading-literacy').blocks.some((b) => b.provisional))
  assert.equal(edt('npq-early-years-leadership').creditsAvailable, 49)
})

test('EDT activity codes and evidence follow INTERFACES.md', () => {
  const { designs } = loadCatalogue(shipped)
  const npqh = designs.find((d) => d.leadProvider === 'edt' && d.courseIdentifier === 'npq-headship')!
  const codes = npqh.blocks.flatMap((b) => b.activities.map((a) => a.code))
  assert.ok(codes.includes('NPQH-B1-S1.1a'))
  assert.ok(codes.includes('NPQH-B3-LIVE-SURVEY'))
  assert.ok(codes.includes('NPQH-B4-LIVE-4.1') && codes.includes('NPQH-B4-LIVE-4.2'))
  const f2f = npqh.blocks[0]!.activities.find((a) => a.code === 'NPQH-B1-F2F')!
  assert.equal(f2f.evidence, 'register')
  assert.equal(npqh.blocks[0]!.activities.find((a) => a.code === 'NPQH-B1-F2F-SURVEY')!.evidence, 'activity')
})

test('the EDT payment schedule: cohorts 1–4 with every output date in order, self-reporting in cohorts 1 and 2', () => {
  const { schedules } = loadCatalogue(shipped)
  const edt = schedules.filter((s) => s.leadProvider === 'edt')
  assert.deepEqual(
    edt.map((s) => s.cohort),
    ['2021-autumn', '2021-spring', '2022-autumn', '2022-spring'],
  )
  assert.deepEqual(
    edt.map((s) => s.selfReporting),
    [true, true, false, false],
  )
  const cohort4Specialist = edt[3]!.courseGroups.find((g) => g.courseGroup === 'specialist')!
  // The source prints 23rd July 2023 for this payment, before its own review date: shipped as 2024.
  assert.equal(cohort4Specialist.outputs.at(-1)!.paymentDate, '2024-07-23')
})

test('a wrong total, a duplicate code, an unknown course and a date out of order are all reported with file and line', () => {
  const root = catalogueWith({
    'designs/edt/npq-headship.yaml': edtDesign(
      block1.replace('credits: 3 }', 'credits: 4 }') +
        `      - { code: NPQH-B1-DIAGNOSTIC, component: Self-study, title: Again, credits: 0 }\n`,
    ),
    'designs/edt/npq-unknown.yaml': edtDesign(block1).replace('course_identifier: npq-headship', 'course_identifier: npq-unknown'),
    'schedules/edt.yaml': `lead_provider: edt
source: test
cohorts:
  - cohort: 2022-autumn
    course_groups:
      - course_group: specialist
        courses: [npq-leading-teaching]
        outputs:
          - { declaration_type: started, share_percent: 33.3, review_date: 2022-11-24, invoice_date: 2022-12-16, payment_date: 2023-01-16 }
          - { declaration_type: retained-1, share_percent: 33.3, review_date: 2023-06-22, invoice_date: 2023-07-22, payment_date: 2023-08-22 }
          - { declaration_type: completed, share_percent: 33.4, review_date: 2024-05-23, invoice_date: 2024-06-23, payment_date: 2023-07-23 }
`,
  })
  const problems = problemsOf(root)
  const find = (text: RegExp) => problems.find((p) => text.test(p.message))
  assert.deepEqual(
    { file: find(/add up to 6 credits, but the source states 5/)?.file, line: find(/add up to 6 credits/)?.line },
    { file: path.join(path.basename(root), 'designs/edt/npq-headship.yaml'), line: 8 },
  )
  assert.equal(find(/duplicate code NPQH-B1-DIAGNOSTIC/)?.line, 13)
  assert.ok(find(/unknown course "npq-unknown"/))
  assert.deepEqual({ line: find(/payment date 2023-07-23 is not after the invoice date 2024-06-23/)?.line }, { line: 11 })
  fs.rmSync(root, { recursive: true, force: true })
})

test('UCL weights must add up to 100, and a file that is not valid YAML is reported with its line', () => {
  const root = catalogueWith({
    'designs/ucl/npq-leading-teaching.yaml': `lead_provider: ucl
course_identifier: npq-leading-teaching
style: weighted
source: test
components:
  - { component: INDUCTION, title: Induction, required: 1, weight: 10, tracked_by: register, source: t }
  - { component: PLG, title: Peer learning groups, required: 4, weight: 20, tracked_by: register, source: t }
`,
    'policies/edt.yaml': `lead_provider: edt\nsource: test\n  bad: indentation: here\n`,
  })
  const problems = problemsOf(root)
  assert.ok(problems.some((p) => /weights add up to 30, not 100/.test(p.message) && p.line === 6))
  assert.ok(problems.some((p) => p.file.endsWith('policies/edt.yaml') && p.line === 3))
  fs.rmSync(root, { recursive: true, force: true })
})

test('EHCO declares seed 004’s three outputs, even where DfE’s schedule lists four', async () => {
  const { Catalogue } = await import('./catalogue.ts')
  const catalogue = new Catalogue(loadCatalogue(shipped))
  const ehco = catalogue.cohortOutputs('ambition', '2023-autumn', 'npq-early-headship-coaching-offer')
  assert.deepEqual(
    ehco?.outputs.map((o) => o.declarationType),
    ['started', 'retained-1', 'completed'],
  )
})

test('the provider policies differ where the handbooks do', () => {
  const { policies } = loadCatalogue(shipped)
  const policy = (lp: string) => policies.find((p) => p.lead_provider === lp)!
  assert.equal(policy('ambition').assessment.attempts, 2)
  assert.equal(policy('ambition').removal_sign_off, 'delivery-partner')
  assert.equal(policy('edt').removal_sign_off, 'delivery-partner-and-lead-provider')
  assert.deepEqual(policy('ucl').meetings_required, { specialist: 3, leadership: 4, ehco: 0 })
  assert.equal(policy('edt').meetings_required.leadership, 0)
})
