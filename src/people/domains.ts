// The domains of each course's learning audit: a participant rates themselves 1–5 on each at the
// start, and again later to see how they have moved.
//
// Specialist NPQs, NPQEYL and NPQSENCO: the course titles in seed 003 (Ambition's handbook), which
// follow the DfE frameworks. NPQSL, NPQH and NPQEL: the domains of the DfE leadership NPQ frameworks
// (seed 000 names "School Culture" and "Teaching" as NPQH domains and points to the frameworks for the
// rest). EHCO has no framework; its audit uses the early-headship areas its coaching addresses.

export type Domain = { key: string; name: string }

const d = (...names: string[]): Domain[] =>
  names.map((name) => ({
    key: name
      .toLowerCase()
      .replace(/&/g, 'and')
      .replace(/[^a-z0-9]+/g, '-')
      .replace(/^-|-$/g, ''),
    name,
  }))

const leadershipCore = [
  'School culture',
  'Teaching',
  'Curriculum and assessment',
  'Behaviour',
  'Additional and special educational needs and disabilities',
  'Professional development',
  'Organisational management',
  'Implementation',
]

export const courseDomains: Record<string, Domain[]> = {
  'npq-senior-leadership': d(...leadershipCore),
  'npq-headship': d(...leadershipCore, 'Working in partnership', 'Governance and accountability'),
  'npq-executive-leadership': d(
    'Strategy',
    ...leadershipCore.filter((n) => n !== 'Behaviour'),
    'Working in partnership',
    'Governance and accountability',
  ),
  'npq-early-years-leadership': d(
    'Implementation',
    'Culture',
    'Child development',
    'Professional development',
    'Effective early education',
    'Curriculum and assessment',
    'Additional and special educational needs and disabilities',
    'Organisational management',
    'Working in partnership',
  ),
  'npq-senco': d(
    'Culture',
    'Teaching',
    'Behaviour',
    'Identification and assessment',
    'Provision and intervention',
    'Professional development',
    'Working in partnership',
    'Implementation',
  ),
  'npq-leading-behaviour-culture': d(
    'Teaching and learning',
    'Enabling conditions',
    'Culture',
    'Supporting all pupils',
    'Professional development',
    'Implementation',
  ),
  'npq-leading-teaching': d(
    'Culture and learning',
    'Assessment',
    'Instruction',
    'Subject and curriculum',
    'Professional development',
    'Implementation',
  ),
  'npq-leading-teaching-development': d(
    'Teaching',
    'Teacher learning',
    'The what of professional development',
    'The how of professional development',
    'Enabling conditions',
    'Implementation',
  ),
  'npq-leading-literacy': d(
    'Effective teaching and learning',
    'Developing language',
    'Developing reading',
    'Developing writing',
    'Implementation',
    'Professional development',
  ),
  'npq-leading-primary-mathematics': d(
    'Culture and learning',
    'Assessment',
    'Instruction',
    'Curriculum',
    'Professional development',
    'Implementation',
  ),
  'npq-early-headship-coaching-offer': d(
    'Leading school culture',
    'Leading teaching and the curriculum',
    'Managing resources and operations',
    'Working with governors and partners',
    'Your own wellbeing and workload',
  ),
}

export const ratingLabels: Record<number, string> = {
  1: '1 – Not confident',
  2: '2 – A little confident',
  3: '3 – Fairly confident',
  4: '4 – Confident',
  5: '5 – Very confident',
}

export const domainsOf = (courseIdentifier: string): Domain[] => courseDomains[courseIdentifier] ?? []

export type AuditRatings = Record<string, number>

/** Checks a submitted audit: every domain rated 1–5. Returns the ratings or the domains left unrated. */
export function readRatings(
  domains: Domain[],
  body: Record<string, unknown>,
): { ok: true; ratings: AuditRatings } | { ok: false; missing: Domain[] } {
  const ratings: AuditRatings = {}
  const missing: Domain[] = []
  for (const domain of domains) {
    const raw = body[`rating-${domain.key}`]
    const value = typeof raw === 'string' && /^[1-5]$/.test(raw) ? Number(raw) : null
    if (value === null) missing.push(domain)
    else ratings[domain.key] = value
  }
  return missing.length ? { ok: false, missing } : { ok: true, ratings }
}

export type Movement = { domain: Domain; first: number | null; latest: number | null; change: number | null; ratings: (number | null)[] }

/** Each domain across audits (oldest first): the first and latest rating and the change between them. */
export function movement(domains: Domain[], audits: { ratings: AuditRatings }[]): Movement[] {
  return domains.map((domain) => {
    const ratings = audits.map((a) => (typeof a.ratings[domain.key] === 'number' ? a.ratings[domain.key]! : null))
    const known = ratings.filter((r): r is number => r !== null)
    const first = known.length ? known[0]! : null
    const latest = known.length ? known[known.length - 1]! : null
    return { domain, first, latest, change: known.length > 1 ? latest! - first! : null, ratings }
  })
}

export const describeChange = (change: number | null): string =>
  change === null ? 'Not yet compared' : change > 0 ? `Up ${change}` : change < 0 ? `Down ${-change}` : 'No change'
