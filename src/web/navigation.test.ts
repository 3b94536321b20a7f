import assert from 'node:assert/strict'
import { test } from 'node:test'
import type { Principal } from '../policy/principal.ts'
import { roles, type Role } from '../policy/roles.ts'
import { homePathOf, navigationFor, sectionGroups, subNavigationFor } from './navigation.ts'

function person(...held: Role[]): Principal {
  const assignments = held.map((role) => ({
    role,
    organisationId: `org-${role}`,
    organisationCode: role,
    organisationName: role,
    leadProviderIds: [],
  }))
  return { kind: 'user', userId: 'u-1', email: 'u@example.test', fullName: 'U', roles: assignments }
}

const admin = person('lead-provider-admin')
const lead = person('delivery-partner-lead')
const texts = (principal: Principal, url = '/') => navigationFor(principal, url).map((i) => i.text)
const activeOf = (principal: Principal, url: string) => navigationFor(principal, url).filter((i) => i.active)

test('a lead-provider admin sees Home and six groups, each with a landing page', () => {
  assert.deepEqual(
    navigationFor(admin, '/lead-provider').map(({ href, text }) => ({ href, text })),
    [
      { href: '/lead-provider', text: 'Home' },
      { href: '/lead-provider/participants', text: 'Participants' },
      { href: '/lead-provider/delivery', text: 'Delivery' },
      { href: '/lead-provider/learning', text: 'Learning' },
      { href: '/lead-provider/assessments', text: 'Assessment' },
      { href: '/lead-provider/finance', text: 'Finance' },
      { href: '/lead-provider/settings', text: 'Settings' },
    ],
  )
})

test('a delivery-partner lead sees six items, deferrals and escalations grouped under Participants', () => {
  assert.deepEqual(texts(lead), ['Home', 'Events', 'Participants', 'Learning', 'Reports', 'Team'])
})

test('a participant sees the platform’s zones', () => {
  assert.deepEqual(texts(person('participant')), [
    'Home',
    'Learn',
    'Progress',
    'Events',
    'Meetings',
    'Assessment',
    'My programme',
    'People',
  ])
  assert.deepEqual(
    activeOf(person('participant'), '/participant/enrolments/abc/project').map((i) => i.text),
    ['My programme'],
  )
})

test('top navigations stay short: six items at most, seven for lead-provider admins and eight for participants (their zones)', () => {
  // Participants have the platform's zones (Home, Learn, Progress, Events, Meetings, Assessment, My programme, People);
  // lead-provider admins seven areas of work.
  const most: Partial<Record<Role, number>> = { participant: 8, 'lead-provider-admin': 7 }
  for (const role of roles) assert.ok(texts(person(role)).length <= (most[role] ?? 6), role)
})

test('a group is active on its landing page and on any of its pages, and nothing else is', () => {
  const cases: [string, string][] = [
    ['/lead-provider', 'Home'],
    ['/lead-provider/participants', 'Participants'],
    ['/lead-provider/applications', 'Participants'],
    ['/lead-provider/applications/123?status=new', 'Participants'],
    ['/lead-provider/onboarding', 'Participants'],
    ['/lead-provider/lifecycle/enrolments/abc', 'Participants'],
    ['/lead-provider/escalations', 'Participants'],
    ['/lead-provider/partnership-pack', 'Participants'],
    ['/lead-provider/events/new', 'Delivery'],
    ['/lead-provider/reports', 'Delivery'],
    ['/lead-provider/imports', 'Delivery'],
    ['/lead-provider/dashboard', 'Delivery'],
    ['/lead-provider/content/npq-headship', 'Learning'],
    ['/lead-provider/news/new', 'Learning'],
    ['/lead-provider/meetings', 'Participants'],
    ['/lead-provider/assessment/windows/1', 'Assessment'],
    ['/lead-provider/assessment/marking', 'Assessment'],
    ['/lead-provider/declarations/made', 'Finance'],
    ['/lead-provider/money/prices', 'Finance'],
    ['/lead-provider/dfe-sync', 'Finance'],
    ['/lead-provider/catalogue/cohorts', 'Settings'],
    ['/lead-provider/users/invite', 'Settings'],
    ['/lead-provider/api-tokens', 'Settings'],
  ]
  for (const [url, group] of cases) {
    assert.deepEqual(
      activeOf(admin, url).map((i) => i.text),
      [group],
      url,
    )
  }
  assert.deepEqual(activeOf(admin, '/lead-provider/events-archive'), [], 'a path merely starting with a page’s path')
  assert.deepEqual(activeOf(admin, '/account/calendar'), [])
})

