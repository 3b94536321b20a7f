import assert from 'node:assert/strict'
import { test } from 'node:test'
import {
  checkEligibility,
  earlyYearsLevelCheck,
  ehcoCheck,
  endorserRoleFor,
  fundingCheck,
  scholarshipCheck,
  yearsBetween,
  type EligibilityInput,
} from './eligibility.ts'

const input = (overrides: Partial<EligibilityInput> = {}): EligibilityInput => ({
  courseIdentifier: 'npq-senior-leadership',
  establishment: 'state-school',
  inEngland: true,
  pupilPremiumUplift: false,
  eligibleForFunding: true,
  ineligibleForFundingReason: null,
  headteacherStatus: null,
  eyQualificationLevel: null,
  headshipStartedOn: null,
  npqhStatus: null,
  ...overrides,
})

test('DfE funding: a state-funded school or 16–19 organisation in England', () => {
  assert.equal(fundingCheck(input()).outcome, 'met')
  assert.equal(fundingCheck(input({ establishment: 'sixteen-to-nineteen' })).outcome, 'met')
  assert.equal(fundingCheck(input({ establishment: 'independent' })).outcome, 'not-met')
  assert.equal(fundingCheck(input({ establishment: 'early-years' })).outcome, 'not-met')
  assert.equal(fundingCheck(input({ inEngland: false })).outcome, 'not-met')
  assert.equal(fundingCheck(input({ inEngland: null })).outcome, 'unknown')
  assert.equal(fundingCheck(input({ ineligibleForFundingReason: 'previously-funded' })).outcome, 'not-met')
  // Workplace unknown: DfE's own answer decides, or it stays unknown.
  assert.equal(fundingCheck(input({ establishment: null })).outcome, 'met')
  assert.equal(fundingCheck(input({ establishment: null, eligibleForFunding: false })).outcome, 'unknown')
})

test('scholarship funding: the pupil premium flag is recorded', () => {
  assert.equal(scholarshipCheck(input({ pupilPremiumUplift: true })).outcome, 'met')
  assert.equal(scholarshipCheck(input()).outcome, 'not-met')
})

test('NPQEYL needs Level 3 or above, asked only for NPQEYL', () => {
  assert.equal(earlyYearsLevelCheck(3).outcome, 'met')
  assert.equal(earlyYearsLevelCheck(6).outcome, 'met')
  assert.equal(earlyYearsLevelCheck(2).outcome, 'not-met')
  assert.equal(earlyYearsLevelCheck(null).outcome, 'unknown')
  assert.deepEqual(
    checkEligibility(input({ courseIdentifier: 'npq-early-years-leadership', eyQualificationLevel: 2 }), '2025-01-01').map((c) => c.rule),
    ['dfe-funding', 'scholarship', 'ey-level-3'],
  )
  assert.deepEqual(
    checkEligibility(input(), '2025-01-01').map((c) => c.rule),
    ['dfe-funding', 'scholarship'],
  )
})

test('EHCO: within five years of a first headship, alongside or after NPQH', () => {
  const today = '2025-06-01'
  assert.equal(yearsBetween('2020-06-02', today), 4)
  assert.equal(yearsBetween('2020-06-01', today), 5)
  assert.equal(ehcoCheck({ headshipStartedOn: '2022-09-01', npqhStatus: 'completed', headteacherStatus: null }, today).outcome, 'met')
  assert.equal(ehcoCheck({ headshipStartedOn: '2020-06-02', npqhStatus: 'in-progress', headteacherStatus: null }, today).outcome, 'met')
  assert.equal(ehcoCheck({ headshipStartedOn: '2020-06-01', npqhStatus: 'completed', headteacherStatus: null }, today).outcome, 'not-met')
  assert.equal(ehcoCheck({ headshipStartedOn: '2022-09-01', npqhStatus: 'none', headteacherStatus: null }, today).outcome, 'not-met')
  assert.equal(ehcoCheck({ headshipStartedOn: '2026-09-01', npqhStatus: 'completed', headteacherStatus: null }, today).outcome, 'not-met')
  // Before the form is returned: DfE's headteacher status.
  assert.equal(ehcoCheck({ headshipStartedOn: null, npqhStatus: null, headteacherStatus: 'yes_over_five_years' }, today).outcome, 'not-met')
  assert.equal(
    ehcoCheck({ headshipStartedOn: null, npqhStatus: null, headteacherStatus: 'yes_in_first_two_years' }, today).outcome,
    'unknown',
  )
  assert.ok(
    checkEligibility(input({ courseIdentifier: 'npq-early-headship-coaching-offer' }), today).some((c) => c.rule === 'ehco-early-headship'),
  )
})

test('endorsement: the line manager for NPQH and NPQEL, the headteacher otherwise', () => {
  assert.equal(endorserRoleFor('npq-headship'), 'line-manager')
  assert.equal(endorserRoleFor('npq-executive-leadership'), 'line-manager')
  assert.equal(endorserRoleFor('npq-leading-teaching'), 'headteacher')
})
