import type { Principal } from '../policy/principal.ts'
import { roleLabels, roleSlug, type Role } from '../policy/roles.ts'

export type NavItem = { href: string; text: string; active?: boolean }

/** One page in a role's area: its path under the role's home, and what it is for (shown on a group's landing page). */
export type SectionPage = {
  path: string
  text: string
  description: string
  /** Further paths that belong to this page (pages it links to that are not in the navigation themselves). */
  also?: string[]
}
/** A group of pages: one item in the top navigation, with its own landing page listing the pages. */
export type SectionGroup = { path: string; text: string; description: string; pages: SectionPage[] }
type Section = SectionPage | SectionGroup

const isGroup = (section: Section): section is SectionGroup => 'pages' in section

/**
 * The sections each role works in (later capabilities add theirs here). A role's top navigation has
 * at most 6 items including Home (participants 8 and lead-provider admins 7, who work across more
 * areas): related pages are grouped, and a group has a landing page at its path.
 */
export const sections: Record<Role, Section[]> = {
  participant: [
    { path: '/learn', text: 'Learn', description: 'Your course content, block by block as it goes live, with what you have completed.' },
    {
      path: '/progress',
      text: 'Progress',
      description: 'Your engagement against the 90% needed for the assessment, block by block, and the milestones you have reached.',
    },
    { path: '/events', text: 'Events', description: 'Events you are booked on or can book.' },
    { path: '/meetings', text: 'Meetings', description: 'Your line manager or mentor meetings: schedule them, write and sign the logs.' },
    {
      path: '/assessment',
      text: 'Assessment',
      description: 'Your summative assessment: the window, the case study, your response and results.',
    },
    {
      path: '/programme',
      text: 'My programme',
      description: 'Your courses with their timeline, deferring or withdrawing, your project, learning audit, journal, surveys and news.',
      pages: [
        {
          path: '/enrolments',
          text: 'Your courses',
          description: 'Each course’s status and timeline, and asking to defer or withdraw.',
        },
        { path: '/project', text: 'Project', description: 'Your implementation project, stage by stage, and your final report.' },
        {
          path: '/learning-audit',
          text: 'Learning audit',
          description: 'Rate yourself against the course’s domains, and see how you have moved.',
        },
        { path: '/journal', text: 'Journal', description: 'Your private learning journal: only you can read it.' },
        { path: '/surveys', text: 'Surveys', description: 'Surveys about events and blocks for you to answer.' },
        { path: '/news', text: 'News', description: 'Programme news from your lead provider and delivery partner.' },
      ],
    },
    {
      path: '/community',
      text: 'People',
      description: 'Your buddies and groups, who to contact for help, discussion forums, and raising a safeguarding concern.',
      pages: [
        {
          path: '/people',
          text: 'People and contacts',
          description: 'Your buddies, clinic and peer groups, your delivery partner contact and where to get help.',
          also: ['/safeguarding'],
        },
        { path: '/forums', text: 'Forums', description: 'Discussion forums for your group and your course.' },
      ],
    },
  ],
  'line-manager': [],
  facilitator: [
    { path: '/events', text: 'Events', description: 'Your events and their registers.' },
    {
      path: '/tasks',
      text: 'Tasks',
      description: 'Formative assessment tasks your groups’ participants have submitted, for your feedback.',
    },
    { path: '/forums', text: 'Forums', description: 'Discussion forums of your groups and their courses: read, post and moderate.' },
  ],
  'delivery-partner-lead': [
    { path: '/events', text: 'Events', description: 'Schedule and manage your events.' },
    {
      path: '/participants',
      text: 'Participants',
      description: 'Your groups and people, and participants who need your attention: escalations, deferrals and withdrawals.',
      pages: [
        { path: '/groups', text: 'Groups', description: 'Your groups for each course and cohort: facilitators and who is in each.' },
        {
          path: '/people',
          text: 'Buddies and peer groups',
          description: 'Buddies, clinic groups, communities and peer learning groups of your participants, and their named contact.',
        },
        { path: '/projects', text: 'Projects', description: 'Your participants’ implementation projects and final reports (read only).' },
        {
          path: '/meetings',
          text: 'Meeting logs',
          description: 'Signed line manager or mentor meeting logs, and each participant’s progress.',
        },
        {
          path: '/escalations',
          text: 'Escalations',
          description: 'Participants who did not meet an output by its review date, and how you are supporting them.',
          also: ['/partnership-pack'],
        },
        {
          path: '/lifecycle',
          text: 'Deferrals and withdrawals',
          description: 'Record conversations about deferring or withdrawing, and ask on a participant’s behalf.',
        },
      ],
    },
    {
      path: '/learning',
      text: 'Learning',
      description: 'Your local context beside the lead provider’s content, formative tasks, forums, survey results and programme news.',
      pages: [
        {
          path: '/content',
          text: 'Local context',
          description: 'Your notes and local examples for each block, shown to your participants beside the lead provider’s content.',
        },
        { path: '/forums', text: 'Forums', description: 'Your groups’ discussion forums: read, post and moderate.' },
        { path: '/surveys', text: 'Surveys', description: 'Survey results from your own participants, without names.' },
        { path: '/news', text: 'News', description: 'Programme news for your participants’ Home.' },
      ],
    },
    {
      path: '/reporting',
      text: 'Reports',
      description: 'Your dashboard, progress reports and money.',
      pages: [
        {
          path: '/dashboard',
          text: 'Dashboard',
          description: 'Your cohorts at a glance: status, engagement, who is at risk, and events needing registers.',
        },
        {
          path: '/reports',
          text: 'Progress reports',
          description: 'How your participants are progressing: engagement, attendance and outputs.',
        },
        { path: '/money', text: 'Money', description: 'What you can invoice your lead provider, and what has been paid.' },
      ],
    },
    {
      path: '/team',
      text: 'Team',
      description: 'The people in your organisation who use the platform, and your facilitators’ records.',
      pages: [
        { path: '/users', text: 'Users', description: 'The people in your organisation who use the platform, and inviting someone.' },
        {
          path: '/facilitators',
          text: 'Facilitators',
          description: 'Who runs what, and quality-assurance observations of your facilitators.',
        },
      ],
    },
  ],
  'lead-provider-admin': [
    {
      path: '/participants',
      text: 'Participants',
      description: 'Participants from application to their course: applications, onboarding, deferrals, withdrawals and escalations.',
      pages: [
        { path: '/applications', text: 'Applications', description: 'Applications from DfE or your uploads: review and decide them.' },
        {
          path: '/onboarding',
          text: 'Onboarding',
          description: 'Accepted places not yet active: school agreements to sign and participant accounts to create.',
        },
        {
          path: '/lifecycle',
          text: 'Deferrals and withdrawals',
          description: 'Requests to defer or withdraw from a course, for you to approve or decline.',
        },
        { path: '/groups', text: 'Groups', description: 'Your delivery partners’ groups of participants, with their facilitators.' },
        { path: '/projects', text: 'Projects', description: 'Participants’ implementation projects and final reports (read only).' },
        {
          path: '/meetings',
          text: 'Meeting logs',
          description: 'Line manager or mentor meetings and signed logs, where your design asks for them (read only).',
        },
        {
          path: '/escalations',
          text: 'Escalations',
          description: 'Participants who did not meet an output by its review date, and what is being done about it.',
          also: ['/partnership-pack'],
        },
      ],
    },
    {
      path: '/delivery',
      text: 'Delivery',
      description: 'Running the programme: the dashboard, events, reports on progress, and uploads of delivery data.',
      pages: [
        {
          path: '/dashboard',
          text: 'Dashboard',
          description:
            'All your delivery partners at a glance: engagement, who is at risk, outputs due, declarations, money and a comparison.',
        },
        { path: '/events', text: 'Events', description: 'Schedule and manage central events and see who is booked.' },
        { path: '/reports', text: 'Reports', description: 'Progress, attendance and outputs across your delivery partners.' },
        {
          path: '/imports',
          text: 'Imports',
          description: 'Upload CSV files of delivery partners, participants, events, registers, learning activity or meeting logs.',
        },
      ],
    },
    {
      path: '/learning',
      text: 'Learning',
      description: 'Block content, discussion forums, surveys, programme news and the contacts participants see.',
      pages: [
        {
          path: '/content',
          text: 'Content',
          description: 'Author each block’s content, quizzes and tasks, and publish them on go-live dates.',
        },
        {
          path: '/forums',
          text: 'Forums',
          description: 'A discussion forum for each of your courses: moderate, and count participation as evidence.',
        },
        { path: '/surveys', text: 'Surveys', description: 'Author event, end-of-block and end-of-programme surveys, and see the results.' },
        { path: '/news', text: 'News', description: 'Programme news for your participants’ Home.' },
        {
          path: '/contacts',
          text: 'Contacts',
          description: 'Your programme and technical help contacts, and the designated safeguarding lead participants can reach.',
        },
      ],
    },
    {
      path: '/assessments',
      text: 'Assessment',
      description: 'The summative assessment: windows and case studies, entries and attempts, marking, moderation and results.',
      pages: [
        {
          path: '/assessment',
          text: 'Windows and entries',
          description: 'Assessment windows with their case studies, who is entered, next attempts and extenuating circumstances.',
        },
        {
          path: '/assessment/marking',
          text: 'Marking and results',
          description: 'Allocate scripts to assessors, follow marking and moderation, record external moderation and release results.',
        },
      ],
    },
    {
      path: '/finance',
      text: 'Finance',
      description: 'Declaring outputs, what delivery partners can invoice, and what is sent to DfE.',
      pages: [
        { path: '/declarations', text: 'Declarations', description: 'Declare eligible outputs and see the declarations already made.' },
        {
          path: '/money',
          text: 'Money',
          description:
            'What each delivery partner can invoice now and over the next 12 months, what has been paid, and prices per teacher.',
        },
        {
          path: '/dfe-sync',
          text: 'DfE sync',
          description: 'Declarations, deferrals, withdrawals and outcomes sent to DfE, and any still waiting.',
        },
      ],
    },
    {
      path: '/settings',
      text: 'Settings',
      description: 'Your programme catalogue, the people who use the platform, and access for your own systems.',
      pages: [
        { path: '/catalogue', text: 'Catalogue', description: 'Your programme designs course by course, with cohorts and schedules.' },
        { path: '/users', text: 'Users', description: 'The people in your organisation who use the platform, and inviting someone.' },
        { path: '/api-tokens', text: 'API tokens', description: 'Tokens that let your own systems use the platform’s API.' },
        {
          path: '/privacy',
          text: 'Data protection',
          description: 'Download everything held about a participant or applicant (a subject access request), and when it is erased.',
        },
      ],
    },
  ],
  assessor: [{ path: '/scripts', text: 'Scripts to mark', description: 'The scripts allocated to you, anonymously.' }],
  moderator: [{ path: '/scripts', text: 'Moderation', description: 'Scripts sampled for internal moderation, anonymously.' }],
  'school-contact': [],
}

