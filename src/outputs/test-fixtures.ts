import { formatProblem } from '../imports/csv.ts'
import { ImportError, importFile } from '../imports/import-file.ts'
import { importers } from '../imports/importers.ts'
import { organisation, systemPrincipal } from '../test-support/fixtures.ts'
import type { Services } from '../services.ts'

// An EDT NPQLT cohort (2022-autumn; outputs started 2022-11-24, retained-1 2023-06-22, completed
// 2024-02-22; 199 credits) whose participants each show one path through output evaluation:
// - ana: F2F attended 2022-11-10 and new credits on 2023-01-10 → started and retained-1 on time;
// - ben: only the Block 1 video watched to 95% → started by video-90, nothing since (escalated);
// - cy:  school contract unsigned and no evidence;
// - dee: withdrawn 2022-11-01, attended F2F on 2022-11-10 (after: it never counts);
// - eve: everything, 90% reached 2023-10-11, assessment passed and externally moderated 2024-01-15.

export const ids = {
  ana: '00000000-0000-4000-8000-00000000a001',
  ben: '00000000-0000-4000-8000-00000000a002',
  cy: '00000000-0000-4000-8000-00000000a003',
  dee: '00000000-0000-4000-8000-00000000a004',
  eve: '00000000-0000-4000-8000-00000000a005',
}

const activityCodes = (block: number, keys: string[]) => keys.map((k) => `NPQLT-B${block}-${k}`)
/** Everything of NPQLT that is evidenced by activity rows (not the training events). */
const selfStudy = [
  ...activityCodes(1, [
    'DIAGNOSTIC',
    'VIDEO',
    'S1.1a',
    'S1.1b',
    'S1.1c',
    'S1.1d',
    'S1.1e',
    'S1.1f',
    'MIT',
    'F2F-SURVEY',
    'LIVE-SURVEY',
    'SURVEY',
  ]),
  ...activityCodes(2, [
    'DIAGNOSTIC',
    'VIDEO',
    'S2.1a',
    'S2.1b',
    'S2.1c',
    'S2.1d',
    'S2.1e',
    'S2.1f',
    'S2.1g',
    'MIT',
    'LIVE-SURVEY',
    'REC-2.1',
    'REC-2.2',
    'SURVEY',
  ]),
  ...activityCodes(3, ['DIAGNOSTIC', 'VIDEO', 'S3.1a', 'S3.1b', 'S3.1c', 'MIT', 'LIVE-SURVEY', 'REC-3.1', 'SURVEY']),
  ...activityCodes(4, [
    'DIAGNOSTIC',
    'VIDEO',
    'S4.1a',
    'S4.1b',
    'S4.1c',
    'S4.1d',
    'S4.1e',
    'S4.1f',
    'S4.1g',
    'MIT',
    'REC-4.1',
    'REC-4.2',
    'REC-4.3',
    'REC-4.4',
    'SURVEY',
  ]),
  ...activityCodes(5, [
    'DIAGNOSTIC',
    'VIDEO',
    'S5.1a',
    'S5.1b',
    'S5.1c',
    'S5.1d',
    'S5.1e',
    'S5.1f',
    'MIT',
    'F2F-SURVEY',
    'LIVE-SURVEY',
    'SURVEY',
  ]),
]
const events: [string, string, string][] = [
  ['ev-b1-f2f', 'NPQLT-B1-F2F', '2022-11-10'],
  ['ev-b1-live', 'NPQLT-B1-LIVE', '2022-12-01'],
  ['ev-b2-live', 'NPQLT-B2-LIVE', '2023-02-01'],
  ['ev-b3-live', 'NPQLT-B3-LIVE', '2023-05-03'],
  ['ev-b5-f2f', 'NPQLT-B5-F2F', '2023-10-11'],
  ['ev-b5-live', 'NPQLT-B5-LIVE', '2023-12-12'],
]

export async function loadOutputsCohort(services: Services): Promise<void> {
  const run = (kind: string, rows: string[]) =>
    importFile(services, importers[kind]!, rows.join('\n') + '\n', systemPrincipal).catch((error: unknown) => {
      throw error instanceof ImportError ? new Error(`${kind}: ${error.problems.map((p) => formatProblem(kind, p)).join('; ')}`) : error
    })
  await organisation(services.db, 'lead-provider', 'edt', 'Education Development Trust')
  await run('delivery-partners', ['delivery_partner_id,name,lead_provider', 'north-star,North Star TSH,edt', 'south-hub,South Hub,edt'])
  const person = (id: string, name: string, dp: string, contract = 'yes') =>
    `${id},${name},${name.toLowerCase().replace(' ', '.')}@school.test,${1000000 + Number.parseInt(id.slice(-3), 16)},edt,${dp},npq-leading-teaching,2022-autumn,100001,${contract},yes`
  await run('participants', [
    'participant_id,full_name,email,trn,lead_provider,delivery_partner,course_identifier,cohort,school_urn,school_contract_signed,sponsorship_agreement_signed',
    person(ids.ana, 'Ana Lee', 'north-star'),
    person(ids.ben, 'Ben Cole', 'north-star'),
    person(ids.cy, 'Cy Dunn', 'north-star', 'no'),
    person(ids.dee, 'Dee Fox', 'south-hub'),
    person(ids.eve, 'Eve Gray', 'south-hub'),
  ])
  await run('events', [
    'event_id,lead_provider,delivery_partner,course_identifier,cohort,activity_code,kind,starts_at,ends_at,capacity',
    `ev-north-f2f,edt,north-star,npq-leading-teaching,2022-autumn,NPQLT-B1-F2F,f2f,2022-11-10T10:00:00Z,2022-11-10T16:00:00Z,100`,
    ...events.map(
      ([id, code, on]) =>
        `${id},edt,south-hub,npq-leading-teaching,2022-autumn,${code},${code.includes('F2F') ? 'f2f' : 'live-webinar'},${on}T10:00:00Z,${on}T12:00:00Z,100`,
    ),
  ])
  await run('attendance', [
    'event_id,participant_id,status,completed_at,note',
    `ev-north-f2f,${ids.ana},attended,,`,
    `ev-b1-f2f,${ids.dee},attended,,`,
    ...events.map(([id]) => `${id},${ids.eve},attended,,`),
  ])
  await run('activity', [
    'participant_id,activity_code,occurred_at,source,progress_percent',
    `${ids.ana},NPQLT-B1-DIAGNOSTIC,2022-10-05T09:00:00Z,automatic,`,
    `${ids.ana},NPQLT-B1-S1.1a,2023-01-10T09:00:00Z,automatic,`,
    `${ids.ben},NPQLT-B1-VIDEO,2022-10-20T09:00:00Z,automatic,95`,
    ...selfStudy.map((code) => `${ids.eve},${code},2023-09-20T09:00:00Z,automatic,`),
  ])
  await run('assessments', [
    'participant_id,attempt,submitted_at,word_count,result,marked_at,moderated_at,externally_moderated_at',
    `${ids.eve},1,2023-12-20T09:00:00Z,1480,passed,2024-01-05T09:00:00Z,2024-01-10T09:00:00Z,2024-01-15T09:00:00Z`,
  ])
  await run('withdrawals', ['participant_id,reason,withdrawn_on', `${ids.dee},personal-reason-moving-school,2022-11-01`])
}
