import assert from 'node:assert/strict'
import { test } from 'node:test'
import { catalogueRoot } from '../catalogue/catalogue.ts'
import { designFromContent, loadCatalogue, type Design } from '../catalogue/load.ts'
import { declarationCredits, engagementAsOf, roundPercent, type Evidence } from './engine.ts'

const { designs } = loadCatalogue(catalogueRoot)
const design = (lp: string, course: string) => designs.find((d) => d.leadProvider === lp && d.courseIdentifier === course)!

const done = (code: string, on: string, progressPercent: number | null = null): Evidence => ({
  kind: 'activity',
  code,
  on,
  source: 'automatic',
  progressPercent,
})
const selfReport = (code: string, on: string): Evidence => ({ kind: 'activity', code, on, source: 'self-report', progressPercent: null })
const register = (code: string, on: string, status: 'attended' | 'absent' | 'contingency-completed' = 'attended'): Evidence => ({
  kind: 'register',
  code,
  on,
  status,
})
const log = (meetingNumber: number, on: string, fatsCompleted: number | null, signed: [boolean, boolean] = [true, true]): Evidence => ({
  kind: 'meeting-log',
  meetingNumber,
  on,
  signedByLineManager: signed[0],
  signedByParticipant: signed[1],
  fatsCompleted,
})

test('EDT: an activity earns its credits once, at its first completion; videos only at 100%; events from the register', () => {
  const npqltd = design('edt', 'npq-leading-teaching-development')
  const evidence = [
    done('NPQLTD-B1-DIAGNOSTIC', '2022-10-05'),
    done('NPQLTD-B1-VIDEO', '2022-10-06', 95),
    done('NPQLTD-B1-VIDEO', '2022-10-09', 100),
    done('NPQLTD-B1-S1.1a', '2022-10-10'),
    done('NPQLTD-B1-S1.1a', '2022-10-12'),
    register('NPQLTD-B1-F2F', '2022-10-20'),
    register('NPQLTD-B1-LIVE', '2022-11-02', 'absent'),
    selfReport('NPQLTD-B1-LIVE', '2022-11-02'), // not a self-reporting cohort: no credit
  ]
  const result = engagementAsOf(npqltd, evidence, '2022-12-31', { selfReporting: false })
  assert.equal(result.creditsEarned, 2 + 1 + 3 + 15)
  assert.equal(result.creditsAvailable, 185)
  assert.deepEqual(result.blocks[0], { block: 1, creditsEarned: 21, creditsAvailable: 49, percent: 42.9 })
  assert.deepEqual(
    result.earned.find((e) => e.code === 'NPQLTD-B1-S1.1a'),
    { code: 'NPQLTD-B1-S1.1a', credits: 3, on: '2022-10-10' },
  )
  assert.deepEqual(result.earned.find((e) => e.code === 'NPQLTD-B1-VIDEO')?.on, '2022-10-09')
  assert.equal(result.percent, 11.4)
})

test('EDT: as of a date, only evidence up to the end of that day counts', () => {
  const npqltd = design('edt', 'npq-leading-teaching-development')
  const evidence = [done('NPQLTD-B1-DIAGNOSTIC', '2022-10-05'), register('NPQLTD-B1-F2F', '2022-10-20', 'contingency-completed')]
  assert.equal(engagementAsOf(npqltd, evidence, '2022-10-19', { selfReporting: false }).creditsEarned, 2)
  assert.equal(engagementAsOf(npqltd, evidence, '2022-10-20', { selfReporting: false }).creditsEarned, 17)
})

test('EDT self-reporting cohorts: events and MITs earn credits by self-report only; the register is evidence, not credit', () => {
  const npqh = design('edt', 'npq-headship')
  const options = { selfReporting: true }
  assert.equal(engagementAsOf(npqh, [register('NPQH-B1-F2F', '2022-01-10')], '2022-12-31', options).creditsEarned, 0)
  assert.equal(engagementAsOf(npqh, [done('NPQH-B1-MIT', '2022-01-10')], '2022-12-31', options).creditsEarned, 0)
  const f2f = npqh.blocks[0]!.activities.find((a) => a.code === 'NPQH-B1-F2F')!.credits
  const mit = npqh.blocks[0]!.activities.find((a) => a.code === 'NPQH-B1-MIT')!.credits
  assert.equal(
    engagementAsOf(npqh, [selfReport('NPQH-B1-F2F', '2022-01-10'), selfReport('NPQH-B1-MIT', '2022-01-11')], '2022-12-31', options)
      .creditsEarned,
    f2f + mit,
  )
  // Self-study is still earned automatically in those cohorts.
  assert.equal(engagementAsOf(npqh, [done('NPQH-B1-DIAGNOSTIC', '2022-01-10')], '2022-12-31', options).creditsEarned, 2)
})

test('EDT: provisional blocks earn nothing and are not available', () => {
  const npqll = design('edt', 'npq-leading-literacy')
  const block2 = npqll.blocks.find((b) => b.block === 2)!.activities[0]!.code
  const result = engagementAsOf(npqll, [done(block2, '2023-03-01'), done('NPQLL-B1-DIAGNOSTIC', '2023-01-01')], '2023-12-31', {
    selfReporting: false,
  })
  assert.equal(result.creditsAvailable, 47)
  assert.equal(result.creditsEarned, 2)
  assert.deepEqual(
    result.blocks.map((b) => b.block),
    [1],
  )
})