test('ungrouped pages are active themselves; grouped pages make their group active', () => {
  assert.deepEqual(
    activeOf(lead, '/delivery-partner/events/1').map((i) => i.text),
    ['Events'],
  )
  assert.deepEqual(
    activeOf(lead, '/delivery-partner/money/line?x=1').map((i) => i.text),
    ['Reports'],
  )
  assert.deepEqual(
    activeOf(lead, '/delivery-partner/lifecycle').map((i) => i.text),
    ['Participants'],
  )
})

test('a page inside a group has the group’s pages as its sub-navigation, the current one active', () => {
  const sub = subNavigationFor(admin, '/lead-provider/money/line?cohort=2022')
  assert.deepEqual(sub, {
    label: 'Finance',
    items: [
      { href: '/lead-provider/declarations', text: 'Declarations', active: false },
      { href: '/lead-provider/money', text: 'Money', active: true },
      { href: '/lead-provider/dfe-sync', text: 'DfE sync', active: false },
    ],
  })
  assert.deepEqual(
    subNavigationFor(lead, '/delivery-partner/partnership-pack')?.items.map((i) => [i.text, i.active]),
    [
      ['Groups', false],
      ['Buddies and peer groups', false],
      ['Projects', false],
      ['Meeting logs', false],
      ['Escalations', true],
      ['Deferrals and withdrawals', false],
    ],
  )
  // The most specific page is the current one.
  assert.deepEqual(
    subNavigationFor(admin, '/lead-provider/assessment/marking')?.items.map((i) => [i.text, i.active]),
    [
      ['Windows and entries', false],
      ['Marking and results', true],
    ],
  )
})

test('no sub-navigation on a group’s landing page (it lists the pages), outside groups, or for someone without the role', () => {
  assert.equal(subNavigationFor(admin, '/lead-provider/participants'), null)
  assert.equal(subNavigationFor(admin, '/lead-provider'), null)
  assert.equal(subNavigationFor(lead, '/delivery-partner/events'), null)
  assert.equal(subNavigationFor(lead, '/lead-provider/applications'), null)
  assert.equal(subNavigationFor(null, '/lead-provider/applications'), null)
})

test('several roles each keep their own home and items', () => {
  const both = person('participant', 'lead-provider-admin')
  assert.deepEqual(texts(both), [
    'Participant',
    'Learn',
    'Progress',
    'Events',
    'Meetings',
    'Assessment',
    'My programme',
    'People',
    'Lead provider admin',
    'Participants',
    'Delivery',
    'Learning',
    'Assessment',
    'Finance',
    'Settings',
  ])
  assert.equal(subNavigationFor(both, '/lead-provider/imports')?.label, 'Delivery')
  assert.equal(homePathOf(both), '/participant')
})

test('nobody signed in, or an API client, has no navigation', () => {
  assert.deepEqual(navigationFor(null, '/'), [])
  assert.deepEqual(navigationFor({ kind: 'api-client', tokenId: 't', tokenName: 't', leadProviderId: 'lp' }, '/'), [])
  assert.equal(homePathOf(person()), null)
})

test('every group has a landing page of its own, and every page a description', () => {
  const landings = sectionGroups().map(({ base, group }) => base + group.path)
  assert.deepEqual(landings, [
    '/participant/programme',
    '/participant/community',
    '/delivery-partner/participants',
    '/delivery-partner/learning',
    '/delivery-partner/reporting',
    '/delivery-partner/team',
    '/lead-provider/participants',
    '/lead-provider/delivery',
    '/lead-provider/learning',
    '/lead-provider/assessments',
    '/lead-provider/finance',
    '/lead-provider/settings',
  ])
  for (const { base, group } of sectionGroups()) {
    for (const page of group.pages) {
      assert.ok(page.description.length > 10, page.text)
      assert.notEqual(base + page.path, base + group.path)
    }
  }
})
