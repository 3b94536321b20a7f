import type { ContentKind, Interval, Question } from './schema.ts'

// The pure rules of block content: watched-time intervals, quiz and diagnostic scoring, the authoring
// formats (questions, durations, tags) and what an uploaded file may be.

/** A video, podcast or webinar counts as watched at this share of its duration. */
export const WATCHED_THRESHOLD = 0.9
export const MAX_FILE_BYTES = 10 * 1024 * 1024
export const MAX_FILE_SIZE_TEXT = '10 MB'
export const MAX_MEDIA_BYTES = 50 * 1024 * 1024
export const MAX_MEDIA_SIZE_TEXT = '50 MB'
export const MAX_TEXT_CHARS = 20_000
export const MAX_ANSWER_CHARS = 10_000

export const kindNames: Record<ContentKind, string> = {
  page: 'Page',
  video: 'Video',
  podcast: 'Podcast',
  file: 'Downloadable file',
  quiz: 'Quiz',
  diagnostic: 'Diagnostic assessment',
  reflection: 'Reflective prompt',
  task: 'Formative assessment task',
  study: 'Study module',
  apply: 'Apply module',
  'micro-task': 'Micro implementation task',
  webinar: 'Recorded webinar',
}

export const isMediaKind = (kind: ContentKind) => kind === 'video' || kind === 'podcast' || kind === 'webinar'
export const isQuizKind = (kind: ContentKind) => kind === 'quiz' || kind === 'diagnostic'
/** Kinds the participant answers in prompts (saved, private to them). */
export const isPromptKind = (kind: ContentKind) => kind === 'reflection' || kind === 'micro-task' || kind === 'study'

/** The Apply module's steps (the handbooks' "Study and Apply": diagnose, model, apply, act). */
export const applySteps = [
  {
    key: 'diagnosis',
    label: 'Diagnosis of your earlier actions',
    hint: 'Look back at what you did before this block: what worked, and why?',
  },
  { key: 'model', label: 'The model', hint: 'What does the evidence in this block suggest you do differently?' },
  { key: 'application', label: 'Application', hint: 'How you applied it, and what happened' },
  { key: 'actions', label: 'Your actions', hint: 'What you will do next, and by when' },
] as const

// ---- Watched intervals ----

/** Sorted, non-overlapping intervals inside [0, duration]; touching or overlapping ones joined. */
export function mergeIntervals(intervals: readonly Interval[], duration: number): Interval[] {
  const clean = intervals
    .filter((i) => Array.isArray(i) && i.length === 2 && Number.isFinite(i[0]) && Number.isFinite(i[1]))
    .map(([a, b]): Interval => [Math.max(0, Math.min(a, duration)), Math.max(0, Math.min(b, duration))])
    .filter(([a, b]) => b > a)
    .sort((x, y) => x[0] - y[0])
  const merged: Interval[] = []
  for (const [a, b] of clean) {
    const last = merged.at(-1)
    if (last && a <= last[1]) last[1] = Math.max(last[1], b)
    else merged.push([a, b])
  }
  return merged
}

export const coveredSeconds = (intervals: readonly Interval[]) => intervals.reduce((sum, [a, b]) => sum + (b - a), 0)

/** Share of the media watched, 0–100, from merged intervals. */
export function watchedPercent(intervals: readonly Interval[], duration: number): number {
  if (duration <= 0) return 0
  return Math.min(100, (coveredSeconds(mergeIntervals(intervals, duration)) / duration) * 100)
}

export const isWatched = (intervals: readonly Interval[], duration: number) =>
  watchedPercent(intervals, duration) >= WATCHED_THRESHOLD * 100

// ---- Quizzes and diagnostics ----

export type QuestionResult = {
  index: number
  prompt: string
  correct: boolean
  chosen: number[]
  feedback: string
  correctOptions: string[]
}
export type QuizResult = { score: number; maxScore: number; percent: number; passed: boolean | null; questions: QuestionResult[] }

