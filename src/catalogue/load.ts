import fs from 'node:fs'
import path from 'node:path'
import { LineCounter, parseDocument, type Document } from 'yaml'
import type { z } from 'zod'
import { courses, declarationTypesOfGroup, findCourse, type CourseGroup, type DeclarationType } from './courses.ts'
import {
  designFile,
  policyFile,
  scheduleFile,
  weightedComponents,
  type ActivityFile,
  type DesignFile,
  type PolicyFile,
  type ScheduleFile,
} from './files.ts'

// Reads and checks every file in catalogue/. All problems are collected (file, line, what is wrong)
// and reported together; the platform does not start on a catalogue with any problem.

export type CatalogueProblem = { file: string; line: number; message: string }

export class CatalogueError extends Error {
  readonly problems: CatalogueProblem[]
  constructor(problems: CatalogueProblem[]) {
    super(
      `The catalogue has ${problems.length} problem${problems.length === 1 ? '' : 's'}:\n` +
        problems.map((p) => `  ${p.file}:${p.line}: ${p.message}`).join('\n'),
    )
    this.problems = problems
  }
}

type Problem = (p: (string | number)[], message: string) => void

export type Evidence = 'register' | 'activity' | 'meeting-log'

export type Activity = {
  code: string
  component: string
  title: string
  durationMinutes: number | null
  /** Credits (EDT), 1 (Ambition items), or the weight share of one required item (UCL). */
  credits: number
  evidence: Evidence
}

export type Block = { block: number | string; title: string | null; provisional: boolean; creditsAvailable: number; activities: Activity[] }

export type Design = {
  leadProvider: string
  courseIdentifier: string
  style: DesignFile['style']
  version: number
  source: string
  blocks: Block[]
  /** Ambition items outside the courses (induction, conferences, coaching…): they count in the total only. */
  programmeActivities: Activity[]
  /** Counts published blocks only (provisional blocks are listed, not counted). */
  creditsAvailable: number
  /** The reviewed data this design was built from (stored with each version). */
  content: DesignFile
  /** The file it was read from; null for a version authored in the admin pages. */
  file: string | null
}

export type OutputDates = {
  declarationType: DeclarationType
  sharePercent: number | null
  reviewDate: string | null
  invoiceDate: string | null
  paymentDate: string | null
}

export type CohortSchedule = {
  leadProvider: string
  cohort: string
  label: string | null
  startsOn: string | null
  selfReporting: boolean
  courseGroups: { courseGroup: CourseGroup; scheduleIdentifier: string | null; courses: string[]; outputs: OutputDates[] }[]
}

export type Policy = PolicyFile

export type CatalogueData = {
  designs: Design[]
  schedules: CohortSchedule[]
  policies: Policy[]
}

const allDeclarationTypes: DeclarationType[] = ['started', 'retained-1', 'retained-2', 'completed']

const registerKeys = ['INDUCTION', 'CONFERENCE', 'CLINIC', 'COMMUNITY', 'COACHING', 'SCHOOL-VISIT', 'ASSESSMENT-CLINIC', 'SHADOWING']

/** Which evidence counts for an activity (../shared/INTERFACES.md "Event activities"). */
function evidenceOf(style: DesignFile['style'], code: string, component: string): Evidence {
  if (style === 'credits') return component === 'Training event' ? 'register' : 'activity'
  const key = code.split('-').slice(1).join('-')
  return registerKeys.some((k) => key === k || key.startsWith(`${k}-`) || key.endsWith(`-${k}`)) ? 'register' : 'activity'
}

type Read<T> = { data: T; problem: Problem }

/** Parses YAML text against a schema; problems (with their line) go to `problems`. */
function readYaml<S extends z.ZodType>(text: string, name: string, schema: S, problems: CatalogueProblem[]): Read<z.infer<S>> | null {
  const lineCounter = new LineCounter()
  const doc: Document = parseDocument(text, { lineCounter, prettyErrors: false })
  if (doc.errors.length) {
    for (const e of doc.errors) problems.push({ file: name, line: lineCounter.linePos(e.pos[0]).line, message: e.message.split('\n')[0]! })
    return null
  }
  const at = (p: (string | number)[]): number => {
    for (let i = p.length; i >= 0; i--) {
      const node = doc.getIn(p.slice(0, i), true) as { range?: [number, number, number] } | undefined
      if (node && typeof node === 'object' && node.range) return lineCounter.linePos(node.range[0]).line
    }
    return 1
  }
  const problem: Problem = (p, message) => problems.push({ file: name, line: at(p), message })
  const parsed = schema.safeParse(doc.toJS())
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      const where = issue.path.map(String).join('.')
      problem(issue.path as (string | number)[], `${where ? `${where}: ` : ''}${issue.message}`)
    }
    return null
  }
  return { data: parsed.data, problem }
}

