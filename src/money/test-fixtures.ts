import { formatProblem } from '../imports/csv.ts'
import { ImportError, importFile } from '../imports/import-file.ts'
import { importers } from '../imports/importers.ts'
import type { DeclarationState } from '../db/schema.ts'
import type { Services } from '../services.ts'
import { organisation, systemPrincipal } from '../test-support/fixtures.ts'

// EDT's NPQLT cohort 3 (2022-autumn: started review 24 Nov 2022, invoice 16 Dec 2022; retained-1
// invoice 22 Jul 2023; completed invoice 22 Mar 2024) at two delivery partners, with declarations
// in the states the money pages deal with (DfE's states set directly, as its responses would):
// - ada (north): started, eligible — can be invoiced;
// - ben (north): started, paid 20 Jan 2023;
// - cal (north): started, paid 20 Jan 2023 then voided: clawback raised 1 Feb 2023, not yet clawed back
//   (no evidence of his own: the declaration was wrong);
// - dee (east):  started, payable — can be invoiced by East;
// - eve (north): started, submitted — not validated yet;
// - fay (north): enrolled, nothing yet;
// - gus (north): started, paid 20 Jan 2023, withdrawn 15 Feb 2023.
// Everyone but cal and fay has a Block 1 diagnostic on 10 Nov 2022 (self-study evidence for started).

export const ids = {
  ada: '00000000-0000-4000-8000-0000000b0001',
  ben: '00000000-0000-4000-8000-0000000b0002',
  cal: '00000000-0000-4000-8000-0000000b0003',
  dee: '00000000-0000-4000-8000-0000000b0004',
  eve: '00000000-0000-4000-8000-0000000b0005',
  fay: '00000000-0000-4000-8000-0000000b0006',
  gus: '00000000-0000-4000-8000-0000000b0007',
}
export const names = {
  ada: 'Ada Lovelace',
  ben: 'Ben Okri',
  cal: 'Cal Ripken',
  dee: 'Dee Snider',
  eve: 'Eve Arden',
  fay: 'Fay Weldon',
  gus: 'Gus Grissom',
}
type Who = keyof typeof ids

export async function loadMoneyCohort(services: Services): Promise<{ leadProviderId: string; north: string; east: string }> {
  const { db } = services
  const run = (kind: string, rows: string[]) =>
    importFile(services, importers[kind]!, rows.join('\n') + '\n', systemPrincipal).catch((error: unknown) => {
      throw error instanceof ImportError ? new Error(`${kind}: ${error.problems.map((p) => formatProblem(kind, p)).join('; ')}`) : error
    })
  const leadProviderId = await organisation(db, 'lead-provider', 'edt', 'Education Development Trust')
  await run('delivery-partners', ['delivery_partner_id,name,lead_provider', 'north,North Hub,edt', 'east,East Hub,edt'])
  const partnerOf = (who: Who) => (who === 'dee' ? 'east' : 'north')
  const whoAll = Object.keys(ids) as Who[]
  await run('participants', [
    'participant_id,full_name,email,trn,lead_provider,delivery_partner,course_identifier,cohort,school_urn,school_contract_signed,sponsorship_agreement_signed',
    ...whoAll.map(
      (who, i) =>
        `${ids[who]},${names[who]},${who}@school.test,${2000001 + i},edt,${partnerOf(who)},npq-leading-teaching,2022-autumn,100001,yes,yes`,
    ),
  ])
  // The import dates contracts on its own day; the outputs here are evaluated in 2023.
  await db
    .updateTable('enrolments')
    .set({ school_contract_signed_on: '2022-09-01', sponsorship_agreement_signed_on: '2022-09-01' })
    .where('participant_id', 'in', Object.values(ids))
    .execute()
  await run('activity', [
    'participant_id,activity_code,occurred_at,source',
    ...whoAll.filter((w) => w !== 'cal' && w !== 'fay').map((who) => `${ids[who]},NPQLT-B1-DIAGNOSTIC,2022-11-10T10:00:00Z,automatic`),
  ])
  await run('withdrawals', ['participant_id,reason,withdrawn_on', `${ids.gus},personal-reason-other,2023-02-15`])

  const orgs = await db.selectFrom('organisations').select(['id', 'code']).where('kind', '=', 'delivery-partner').execute()
  const north = orgs.find((o) => o.code === 'north')!.id
  const east = orgs.find((o) => o.code === 'east')!.id

  const declare = async (who: Who, state: DeclarationState, history: [DeclarationState, string][]) => {
    const enrolment = await db
      .selectFrom('enrolments')
      .select(['id', 'delivery_partner_id'])
      .where('participant_id', '=', ids[who])
      .executeTakeFirstOrThrow()
    const row = await db
      .insertInto('declarations')
      .values({
        enrolment_id: enrolment.id,
        participant_id: ids[who],
        lead_provider_id: leadProviderId,
        delivery_partner_id: enrolment.delivery_partner_id,
        course_identifier: 'npq-leading-teaching',
        cohort: '2022-autumn',
        declaration_type: 'started',
        declaration_date: '2022-11-10',
        state,
        evidence: JSON.stringify({ criterion: 'self-study-credit', on: '2022-11-10' }),
        engagement: JSON.stringify({}),
        idempotency_key: `money-test-${who}-started`,
      })
      .returning('id')
      .executeTakeFirstOrThrow()
    let from: DeclarationState | null = null
    for (const [to, at] of [['submitted', '2022-11-25T09:00:00Z'] as [DeclarationState, string], ...history]) {
      await db
        .insertInto('declaration_state_changes')
        .values({ declaration_id: row.id, from_state: from, to_state: to, source: from ? 'dfe' : 'platform', changed_at: at })
        .execute()
      from = to
    }
    return row.id
  }
  const paid: [DeclarationState, string][] = [
    ['eligible', '2022-12-01T09:00:00Z'],
    ['payable', '2022-12-20T09:00:00Z'],
    ['paid', '2023-01-20T09:00:00Z'],
  ]
  await declare('ada', 'eligible', [['eligible', '2022-12-01T09:00:00Z']])
  await declare('ben', 'paid', paid)
  const cal = await declare('cal', 'awaiting-clawback', [...paid, ['awaiting-clawback', '2023-02-01T09:00:00Z']])
  await db.insertInto('clawbacks').values({ declaration_id: cal, raised_on: '2023-02-01' }).execute()
  await declare('dee', 'payable', paid.slice(0, 2))
  await declare('eve', 'submitted', [])
  await declare('gus', 'paid', paid)
  return { leadProviderId, north, east }
}
