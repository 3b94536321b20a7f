import assert from 'node:assert/strict'
import { test } from 'node:test'
import fc from 'fast-check'
import {
  checkMediaLink,
  coveredSeconds,
  detectDocumentType,
  detectMediaType,
  formatQuestions,
  isWatched,
  mergeIntervals,
  parseDuration,
  parseQuestions,
  scoreQuiz,
  watchedPercent,
} from './rules.ts'
import type { Interval } from './schema.ts'

test('intervals merge: overlapping and touching joined, clamped to the duration, empty and reversed dropped', () => {
  assert.deepEqual(
    mergeIntervals(
      [
        [10, 20],
        [15, 30],
        [30, 40],
        [50, 45],
        [-5, 2],
        [90, 200],
        [60, 60],
      ],
      100,
    ),
    [
      [0, 2],
      [10, 40],
      [90, 100],
    ],
  )
  assert.equal(
    coveredSeconds(
      mergeIntervals(
        [
          [0, 50],
          [0, 50],
          [0, 50],
        ],
        100,
      ),
    ),
    50,
  )
})

test('watched time is covered seconds over the duration: rewatching the same minute does not add up', () => {
  const sameMinute: Interval[] = Array.from({ length: 20 }, () => [0, 60])
  assert.equal(watchedPercent(sameMinute, 600), 10)
  assert.equal(isWatched(sameMinute, 600), false)
  assert.equal(isWatched([[0, 539]], 600), false)
  assert.equal(
    isWatched(
      [
        [0, 300],
        [300, 540],
      ],
      600,
    ),
    true,
  )
})

test('merged intervals never overlap and never cover more than the duration (property)', () => {
  fc.assert(
    fc.property(
      fc.array(fc.tuple(fc.double({ min: -50, max: 500, noNaN: true }), fc.double({ min: -50, max: 500, noNaN: true }))),
      (raw) => {
        const merged = mergeIntervals(raw as Interval[], 300)
        for (let i = 1; i < merged.length; i++) assert.ok(merged[i]![0] > merged[i - 1]![1])
        assert.ok(coveredSeconds(merged) <= 300 + 1e-9)
        assert.deepEqual(mergeIntervals(merged, 300), merged)
      },
    ),
  )
})

const questions = [
  { prompt: 'Q1', options: ['a', 'b', 'c'], correct: [1], feedback: 'B is right' },
  { prompt: 'Q2', options: ['a', 'b', 'c'], correct: [0, 2], feedback: '' },
]

test('a quiz scores one mark per exactly right question, passes at the pass mark, and gives feedback per question', () => {
  const r = scoreQuiz(questions, [[1], [0]], 50)
  assert.equal(r.score, 1)
  assert.equal(r.maxScore, 2)
  assert.equal(r.percent, 50)
  assert.equal(r.passed, true)
  assert.equal(r.questions[0]!.correct, true)
  assert.equal(r.questions[0]!.feedback, 'B is right')
  assert.deepEqual(r.questions[1]!.correctOptions, ['a', 'c'])
  assert.equal(scoreQuiz(questions, [[1], [2, 0]], 100).passed, true)
  assert.equal(scoreQuiz(questions, [[0], []], 60).passed, false)
  // Out-of-range options are ignored; a diagnostic has no pass mark.
  assert.equal(scoreQuiz(questions, [[1, 7]], null).passed, null)
  assert.equal(scoreQuiz(questions, [[1, 7]], null).score, 1)
})

test('questions are written as ? prompt, - option, * correct option, > feedback; problems by line', () => {
  const text =
    '? What is retrieval practice?\n- Re-reading\n* Recalling from memory\n> Recall strengthens memory\n\n? Pick two\n* one\n* two\n- three'
  const { questions: parsed, problems } = parseQuestions(text)
  assert.deepEqual(problems, [])
  assert.equal(parsed.length, 2)
  assert.deepEqual(parsed[0], {
    prompt: 'What is retrieval practice?',
    options: ['Re-reading', 'Recalling from memory'],
    correct: [1],
    feedback: 'Recall strengthens memory',
  })
  assert.deepEqual(parsed[1]!.correct, [0, 1])
  assert.deepEqual(parseQuestions(formatQuestions(parsed)).questions, parsed)
  assert.match(parseQuestions('hello').problems[0]!, /Line 1/)
  assert.match(parseQuestions('? Q\n- a\n- b').problems[0]!, /needs a correct option/)
  assert.match(parseQuestions('? Q\n* a').problems[0]!, /at least 2 options/)
})

test('durations, media links and file types', () => {
  assert.equal(parseDuration('12:30'), 750)
  assert.equal(parseDuration('1:02:03'), 3723)
  assert.equal(parseDuration('45'), 2700)
  assert.equal(parseDuration('0'), null)
  assert.equal(parseDuration('12:75'), null)
  assert.equal(parseDuration('soon'), null)
  assert.equal(checkMediaLink('https://www.youtube.com/watch?v=abc'), 'https://www.youtube.com/watch?v=abc')
  assert.equal(checkMediaLink('http://www.youtube.com/watch?v=abc'), null)
  assert.equal(checkMediaLink('https://evil.example/video.mp4'), null)
  assert.equal(checkMediaLink('javascript:alert(1)'), null)
  assert.equal(detectDocumentType(Buffer.from('%PDF-1.4 ...'))?.extension, 'pdf')
  assert.equal(detectDocumentType(Buffer.from('plain notes'))?.extension, 'txt')
  assert.equal(detectDocumentType(Buffer.from([0x4d, 0x5a, 0x90, 0x00, 0x03])), null)
  assert.equal(detectDocumentType(Buffer.alloc(0)), null)
  assert.equal(detectMediaType(Buffer.from('\0\0\0\x18ftypmp42\0\0\0\0', 'latin1'), 'video')?.mimeType, 'video/mp4')
  assert.equal(detectMediaType(Buffer.from('ID3\x03\0\0\0\0\0\0\0\0\0', 'latin1'), 'audio')?.mimeType, 'audio/mpeg')
  assert.equal(detectMediaType(Buffer.from('%PDF-1.4 not a video'), 'video'), null)
})