class FileReader {
  readonly problems: CatalogueProblem[] = []
  private readonly root: string
  constructor(root: string) {
    this.root = root
  }

  read<S extends z.ZodType>(file: string, schema: S): Read<z.infer<S>> | null {
    return readYaml(fs.readFileSync(file, 'utf8'), path.relative(path.dirname(this.root), file), schema, this.problems)
  }
}

/**
 * A design written by a lead-provider admin: the same YAML as the data files, checked the same way,
 * for the provider and course the page is about. Throws CatalogueError with every problem by line.
 */
export function designFromYaml(text: string, expected: { leadProvider: string; courseIdentifier: string }, version: number): Design {
  const problems: CatalogueProblem[] = []
  const name = 'design'
  const read = readYaml(text, name, designFile, problems)
  if (read) {
    if (read.data.lead_provider !== expected.leadProvider) read.problem(['lead_provider'], `must be ${expected.leadProvider}`)
    if (read.data.course_identifier !== expected.courseIdentifier)
      read.problem(['course_identifier'], `must be ${expected.courseIdentifier}`)
    const design = checkDesign(read.data, null, read.problem)
    if (design && problems.length === 0) return { ...design, version }
  }
  throw new CatalogueError(problems)
}

function yamlFiles(dir: string): string[] {
  if (!fs.existsSync(dir)) return []
  return fs
    .readdirSync(dir, { withFileTypes: true })
    .flatMap((e) => (e.isDirectory() ? yamlFiles(path.join(dir, e.name)) : e.name.endsWith('.yaml') ? [path.join(dir, e.name)] : []))
    .sort()
}

export function loadCatalogue(root: string): CatalogueData {
  const reader = new FileReader(root)
  const designs: Design[] = []
  const schedules: CohortSchedule[] = []
  const policies: Policy[] = []

  for (const file of yamlFiles(path.join(root, 'designs'))) {
    const read = reader.read(file, designFile)
    if (!read) continue
    const before = reader.problems.length
    const design = checkDesign(read.data, file, read.problem)
    if (design && reader.problems.length === before) designs.push(design)
  }
  for (const file of yamlFiles(path.join(root, 'schedules'))) {
    const read = reader.read(file, scheduleFile)
    if (read) schedules.push(...checkSchedule(read.data, read.problem))
  }
  for (const file of yamlFiles(path.join(root, 'policies'))) {
    const read = reader.read(file, policyFile)
    if (!read) continue
    if (path.basename(file, '.yaml') !== read.data.lead_provider)
      read.problem(['lead_provider'], `the file for ${path.basename(file, '.yaml')} says lead_provider ${read.data.lead_provider}`)
    policies.push(read.data)
  }
  if (reader.problems.length) throw new CatalogueError(reader.problems)
  return { designs, schedules, policies }
}

