import { importFile } from '../imports/import-file.ts'
import { importers } from '../imports/importers.ts'
import { organisation, person, systemPrincipal } from '../test-support/fixtures.ts'
import type { Services } from '../services.ts'

// Data for the escalation tests: two lead providers with different sign-off rules and participants
// with no evidence at all, so each is escalated for `started` from the day after its review date.
// - EDT (joint sign-off), NPQLT 2022-autumn, `started` review date 2022-11-24:
//   Ana and Ben at North Star (lead Lee), Cy at South Hub (lead Sam); EDT admin Ada.
// - Ambition (the partner signs off), NPQLL 2023-autumn, `started` review date 2023-11-24:
//   Dot at Southern Lights (lead Sol); Ambition admin Amy.

export const ids = {
  ana: '00000000-0000-4000-8000-0000000e5c01',
  ben: '00000000-0000-4000-8000-0000000e5c02',
  cy: '00000000-0000-4000-8000-0000000e5c03',
  dot: '00000000-0000-4000-8000-0000000e5c04',
}

export const password = 'a long test password'

export const emails = {
  lee: 'lee@north-star.test',
  sam: 'sam@south-hub.test',
  sol: 'sol@southern-lights.test',
  ada: 'ada@edt.test',
  amy: 'amy@ambition.test',
}

export type EscalationWorld = {
  edt: string
  ambition: string
  northStar: string
  southHub: string
  southernLights: string
  /** Runs an import file (rows without the trailing newline). */
  run(kind: string, rows: string[]): Promise<unknown>
}

export async function escalationWorld(services: Services): Promise<EscalationWorld> {
  const run = (kind: string, rows: string[]) => importFile(services, importers[kind]!, rows.join('\n') + '\n', systemPrincipal)
  const edt = await organisation(services.db, 'lead-provider', 'edt', 'Education Development Trust')
  const ambition = await organisation(services.db, 'lead-provider', 'ambition', 'Ambition Institute')
  await run('delivery-partners', ['delivery_partner_id,name,lead_provider', 'north-star,North Star TSH,edt', 'south-hub,South Hub,edt'])
  await run('delivery-partners', ['delivery_partner_id,name,lead_provider', 'southern-lights,Southern Lights MAT,ambition'])
  const header =
    'participant_id,full_name,email,trn,lead_provider,delivery_partner,course_identifier,cohort,school_urn,school_contract_signed,sponsorship_agreement_signed'
  const row = (id: string, name: string, trn: string, lp: string, dp: string, course: string, cohort: string) =>
    `${id},${name},${name.toLowerCase().replace(' ', '.')}@school.test,${trn},${lp},${dp},${course},${cohort},100001,yes,yes`
  await run('participants', [
    header,
    row(ids.ana, 'Ana Lee', '3000001', 'edt', 'north-star', 'npq-leading-teaching', '2022-autumn'),
    row(ids.ben, 'Ben Cole', '3000002', 'edt', 'north-star', 'npq-leading-teaching', '2022-autumn'),
    row(ids.cy, 'Cy Dunn', '3000003', 'edt', 'south-hub', 'npq-leading-teaching', '2022-autumn'),
  ])
  await run('participants', [
    header,
    row(ids.dot, 'Dot Ray', '3000004', 'ambition', 'southern-lights', 'npq-leading-literacy', '2023-autumn'),
  ])
  // The import dates contracts on its own day; outputs are evaluated from 2022, so date them before.
  await services.db
    .updateTable('enrolments')
    .set({ school_contract_signed_on: '2022-09-01', sponsorship_agreement_signed_on: '2022-09-01' })
    .execute()

  const org = async (code: string) =>
    (
      await services.db
        .selectFrom('organisations')
        .select('id')
        .where('kind', '=', 'delivery-partner')
        .where('code', '=', code)
        .executeTakeFirstOrThrow()
    ).id
  const northStar = await org('north-star')
  const southHub = await org('south-hub')
  const southernLights = await org('southern-lights')
  await person(services, emails.lee, 'delivery-partner-lead', northStar, password)
  await person(services, emails.sam, 'delivery-partner-lead', southHub, password)
  await person(services, emails.sol, 'delivery-partner-lead', southernLights, password)
  await person(services, emails.ada, 'lead-provider-admin', edt, password)
  await person(services, emails.amy, 'lead-provider-admin', ambition, password)
  return { edt, ambition, northStar, southHub, southernLights, run }
}

/** The escalation case of a participant's `started` output. */
export async function caseOf(services: Services, participantId: string) {
  return services.db
    .selectFrom('escalation_cases')
    .selectAll()
    .where('participant_id', '=', participantId)
    .where('declaration_type', '=', 'started')
    .executeTakeFirstOrThrow()
}
