import type { PeopleGroupKind } from './schema.ts'

// Pure rules for people groups (no database): buddies work in pairs or threes.

export const MIN_BUDDIES = 2
export const MAX_BUDDIES = 3

export const groupKindLabels: Record<PeopleGroupKind, string> = {
  buddies: 'Buddies',
  'clinic-group': 'Clinic group',
  community: 'Community',
  'peer-learning-group': 'Peer learning group',
}

export const groupKindHints: Record<PeopleGroupKind, string> = {
  buddies: 'A pair or three who work through the Apply modules together for the whole programme',
  'clinic-group': 'Participants who consolidate their learning together in clinics',
  community: 'Participants who network and solve problems together from similar contexts',
  'peer-learning-group': 'A group who meet for peer learning group sessions',
}

/** Why a group of this kind cannot have this many members, or null when it can. */
export function groupSizeProblem(kind: PeopleGroupKind, members: number): string | null {
  if (kind !== 'buddies') return null
  if (members < MIN_BUDDIES) return 'Buddies work in pairs or threes: select 2 or 3 participants'
  if (members > MAX_BUDDIES) return 'Buddies work in pairs or threes: a buddy group cannot have more than 3 people'
  return null
}

export const isGroupKind = (v: unknown): v is PeopleGroupKind =>
  typeof v === 'string' && ['buddies', 'clinic-group', 'community', 'peer-learning-group'].includes(v)

/** A plausible email address (the same check as a form field, not a delivery guarantee). */
export const isEmail = (v: string) => /^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(v) && v.length <= 254

/** UK phone numbers as people type them: digits, spaces, brackets, a leading +. */
export const isPhone = (v: string) => /^\+?[0-9 ()-]{7,20}$/.test(v)