function checkDesign(d: DesignFile, file: string | null, problem: Problem): Design | null {
  const course = findCourse(d.course_identifier)
  if (!course) {
    problem(['course_identifier'], `unknown course "${d.course_identifier}" (known: ${courses.map((c) => c.identifier).join(', ')})`)
    return null
  }
  if (file && path.basename(file, '.yaml') !== d.course_identifier)
    problem(['course_identifier'], `the file ${path.basename(file)} holds ${d.course_identifier}`)
  if (file && path.basename(path.dirname(file)) !== d.lead_provider)
    problem(['lead_provider'], `a design in ${path.basename(path.dirname(file))}/ says lead_provider ${d.lead_provider}`)

  const seen = new Map<string, string>()
  const checkCode = (code: string, where: (string | number)[]) => {
    if (!code.startsWith(`${course.shortName}-`)) problem([...where, 'code'], `code ${code} must start with ${course.shortName}-`)
    if (seen.has(code)) problem([...where, 'code'], `duplicate code ${code} (also at ${seen.get(code)})`)
    seen.set(code, where.join('.'))
  }
  const toActivity = (a: ActivityFile, credits: number): Activity => ({
    code: a.code,
    component: a.component,
    title: a.title,
    durationMinutes: a.duration_minutes ?? null,
    credits,
    evidence: evidenceOf(d.style, a.code, a.component),
  })

  let blocks: Block[] = []
  let programmeActivities: Activity[] = []
  switch (d.style) {
    case 'credits': {
      let total = 0
      blocks = d.blocks.map((b, bi) => {
        const sum = b.activities.reduce((n, a) => n + (a.credits ?? 0), 0)
        b.activities.forEach((a, ai) => {
          checkCode(a.code, ['blocks', bi, 'activities', ai])
          if (!a.code.startsWith(`${course.shortName}-B${b.block}-`))
            problem(['blocks', bi, 'activities', ai, 'code'], `code ${a.code} must start with ${course.shortName}-B${b.block}-`)
          if (a.credits === undefined) problem(['blocks', bi, 'activities', ai], `activity ${a.code} has no credits`)
        })
        if (b.stated_total != null && sum !== b.stated_total) {
          problem(
            ['blocks', bi, 'stated_total'],
            `block ${b.block} activities add up to ${sum} credits, but the source states ${b.stated_total}`,
          )
        }
        if (!b.provisional && b.stated_total == null)
          problem(['blocks', bi, 'stated_total'], `published block ${b.block} needs the source's stated total`)
        if (!b.provisional) total += sum
        return {
          block: b.block,
          title: b.title ?? null,
          provisional: b.provisional,
          creditsAvailable: b.provisional ? 0 : sum,
          activities: b.activities.map((a) => toActivity(a, a.credits ?? 0)),
        }
      })
      if (d.stated_total != null && total !== d.stated_total)
        problem(['stated_total'], `the published blocks add up to ${total} credits, but the source states ${d.stated_total}`)
      checkBlockOrder(d.blocks, problem)
      break
    }
    case 'weighted': {
      const weights = d.components.reduce((n, c) => n + c.weight, 0)
      if (Math.abs(weights - 100) > 1e-9) problem(['components'], `component weights add up to ${weights}, not 100`)
      const order = d.components.map((c) => weightedComponents.indexOf(c.component))
      d.components.forEach((c, i) => {
        if (i > 0 && order[i]! <= order[i - 1]!)
          problem(
            ['components', i, 'component'],
            `component ${c.component} is out of order or repeated (order: ${weightedComponents.join(', ')})`,
          )
      })
      blocks = d.components.map((c) => ({
        block: c.component,
        title: c.title,
        provisional: false,
        creditsAvailable: c.weight,
        activities: Array.from({ length: c.required }, (_, i) => ({
          code: `${course.shortName}-${c.component}-${i + 1}`,
          component: c.component,
          title: `${c.title} ${i + 1}`,
          durationMinutes: null,
          credits: c.weight / c.required,
          // Only the meetings themselves are evidenced by logs alone: FATs "tracked by" the log are
          // evidenced by activity rows too, the union of both (INTERFACES.md, the UCL engagement report).
          evidence:
            c.tracked_by === 'register'
              ? ('register' as const)
              : c.tracked_by === 'meeting-log' && c.component === 'MEETING'
                ? ('meeting-log' as const)
                : ('activity' as const),
        })),
      }))
      break
    }
    case 'items': {
      d.programme_activities.forEach((a, i) => checkCode(a.code, ['programme_activities', i]))
      d.blocks.forEach((b, bi) => b.activities.forEach((a, ai) => checkCode(a.code, ['blocks', bi, 'activities', ai])))
      programmeActivities = d.programme_activities.map((a) => toActivity(a, 1))
      blocks = d.blocks.map((b) => ({
        block: b.block,
        title: b.title ?? null,
        provisional: b.provisional,
        creditsAvailable: b.provisional ? 0 : b.activities.length,
        activities: b.activities.map((a) => toActivity(a, 1)),
      }))
      checkBlockOrder(d.blocks, problem)
      break
    }
  }
  const creditsAvailable = blocks.reduce((n, b) => n + b.creditsAvailable, 0) + programmeActivities.length
  return {
    leadProvider: d.lead_provider,
    courseIdentifier: d.course_identifier,
    style: d.style,
    version: 1,
    source: d.source,
    blocks,
    programmeActivities,
    creditsAvailable,
    content: d,
    file,
  }
}

/**
 * Builds a design from stored or submitted content, checked exactly as the data files are.
 * Problems are reported against `where` (a version or form), with the path inside the design.
 */
