// Half terms of the English school year (September to August), for the half-termly partnership
// meetings of seed 004. Term dates differ between local authorities and years, so a half term here is
// a fixed span of calendar dates that keeps each holiday with the half term it follows, and leaves no
// day out: autumn 1 = 1 September–31 October (the October break ends it), autumn 2 = 1 November–
// 31 December, spring 1 = 1 January–end of February (the February break), spring 2 = 1 March–15 April
// (Easter), summer 1 = 16 April–31 May (the May break), summer 2 = 1 June–31 August (with the summer
// holiday). Pure: dates are YYYY-MM-DD strings.

export type HalfTerm = {
  /** `2024-autumn-1`: the year the school year starts, then the half term. */
  id: string
  /** `Autumn 1, 2024 to 2025` */
  label: string
  start: string
  end: string
}

const parts = [
  { key: 'autumn-1', name: 'Autumn 1', from: '09-01', to: '10-31', nextYear: false },
  { key: 'autumn-2', name: 'Autumn 2', from: '11-01', to: '12-31', nextYear: false },
  { key: 'spring-1', name: 'Spring 1', from: '01-01', to: 'february', nextYear: true },
  { key: 'spring-2', name: 'Spring 2', from: '03-01', to: '04-15', nextYear: true },
  { key: 'summer-1', name: 'Summer 1', from: '04-16', to: '05-31', nextYear: true },
  { key: 'summer-2', name: 'Summer 2', from: '06-01', to: '08-31', nextYear: true },
] as const

const isLeapYear = (year: number) => (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0

function make(schoolYear: number, index: number): HalfTerm {
  const p = parts[index]!
  const year = p.nextYear ? schoolYear + 1 : schoolYear
  const to = p.to === 'february' ? (isLeapYear(year) ? '02-29' : '02-28') : p.to
  return {
    id: `${schoolYear}-${p.key}`,
    label: `${p.name}, ${schoolYear} to ${schoolYear + 1}`,
    start: `${year}-${p.from}`,
    end: `${year}-${to}`,
  }
}

/** The half term a date falls in. */
export function halfTermOf(date: string): HalfTerm {
  const year = Number(date.slice(0, 4))
  const schoolYear = date.slice(5) >= '09-01' ? year : year - 1
  for (let i = 0; i < parts.length; i++) {
    const h = make(schoolYear, i)
    if (date >= h.start && date <= h.end) return h
  }
  throw new Error(`No half term for ${date}`)
}

/** A half term from its id (`2024-autumn-1`); null when the id is not one. */
export function halfTermById(id: string): HalfTerm | null {
  const match = /^(\d{4})-(autumn|spring|summer)-([12])$/.exec(id)
  if (!match) return null
  const index = parts.findIndex((p) => p.key === `${match[2]}-${match[3]}`)
  return make(Number(match[1]), index)
}

export function nextHalfTerm(h: HalfTerm): HalfTerm {
  const d = new Date(`${h.end}T00:00:00Z`)
  d.setUTCDate(d.getUTCDate() + 1)
  return halfTermOf(d.toISOString().slice(0, 10))
}

/** Every half term from the one containing `from` to the one containing `to`, oldest first. */
export function halfTermsBetween(from: string, to: string): HalfTerm[] {
  const result: HalfTerm[] = []
  for (let h = halfTermOf(from); h.start <= to; h = nextHalfTerm(h)) result.push(h)
  return result
}