/** Whether a path is the page at `href` or below it (`/x/events` covers `/x/events/1`, not `/x/events-old`). */
const within = (path: string, href: string) => path === href || path.startsWith(`${href}/`)
const pathOf = (url: string) => url.split(/[?#]/)[0]!
const pageActive = (path: string, base: string, page: SectionPage) => [page.path, ...(page.also ?? [])].some((p) => within(path, base + p))
const groupActive = (path: string, base: string, group: SectionGroup) =>
  within(path, base + group.path) || group.pages.some((page) => pageActive(path, base, page))

function heldRoles(principal: Principal | null): Role[] {
  if (!principal || principal.kind !== 'user') return []
  return [...new Set(principal.roles.map((r) => r.role))]
}

/** The group's page the path is on: the longest matching one (`/assessment/marking` over `/assessment`). */
function mostSpecific(path: string, base: string, group: SectionGroup): SectionPage | undefined {
  const matching = group.pages.filter((page) => pageActive(path, base, page))
  return matching.sort((a, b) => b.path.length - a.path.length)[0]
}

/** Service navigation for the roles a person holds; several roles each get their own home link. */
export function navigationFor(principal: Principal | null, url: string): NavItem[] {
  const held = heldRoles(principal)
  const currentPath = pathOf(url)
  const items: NavItem[] = []
  for (const role of held) {
    const base = `/${roleSlug[role]}`
    items.push({ href: base, text: held.length > 1 ? roleLabels[role] : 'Home', active: currentPath === base })
    for (const section of sections[role]) {
      const active = isGroup(section) ? groupActive(currentPath, base, section) : pageActive(currentPath, base, section)
      items.push({ href: base + section.path, text: section.text, active })
    }
  }
  return items
}

/** The secondary navigation on a page inside a group: the group's pages, or null outside any group (and on its landing page, which lists them). */
export function subNavigationFor(principal: Principal | null, url: string): { label: string; items: NavItem[] } | null {
  const currentPath = pathOf(url)
  for (const role of heldRoles(principal)) {
    const base = `/${roleSlug[role]}`
    for (const group of sections[role].filter(isGroup)) {
      if (currentPath === base + group.path || !groupActive(currentPath, base, group)) continue
      return {
        label: group.text,
        items: group.pages.map((page) => ({
          href: base + page.path,
          text: page.text,
          active: page === mostSpecific(currentPath, base, group),
        })),
      }
    }
  }
  return null
}

/** Every group of every role, with its landing page's path (for the landing pages' routes). */
export function sectionGroups(): { role: Role; base: string; group: SectionGroup }[] {
  return (Object.entries(sections) as [Role, Section[]][]).flatMap(([role, list]) =>
    list.filter(isGroup).map((group) => ({ role, base: `/${roleSlug[role]}`, group })),
  )
}

export function homePathOf(principal: Principal): string | null {
  if (principal.kind !== 'user' || principal.roles.length === 0) return null
  return `/${roleSlug[principal.roles[0]!.role]}`
}