export function designFromContent(content: unknown, version: number, where: string): Design {
  const problems: CatalogueProblem[] = []
  const problem: Problem = (p, message) =>
    problems.push({ file: where, line: 0, message: `${p.join('.')}${p.length ? ': ' : ''}${message}` })
  const parsed = designFile.safeParse(content)
  if (!parsed.success) {
    for (const issue of parsed.error.issues) problem(issue.path as (string | number)[], issue.message)
    throw new CatalogueError(problems)
  }
  const design = checkDesign(parsed.data, null, problem)
  if (!design || problems.length) throw new CatalogueError(problems)
  return { ...design, version }
}

function checkBlockOrder(blocks: { block: number }[], problem: Problem) {
  blocks.forEach((b, i) => {
    if (b.block !== i + 1)
      problem(['blocks', i, 'block'], `blocks must be numbered 1, 2, 3… in order; found ${b.block} at position ${i + 1}`)
  })
}

// A provider's schedule must list exactly the platform's outputs for the group, shares making 100%.
// DfE's own file is kept as DfE publishes it: its shares are of the 60% paid on outputs, its EHCO
// schedules carry four declaration types, and a milestone date may equal its payment date.
function checkSchedule(s: ScheduleFile, problem: Problem): CohortSchedule[] {
  const isDfe = s.lead_provider === 'dfe'
  const seenCohorts = new Set<string>()
  return s.cohorts.map((c, ci) => {
    if (seenCohorts.has(c.cohort)) problem(['cohorts', ci, 'cohort'], `cohort ${c.cohort} is listed twice`)
    seenCohorts.add(c.cohort)
    c.course_groups.forEach((g, gi) => {
      const where = ['cohorts', ci, 'course_groups', gi]
      if (!isDfe && c.course_groups.some((other, oi) => oi < gi && other.course_group === g.course_group)) {
        problem([...where, 'course_group'], `cohort ${c.cohort} lists the ${g.course_group} group twice`)
      }
      g.courses.forEach((id, i) => {
        const course = findCourse(id)
        if (!course) problem([...where, 'courses', i], `unknown course "${id}"`)
        else if (course.group !== g.course_group)
          problem([...where, 'courses', i], `${id} is a ${course.group} course, not ${g.course_group}`)
      })
      const expected = isDfe
        ? allDeclarationTypes.filter((t) => g.outputs.some((o) => o.declaration_type === t))
        : declarationTypesOfGroup[g.course_group]
      const got = g.outputs.map((o) => o.declaration_type)
      if (got.join() !== expected.join())
        problem([...where, 'outputs'], `${g.course_group} outputs must be ${expected.join(', ')}; found ${got.join(', ')}`)
      let previousReview: string | null = null
      g.outputs.forEach((o, oi) => {
        const at = [...where, 'outputs', oi]
        if (o.invoice_date && o.review_date && !(o.review_date < o.invoice_date))
          problem([...at, 'invoice_date'], `invoice date ${o.invoice_date} is not after the review date ${o.review_date}`)
        if (o.payment_date && o.invoice_date && !(o.invoice_date < o.payment_date))
          problem([...at, 'payment_date'], `payment date ${o.payment_date} is not after the invoice date ${o.invoice_date}`)
        if (o.payment_date && o.review_date && !(isDfe ? o.review_date <= o.payment_date : o.review_date < o.payment_date))
          problem([...at, 'payment_date'], `payment date ${o.payment_date} is not after the review date ${o.review_date}`)
        if (o.review_date && previousReview && !(previousReview < o.review_date))
          problem([...at, 'review_date'], `review date ${o.review_date} is not after the previous output's ${previousReview}`)
        if (o.review_date) previousReview = o.review_date
      })
      const shares = g.outputs.map((o) => o.share_percent).filter((x): x is number => x != null)
      if (!isDfe && shares.length === g.outputs.length && Math.abs(shares.reduce((a, b) => a + b, 0) - 100) > 0.5) {
        problem([...where, 'outputs'], `output shares add up to ${shares.reduce((a, b) => a + b, 0)}%, not 100%`)
      }
    })
    return {
      leadProvider: s.lead_provider,
      cohort: c.cohort,
      label: c.label ?? null,
      startsOn: c.starts_on ?? null,
      selfReporting: c.self_reporting,
      courseGroups: c.course_groups.map((g) => ({
        courseGroup: g.course_group,
        scheduleIdentifier: g.schedule_identifier ?? null,
        courses: g.courses,
        outputs: g.outputs.map((o) => ({
          declarationType: o.declaration_type,
          sharePercent: o.share_percent ?? null,
          reviewDate: o.review_date,
          invoiceDate: o.invoice_date ?? null,
          paymentDate: o.payment_date ?? null,
        })),
      })),
    }
  })
}
