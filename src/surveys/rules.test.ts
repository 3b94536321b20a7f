import assert from 'node:assert/strict'
import { test } from 'node:test'
import fc from 'fast-check'
import {
  dueItems,
  parseQuestions,
  questionsToText,
  readAnswers,
  spreadsheetSafe,
  summarise,
  type DueEnrolment,
  type DueSurvey,
} from './rules.ts'
import type { SurveyQuestion } from './schema.ts'

// The pure rules of surveys: the question syntax, who is due what on a day, valid answers and the summary maths.

test('questions are read one a line with their kind; mistakes are named by line', () => {
  const { questions, problems } = parseQuestions('rating: How useful was it?\n\nchoice: Venue? | Leeds | York\ntext: Anything else?')
  assert.deepEqual(problems, [])
  assert.deepEqual(questions, [
    { id: 'q1', kind: 'rating', text: 'How useful was it?' },
    { id: 'q2', kind: 'choice', text: 'Venue?', options: ['Leeds', 'York'] },
    { id: 'q3', kind: 'text', text: 'Anything else?' },
  ])
  assert.equal(questionsToText(questions), 'rating: How useful was it?\nchoice: Venue? | Leeds | York\ntext: Anything else?')

  assert.deepEqual(parseQuestions('').problems, ['Enter at least one question'])
  assert.deepEqual(parseQuestions('How was it?').problems, ['Line 1: start the question with “rating:”, “choice:” or “text:”'])
  assert.deepEqual(parseQuestions('rating: ok\nchoice: Only one | A').problems, [
    'Line 2: give a choice question at least 2 options, separated by “|”',
  ])
  assert.deepEqual(parseQuestions('choice: Same | A | a').problems, ['Line 1: the options must be different'])
  assert.deepEqual(parseQuestions('text: Why? | no').problems, ['Line 1: only choice questions have options after “|”'])
  assert.deepEqual(parseQuestions('rating:').problems, ['Line 1: enter the question after “rating:”'])
  assert.match(parseQuestions(Array.from({ length: 21 }, (_, i) => `rating: Q${i}`).join('\n')).problems.join(), /at most 20 questions/)
})

test('written questions read back the same', () => {
  const question = fc
    .string({ minLength: 1, maxLength: 40 })
    .map((s) => s.replace(/[|\r\n]/g, 'x').trim())
    .filter((s) => s.length > 0)
  fc.assert(
    fc.property(
      fc.array(fc.record({ kind: fc.constantFrom('rating' as const, 'text' as const), text: question }), { minLength: 1, maxLength: 10 }),
      (qs) => {
        const questions: SurveyQuestion[] = qs.map((q, i) => ({ id: `q${i + 1}`, ...q }))
        assert.deepEqual(parseQuestions(questionsToText(questions)), { questions, problems: [] })
      },
    ),
  )
})

const survey = (over: Partial<DueSurvey> = {}): DueSurvey => ({
  id: 's1',
  kind: 'end-of-block',
  leadProviderId: 'edt',
  courseIdentifier: 'npq-headship',
  cohort: null,
  opensOn: '2026-11-01',
  closesOn: '2026-11-30',
  ...over,
})
const enrolment: DueEnrolment = { leadProviderId: 'edt', courseIdentifier: 'npq-headship', cohort: '2022-autumn', status: 'active' }
const due = (over: Partial<Parameters<typeof dueItems>[0]> = {}) =>
  dueItems({
    survey: survey(),
    enrolment,
    today: '2026-11-15',
    blockGoesLiveOn: '2026-11-10',
    attendedEvents: [],
    answeredEventIds: [],
    ...over,
  })

test('an end-of-block survey is due once the block is live, while open, until answered', () => {
  assert.deepEqual(due(), [{ eventId: null, eventTitle: null }])
  assert.deepEqual(due({ blockGoesLiveOn: '2026-11-16' }), [], 'the block is not live yet')
  assert.deepEqual(due({ blockGoesLiveOn: '2026-11-15' }), [{ eventId: null, eventTitle: null }], 'live today')
  assert.deepEqual(due({ blockGoesLiveOn: null }), [], 'no such block for the cohort')
  assert.deepEqual(due({ today: '2026-10-31' }), [], 'not open yet')
  assert.deepEqual(due({ today: '2026-11-30' }), [{ eventId: null, eventTitle: null }], 'the last day')
  assert.deepEqual(due({ today: '2026-12-01' }), [], 'closed')
  assert.deepEqual(due({ answeredEventIds: [null] }), [], 'answered')
  assert.deepEqual(due({ enrolment: { ...enrolment, status: 'withdrawn' } }), [])
  assert.deepEqual(due({ enrolment: { ...enrolment, status: 'deferred' } }), [])
  assert.deepEqual(due({ survey: survey({ cohort: '2023-autumn' }) }), [], 'another cohort')
  assert.deepEqual(due({ survey: survey({ cohort: '2022-autumn' }) }), [{ eventId: null, eventTitle: null }])
  assert.deepEqual(due({ survey: survey({ leadProviderId: 'ucl' }) }), [], 'another lead provider')
  assert.deepEqual(due({ survey: survey({ courseIdentifier: 'npq-senior-leadership' }) }), [], 'another course')
})

