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

test('a lead-provider admin sees Home and five groups, each with a landing page', () => {
  assert.deepEqual(
    navigationFor(admin, '/lead-provider').map(({ href, text }) => ({ href, text })),
    [
      { href: '/lead-provider', text: 'Home' },
      { href: '/lead-provider/participants', text: 'Participants' },
      { href: '/lead-provider/delivery', text: 'Delivery' },
      { href: '/lead-provider/assessments', text: 'Assessment' },
      { href: '/lead-provider/finance', text: 'Finance' },
      { href: '/lead-provider/settings', text: 'Settings' },
    ],
  )
})

test('a delivery-partner lead sees six items, deferrals and escalations grouped under Participants', () => {
  assert.deepEqual(texts(lead), ['Home', 'Events', 'Reports', 'Money', 'Participants', 'Team'])
})

test('no single role has more than six items in the top navigation', () => {
  for (const role of roles) assert.ok(texts(person(role)).length <= 6, role)
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

test('ungrouped pages are active themselves', () => {
  assert.deepEqual(
    activeOf(lead, '/delivery-partner/money/line?x=1').map((i) => i.text),
    ['Money'],
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
  assert.equal(subNavigationFor(lead, '/delivery-partner/money'), null)
  assert.equal(subNavigationFor(lead, '/lead-provider/applications'), null)
  assert.equal(subNavigationFor(null, '/lead-provider/applications'), null)
})

test('several roles each keep their own home and items', () => {
  const both = person('participant', 'lead-provider-admin')
  assert.deepEqual(texts(both), [
    'Participant',
    'Events',
    'Your courses',
    'Meetings',
    'Project',
    'Assessment',
    'Lead provider admin',
    'Participants',
    'Delivery',
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
    '/delivery-partner/participants',
    '/lead-provider/participants',
    '/lead-provider/delivery',
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