/**
 * One mark per question answered exactly (the chosen options are the correct ones). A quiz with a
 * pass mark is passed at that percentage; a diagnostic has none (passed null): its result is a profile.
 */
export function scoreQuiz(questions: readonly Question[], answers: readonly (readonly number[])[], passMark: number | null): QuizResult {
  const results = questions.map((q, index) => {
    const chosen = [...new Set(answers[index] ?? [])].filter((n) => n >= 0 && n < q.options.length).sort((a, b) => a - b)
    const correct = [...q.correct].sort((a, b) => a - b)
    const ok = chosen.length === correct.length && chosen.every((c, i) => c === correct[i])
    return { index, prompt: q.prompt, correct: ok, chosen, feedback: q.feedback, correctOptions: correct.map((c) => q.options[c] ?? '') }
  })
  const score = results.filter((r) => r.correct).length
  const maxScore = questions.length
  const percent = maxScore ? Math.round((score / maxScore) * 100) : 0
  return { score, maxScore, percent, passed: passMark === null ? null : percent >= passMark, questions: results }
}

/**
 * Questions as authors write them in one text box:
 *
 *     ? What is retrieval practice?
 *     - Re-reading notes
 *     * Recalling from memory      (a correct option starts with *)
 *     > Feedback shown after answering
 *
 * A blank line is optional between questions. Returns the questions, or the problems by line.
 */
export function parseQuestions(text: string): { questions: Question[]; problems: string[] } {
  const questions: Question[] = []
  const problems: string[] = []
  const lines = text.replace(/\r\n?/g, '\n').split('\n')
  for (const [n, raw] of lines.entries()) {
    const line = raw.trim()
    if (line === '') continue
    const marker = line[0]
    const rest = line.slice(1).trim()
    const current = questions.at(-1)
    if (marker === '?') {
      if (!rest) problems.push(`Line ${n + 1}: enter the question after ?`)
      questions.push({ prompt: rest, options: [], correct: [], feedback: '' })
    } else if ((marker === '-' || marker === '*') && current) {
      if (!rest) problems.push(`Line ${n + 1}: enter the option after ${marker}`)
      if (marker === '*') current.correct.push(current.options.length)
      current.options.push(rest)
    } else if (marker === '>' && current) {
      current.feedback = current.feedback ? `${current.feedback} ${rest}` : rest
    } else {
      problems.push(`Line ${n + 1}: start each line with ? (question), - (option), * (correct option) or > (feedback)`)
    }
  }
  for (const [i, q] of questions.entries()) {
    if (q.options.length < 2) problems.push(`Question ${i + 1} needs at least 2 options`)
    if (q.correct.length === 0) problems.push(`Question ${i + 1} needs a correct option (start it with *)`)
  }
  return { questions, problems }
}

/** The authoring text for stored questions (the inverse of parseQuestions). */
export function formatQuestions(questions: readonly Question[]): string {
  return questions
    .map((q) =>
      [
        `? ${q.prompt}`,
        ...q.options.map((o, i) => `${q.correct.includes(i) ? '*' : '-'} ${o}`),
        ...(q.feedback ? [`> ${q.feedback}`] : []),
      ].join('\n'),
    )
    .join('\n\n')
}

/** "12:30", "1:02:03" or a number of minutes ("45"), as seconds; null if not a duration. */
export function parseDuration(text: string): number | null {
  const t = text.trim()
  if (/^\d{1,4}$/.test(t)) return Number(t) > 0 ? Number(t) * 60 : null
  const m = /^(?:(\d{1,2}):)?(\d{1,3}):([0-5]\d)$/.exec(t)
  if (!m) return null
  const seconds = Number(m[1] ?? 0) * 3600 + Number(m[2]) * 60 + Number(m[3])
  return seconds > 0 ? seconds : null
}

export function formatDuration(seconds: number): string {
  const h = Math.floor(seconds / 3600)
  const m = Math.floor((seconds % 3600) / 60)
  const s = Math.round(seconds % 60)
  return h ? `${h}:${String(m).padStart(2, '0')}:${String(s).padStart(2, '0')}` : `${m}:${String(s).padStart(2, '0')}`
}

