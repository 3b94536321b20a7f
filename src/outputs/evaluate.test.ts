import assert from 'node:assert/strict'
import { test } from 'node:test'
import { evaluateOutputs, type OutputFacts } from './evaluate.ts'

// Output evaluation as INTERFACES.md `outputs` defines it, worked by hand on small cases.

const specialist = [
  { declarationType: 'started' as const, reviewDate: '2022-12-31' },
  { declarationType: 'retained-1' as const, reviewDate: '2023-04-30' },
  { declarationType: 'completed' as const, reviewDate: '2024-01-31' },
]
const facts = (overrides: Partial<OutputFacts> = {}): OutputFacts => ({
  outputs: specialist,
  schoolContractSignedOn: '2022-09-01',
  sponsorshipAgreementSignedOn: '2022-09-01',
  deferrals: [],
  withdrawnOn: null,
  declared: [],
  registerAttendances: [],
  selfStudyCredits: [],
  creditsEarned: [],
  videos90: [],
  credits90On: null,
  assessment: null,
  ...overrides,
})
const brief = (f: OutputFacts, asOf: string) =>
  evaluateOutputs(f, asOf).map((o) => `${o.declaration_type}: ${o.status} ${o.evidence ?? '-'} ${o.evidence_on ?? '-'}`)

test('started: the most preferred criterion met on time; Block 1 video only', () => {
  const f = facts({ registerAttendances: ['2022-11-15'], selfStudyCredits: ['2022-10-05'], creditsEarned: ['2022-10-05', '2022-11-15'] })
  assert.equal(brief(f, '2022-12-31')[0], 'started: eligible register-attendance 2022-11-15')
  const video = facts({ videos90: [{ block: 2, on: '2022-11-01' }] })
  assert.equal(brief(video, '2022-12-31')[0], 'started: not-eligible - -')
  assert.deepEqual(evaluateOutputs(video, '2022-12-31')[0]!.reasons, [
    'No register attendance, self-study credit or Block 1 video watched to 90%',
  ])
  const block1 = facts({ videos90: [{ block: 1, on: '2022-11-01' }] })
  assert.equal(brief(block1, '2022-12-31')[0], 'started: eligible video-90 2022-11-01')
})

test('late evidence counts only when nothing was met on time, most preferred first', () => {
  // By the review date only the video; after it, a register. On time wins, though less preferred.
  const f = facts({ videos90: [{ block: 1, on: '2022-12-20' }], registerAttendances: ['2023-01-10'] })
  assert.equal(brief(f, '2023-02-01')[0], 'started: eligible video-90 2022-12-20')
  // Nothing on time: the most preferred met late.
  const g = facts({ selfStudyCredits: ['2023-01-05'], registerAttendances: ['2023-01-20'] })
  assert.equal(brief(g, '2023-02-01')[0], 'started: eligible register-attendance 2023-01-20')
  // As of a date before the review date, "on time" is by that date.
  assert.equal(brief(g, '2022-12-01')[0], 'started: not-eligible - -')
})

test('a retention output takes evidence after the later of the previous review date and evidence date', () => {
  const f = facts({
    registerAttendances: ['2023-01-20'], // started met late, on 20 January
    creditsEarned: ['2023-01-10', '2023-01-25'],
  })
  const [started, retained] = evaluateOutputs(f, '2023-04-30')
  assert.equal(started!.evidence_on, '2023-01-20')
  // The credit of 10 January is before the started evidence: only 25 January counts.
  assert.deepEqual([retained!.status, retained!.evidence, retained!.evidence_on], ['eligible', 'credits-increase', '2023-01-25'])
  const none = facts({ registerAttendances: ['2022-11-15'], creditsEarned: ['2022-11-15', '2022-12-30'] })
  assert.equal(brief(none, '2023-04-30')[1], 'retained-1: not-eligible - -')
})

test('prerequisites block an output but its evidence is still shown; the next output is blocked too', () => {
  const f = facts({ schoolContractSignedOn: null, registerAttendances: ['2022-11-15'], creditsEarned: ['2023-02-01'] })
  const [started, retained] = evaluateOutputs(f, '2023-04-30')
  assert.deepEqual([started!.status, started!.evidence, started!.evidence_on], ['blocked', 'register-attendance', '2022-11-15'])
  assert.deepEqual(started!.reasons, ['School contract not signed'])
  assert.equal(retained!.status, 'blocked')
  assert.match(retained!.reasons.join(' '), /previous output \(started\) is not eligible/)
  // A signature counts whatever its recorded date (an import's "yes" is dated the day it was imported).
  assert.equal(
    evaluateOutputs(facts({ sponsorshipAgreementSignedOn: '2026-01-01', registerAttendances: ['2022-11-15'] }), '2022-12-31')[0]!.status,
    'eligible',
  )
})

test('deferred on the date: blocked; resumed: evaluated again', () => {
  const f = facts({ registerAttendances: ['2022-11-15'], deferrals: [{ from: '2022-12-01', resumedOn: '2023-03-01' }] })
  assert.deepEqual(evaluateOutputs(f, '2023-01-15')[0]!.reasons, ['Deferred on 2023-01-15'])
  assert.equal(brief(f, '2023-03-01')[0], 'started: eligible register-attendance 2022-11-15')
})

test('withdrawal: outputs met before it stay eligible; evidence after it never counts', () => {
  const f = facts({ registerAttendances: ['2022-11-15', '2023-03-01'], creditsEarned: ['2023-03-01'], withdrawnOn: '2023-02-01' })
  const [started, retained] = evaluateOutputs(f, '2023-04-30')
  assert.equal(started!.status, 'eligible')
  assert.equal(retained!.status, 'blocked')
  assert.deepEqual(retained!.reasons, [
    'Withdrawn on 2023-02-01 before the criteria were met',
    'No new credits, register attendance or block video watched to 90% since the previous output',
  ])
})

test('completed: 90% of credits and a moderated assessment result, dated the later of the two; declared once declared', () => {
  const base = { registerAttendances: ['2022-11-15', '2023-02-01'], creditsEarned: ['2022-11-15', '2023-02-01'] }
  const noResult = facts({ ...base, credits90On: '2023-10-01' })
  assert.equal(brief(noResult, '2024-01-31')[2], 'completed: not-eligible - -')
  const done = facts({
    ...base,
    credits90On: '2023-10-01',
    assessment: { passed: true, externallyModeratedOn: '2024-01-10' },
    declared: ['started'],
  })
  assert.deepEqual(brief(done, '2024-01-31'), [
    'started: declared register-attendance 2022-11-15',
    'retained-1: eligible credits-increase 2023-02-01', // credits are retention's first criterion
    'completed: eligible credits-90-and-assessment 2024-01-10',
  ])
})