test('the 90% gate compares the exact ratio: 90.0% shown can still be below the gate', () => {
  const synthetic: Design = designFromContent(
    {
      lead_provider: 'edt',
      course_identifier: 'npq-headship',
      style: 'credits',
      source: 'test',
      stated_total: 10000,
      blocks: [
        {
          block: 1,
          stated_total: 10000,
          source: 'test',
          activities: [
            { code: 'NPQH-B1-S1.1a', component: 'Self-study', title: 'a', credits: 8996 },
            { code: 'NPQH-B1-S1.1b', component: 'Self-study', title: 'b', credits: 4 },
            { code: 'NPQH-B1-S1.1c', component: 'Self-study', title: 'c', credits: 1000 },
          ],
        },
      ],
    },
    1,
    'test',
  )
  const below = engagementAsOf(synthetic, [done('NPQH-B1-S1.1a', '2023-01-01')], '2023-12-31', { selfReporting: false })
  assert.equal(below.percent, 90.0)
  assert.equal(below.eligibleForAssessment, false)
  const exactly = engagementAsOf(synthetic, [done('NPQH-B1-S1.1a', '2023-01-01'), done('NPQH-B1-S1.1b', '2023-01-02')], '2023-12-31', {
    selfReporting: false,
  })
  assert.equal(exactly.ratio, 0.9)
  assert.equal(exactly.eligibleForAssessment, true)
})

test('UCL: weighted components; meetings count once signed by both; signed logs confirm FATs cumulatively, unioned with activity rows', () => {
  const npqlt = design('ucl', 'npq-leading-teaching')
  const evidence = [
    register('NPQLT-INDUCTION-1', '2023-10-10'),
    done('NPQLT-SDL-1', '2023-10-20'),
    done('NPQLT-SDL-2', '2023-11-20'),
    register('NPQLT-PLG-1', '2023-11-01'),
    register('NPQLT-PLG-2', '2023-12-01', 'absent'),
    log(1, '2023-11-15', 2), // confirms FAT-1, FAT-2
    log(2, '2024-01-15', 3, [true, false]), // not signed by both: confirms nothing, takes no numbers
    log(3, '2024-03-15', 3), // confirms FAT-3…5
    done('NPQLT-FAT-6', '2024-03-20'),
  ]
  const result = engagementAsOf(npqlt, evidence, '2024-06-30', { selfReporting: false })
  const component = (name: string) => result.blocks.find((b) => b.block === name)!
  assert.deepEqual(component('INDUCTION'), { block: 'INDUCTION', creditsEarned: 10, creditsAvailable: 10, percent: 100 })
  assert.deepEqual(component('SDL'), { block: 'SDL', creditsEarned: 6.7, creditsAvailable: 10, percent: 66.7 })
  assert.deepEqual(component('PLG'), { block: 'PLG', creditsEarned: 5, creditsAvailable: 20, percent: 25 })
  assert.deepEqual(component('FAT'), { block: 'FAT', creditsEarned: 30, creditsAvailable: 30, percent: 100 })
  assert.deepEqual(component('MEETING'), { block: 'MEETING', creditsEarned: 10, creditsAvailable: 15, percent: 66.7 })
  assert.deepEqual(
    result.blocks.map((b) => b.block),
    ['INDUCTION', 'SDL', 'PLG', 'FORUM', 'FAT', 'CONSOLIDATION', 'MEETING'],
  )
  const exact = 10 + (10 * 2) / 3 + 5 + 30 + 10
  assert.equal(result.creditsEarned, roundPercent(exact))
  assert.ok(Math.abs(result.ratio - exact / 100) < 1e-12)
  // Before the third log, only FAT-1 and FAT-2 were confirmed.
  const earlier = engagementAsOf(npqlt, evidence, '2024-02-01', { selfReporting: false })
  assert.equal(earlier.blocks.find((b) => b.block === 'FAT')!.creditsEarned, 10)
})

test('Ambition: every item counts one; courses are the blocks; items outside courses count in the total only', () => {
  const npqlt = design('ambition', 'npq-leading-teaching')
  const evidence = [
    register('NPQLT-INDUCTION', '2024-10-01'),
    done('NPQLT-C1-M1', '2024-10-08'),
    register('NPQLT-C1-CLINIC', '2024-10-20'),
    done('NPQLT-C1-CLINIC', '2024-10-21'),
  ]
  const result = engagementAsOf(npqlt, evidence, '2024-12-31', { selfReporting: false })
  assert.equal(result.creditsAvailable, 52)
  assert.equal(result.creditsEarned, 3)
  assert.deepEqual(result.blocks[0], { block: 1, creditsEarned: 2, creditsAvailable: 7, percent: 28.6 })
  assert.equal(result.blocks.length, 6)
})

test('rounding is half-up to one decimal place', () => {
  assert.equal(roundPercent(42.85), 42.9)
  assert.equal(roundPercent(66.65), 66.7)
  assert.equal(roundPercent(89.94999), 89.9)
  assert.equal(roundPercent(100), 100)
})

test('declaration figures: credits earned after the previous point, up to the as-of date, and cumulative', () => {
  const npqltd = design('edt', 'npq-leading-teaching-development')
  const evidence = [
    done('NPQLTD-B1-DIAGNOSTIC', '2022-11-24'),
    done('NPQLTD-B1-VIDEO', '2022-11-25'),
    register('NPQLTD-B1-F2F', '2023-06-22'),
    done('NPQLTD-B1-S1.1a', '2023-06-23'),
  ]
  const asOf = engagementAsOf(npqltd, evidence, '2023-06-22', { selfReporting: false })
  // After the end of 24 November 2022 (the started review date), up to the end of 22 June 2023.
  assert.deepEqual(declarationCredits(asOf, '2022-11-24'), { creditsInPeriod: 1 + 15, cumulativeCredits: 2 + 1 + 15 })
  assert.deepEqual(declarationCredits(asOf, null), { creditsInPeriod: 18, cumulativeCredits: 18 })
})