/** One statement per line; blank lines and duplicates dropped. */
export const parseLines = (text: string) => [
  ...new Set(
    text
      .split(/\r?\n/)
      .map((l) => l.trim())
      .filter(Boolean),
  ),
]

// ---- Uploads: the type from the content, not the name ----

export type FileType = { extension: string; mimeType: string }
const starts = (b: Buffer, bytes: number[], at = 0) => bytes.every((x, i) => b[at + i] === x)

/** A document a lead provider may offer for download, by its first bytes; null if not one. */
export function detectDocumentType(content: Buffer): FileType | null {
  if (content.length === 0) return null
  if (starts(content, [0x25, 0x50, 0x44, 0x46, 0x2d])) return { extension: 'pdf', mimeType: 'application/pdf' }
  if (starts(content, [0x50, 0x4b, 0x03, 0x04])) {
    const names = content.toString('latin1')
    if (!names.includes('[Content_Types].xml')) return null
    if (names.includes('word/'))
      return { extension: 'docx', mimeType: 'application/vnd.openxmlformats-officedocument.wordprocessingml.document' }
    if (names.includes('ppt/'))
      return { extension: 'pptx', mimeType: 'application/vnd.openxmlformats-officedocument.presentationml.presentation' }
    if (names.includes('xl/')) return { extension: 'xlsx', mimeType: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet' }
    return null
  }
  if (starts(content, [0x89, 0x50, 0x4e, 0x47])) return { extension: 'png', mimeType: 'image/png' }
  if (starts(content, [0xff, 0xd8, 0xff])) return { extension: 'jpg', mimeType: 'image/jpeg' }
  const text = content.subarray(0, 4096)
  if (!text.includes(0) && Buffer.from(text.toString('utf8'), 'utf8').equals(text))
    return { extension: 'txt', mimeType: 'text/plain; charset=utf-8' }
  return null
}

/** Audio or video the browser can play, by its first bytes; null if not one. */
export function detectMediaType(content: Buffer, kind: 'video' | 'audio'): FileType | null {
  if (content.length < 12) return null
  const ftyp = starts(content, [0x66, 0x74, 0x79, 0x70], 4)
  if (ftyp) {
    const brand = content.subarray(8, 12).toString('latin1')
    if (kind === 'audio' && /^M4A/.test(brand)) return { extension: 'm4a', mimeType: 'audio/mp4' }
    return kind === 'video' ? { extension: 'mp4', mimeType: 'video/mp4' } : { extension: 'm4a', mimeType: 'audio/mp4' }
  }
  if (starts(content, [0x1a, 0x45, 0xdf, 0xa3])) return kind === 'video' ? { extension: 'webm', mimeType: 'video/webm' } : null
  if (kind === 'audio') {
    if (starts(content, [0x49, 0x44, 0x33]) || (content[0] === 0xff && (content[1]! & 0xe0) === 0xe0))
      return { extension: 'mp3', mimeType: 'audio/mpeg' }
    if (starts(content, [0x4f, 0x67, 0x67, 0x53])) return { extension: 'ogg', mimeType: 'audio/ogg' }
    if (starts(content, [0x52, 0x49, 0x46, 0x46]) && starts(content, [0x57, 0x41, 0x56, 0x45], 8))
      return { extension: 'wav', mimeType: 'audio/wav' }
  }
  return null
}

/** Links to media on hosts lead providers use; other links are refused (no arbitrary URLs on pages). */
export const allowedMediaHosts = ['www.youtube.com', 'youtube.com', 'youtu.be', 'vimeo.com', 'player.vimeo.com', 'web.microsoftstream.com']

export function checkMediaLink(text: string): string | null {
  try {
    const url = new URL(text)
    return url.protocol === 'https:' && allowedMediaHosts.includes(url.hostname) ? url.toString() : null
  } catch {
    return null
  }
}