test('an end-of-programme survey is due while open; an event survey once per attended event', () => {
  assert.deepEqual(due({ survey: survey({ kind: 'end-of-programme' }), blockGoesLiveOn: null }), [{ eventId: null, eventTitle: null }])
  const events = [
    { id: 'e2', title: 'Second', startsOn: '2026-11-12' },
    { id: 'e1', title: 'First', startsOn: '2026-11-05' },
    { id: 'e0', title: 'Before it opened', startsOn: '2026-10-20' },
    { id: 'e3', title: 'Later', startsOn: '2026-11-20' },
  ]
  const eventSurvey = survey({ kind: 'event' })
  assert.deepEqual(due({ survey: eventSurvey, attendedEvents: events }), [
    { eventId: 'e1', eventTitle: 'First' },
    { eventId: 'e2', eventTitle: 'Second' },
  ])
  assert.deepEqual(due({ survey: eventSurvey, attendedEvents: events, answeredEventIds: ['e1'] }), [
    { eventId: 'e2', eventTitle: 'Second' },
  ])
  assert.deepEqual(due({ survey: eventSurvey, attendedEvents: [] }), [], 'no event attended')
})

const questions: SurveyQuestion[] = [
  { id: 'q1', kind: 'rating', text: 'Useful?' },
  { id: 'q2', kind: 'choice', text: 'Venue?', options: ['Leeds', 'York'] },
  { id: 'q3', kind: 'text', text: 'Better?' },
]

test('ratings and choices must be answered, free text may be left empty', () => {
  assert.deepEqual(readAnswers(questions, { q1: '4', q2: 'York', q3: '  More time  ' }), {
    answers: { q1: 4, q2: 'York', q3: 'More time' },
    problems: [],
  })
  assert.deepEqual(readAnswers(questions, { q1: '5', q2: 'Leeds', q3: '' }), { answers: { q1: 5, q2: 'Leeds' }, problems: [] })
  const bad = readAnswers(questions, { q1: '6', q2: 'Hull', q3: 'x'.repeat(2001) })
  assert.deepEqual(
    bad.problems.map((p) => p.field),
    ['q1', 'q2', 'q3'],
  )
  assert.deepEqual(
    readAnswers(questions, {}).problems.map((p) => p.message),
    ['Select a rating from 1 to 5 for “Useful?”', 'Select an answer for “Venue?”'],
  )
  assert.equal(readAnswers(questions, { q1: '2.5', q2: 'York' }).problems[0]?.field, 'q1')
})

test('the summary: counts, the average to one decimal place, shares and the free-text answers', () => {
  const s = summarise(questions, [
    { q1: 5, q2: 'Leeds', q3: 'More time' },
    { q1: 4, q2: 'Leeds' },
    { q1: 4, q2: 'York', q3: 'Fewer slides' },
  ])
  assert.equal(s[0]!.answered, 3)
  assert.equal(s[0]!.average, 4.3)
  assert.deepEqual(
    s[0]!.ratings.map((r) => r.count),
    [0, 0, 0, 2, 1],
  )
  assert.deepEqual(s[1]!.choices, [
    { option: 'Leeds', count: 2, percent: 67 },
    { option: 'York', count: 1, percent: 33 },
  ])
  assert.deepEqual(s[2]!.texts, ['More time', 'Fewer slides'])
  assert.equal(s[2]!.answered, 2)

  const none = summarise(questions, [])
  assert.equal(none[0]!.average, null)
  assert.deepEqual(
    none[1]!.choices.map((c) => c.percent),
    [0, 0],
  )
})

test('the average lies between the lowest and highest rating', () => {
  fc.assert(
    fc.property(fc.array(fc.integer({ min: 1, max: 5 }), { minLength: 1, maxLength: 200 }), (ratings) => {
      const [summary] = summarise(
        [questions[0]!],
        ratings.map((q1) => ({ q1 })),
      )
      assert.ok(summary!.average! >= Math.min(...ratings) && summary!.average! <= Math.max(...ratings))
      assert.equal(
        summary!.ratings.reduce((a, r) => a + r.count, 0),
        ratings.length,
      )
    }),
  )
})

test('answers that a spreadsheet would run as a formula are neutralised in downloads', () => {
  assert.equal(spreadsheetSafe('=HYPERLINK("http://x")'), `'=HYPERLINK("http://x")`)
  assert.equal(spreadsheetSafe('+1'), "'+1")
  assert.equal(spreadsheetSafe('@SUM(A1)'), "'@SUM(A1)")
  assert.equal(spreadsheetSafe('More time'), 'More time')
  assert.equal(spreadsheetSafe(4), 4)
})
