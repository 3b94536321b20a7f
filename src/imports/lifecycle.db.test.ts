import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import { formatProblem } from './csv.ts'
import { ImportError, importFile } from './import-file.ts'
import { importers } from './importers.ts'
import { organisation, systemPrincipal as by } from '../test-support/fixtures.ts'
import { createTestServices, type TestServices } from '../test-support/services.ts'

// The deferrals, withdrawals and assessments imports: whole file or nothing, the same file twice
// changes nothing, a change is an update with an audit entry, and every bad row is named.

let services: TestServices
const ana = '00000000-0000-4000-8000-0000000000e1'
const ben = '00000000-0000-4000-8000-0000000000e2'
const stranger = '00000000-0000-4000-8000-0000000000e9'

const run = (kind: string, text: string) => importFile(services, importers[kind]!, text, by)
async function problemsOf(kind: string, text: string): Promise<string[]> {
  try {
    await run(kind, text)
  } catch (error) {
    if (error instanceof ImportError) return error.problems.map((p) => formatProblem(`${kind}.csv`, p))
    throw error
  }
  throw new Error('expected the import to fail')
}
const count = async (table: 'deferrals' | 'withdrawals' | 'assessment_attempts') =>
  Number(
    (
      await services.db
        .selectFrom(table)
        .select((eb) => eb.fn.countAll().as('n'))
        .executeTakeFirstOrThrow()
    ).n,
  )

before(async () => {
  services = await createTestServices()
  await organisation(services.db, 'lead-provider', 'edt')
  await run('delivery-partners', 'delivery_partner_id,name,lead_provider\nnorth-star,North Star TSH,edt\n')
  const header =
    'participant_id,full_name,email,trn,lead_provider,delivery_partner,course_identifier,cohort,school_urn,school_contract_signed,sponsorship_agreement_signed'
  await run(
    'participants',
    [
      header,
      `${ana},Ana Lee,ana@school.test,1000001,edt,north-star,npq-headship,2022-autumn,100001,yes,yes`,
      `${ben},Ben Cole,ben@school.test,1000002,edt,north-star,npq-headship,2022-autumn,100001,yes,yes`,
    ].join('\n'),
  )
})
after(() => services.dispose())

test('deferrals: recorded, unchanged again, updated when the return date changes; overlaps and bad rows refused', async () => {
  const file = `participant_id,reason,deferred_on,planned_return_on\n${ana},parental-leave,2023-01-09,2023-09-04\n`
  assert.deepEqual(await run('deferrals', file), { kind: 'deferrals', rows: 1, created: 1, updated: 0, unchanged: 0 })
  assert.deepEqual(await run('deferrals', file), { kind: 'deferrals', rows: 1, created: 0, updated: 0, unchanged: 1 })
  assert.deepEqual(await run('deferrals', file.replace('2023-09-04', '2024-01-08')), {
    kind: 'deferrals',
    rows: 1,
    created: 0,
    updated: 1,
    unchanged: 0,
  })

  assert.deepEqual(
    await problemsOf(
      'deferrals',
      [
        'participant_id,reason,deferred_on,planned_return_on',
        `${ana},parental-leave,2023-06-01,2023-12-01`,
        `${ben},holiday,2023-01-09,`,
        `${ben},other,2023-03-01,2023-02-01`,
        `${stranger},other,2023-03-01,`,
      ].join('\n'),
    ),
    [
      'deferrals.csv:2:3 (deferred_on): overlaps the deferral from 2023-01-09',
      'deferrals.csv:3:2 (reason): must be one of bereavement, long-term-sickness, parental-leave, career-break, other',
      'deferrals.csv:4:4 (planned_return_on): must be after deferred_on',
      `deferrals.csv:5:1 (participant_id): unknown participant ${stranger}`,
    ],
  )
  assert.equal(await count('deferrals'), 1)
})

test('withdrawals: one per participant, DfE reasons, not in the future; a deferral cannot start after one', async () => {
  const file = `participant_id,reason,withdrawn_on\n${ben},disengaged-and-unresponsive,2023-05-02\n`
  assert.deepEqual(await run('withdrawals', file), { kind: 'withdrawals', rows: 1, created: 1, updated: 0, unchanged: 0 })
  assert.deepEqual(await run('withdrawals', file), { kind: 'withdrawals', rows: 1, created: 0, updated: 0, unchanged: 1 })
  assert.deepEqual(
    await problemsOf('withdrawals', `participant_id,reason,withdrawn_on\n${ana},bored,2023-05-02\n${ana},other,2999-01-01\n`),
    [
      "withdrawals.csv:2:2 (reason): must be one of DfE's withdrawal reasons, e.g. insufficient-capacity-to-undertake-programme, personal-reason-health-or-pregnancy-related, personal-reason-moving-school",
      'withdrawals.csv:3:3 (withdrawn_on): 2999-01-01 is in the future: record a withdrawal once it has happened',
    ],
  )
  assert.deepEqual(await problemsOf('deferrals', `participant_id,reason,deferred_on\n${ben},other,2023-06-01\n`), [
    'deferrals.csv:2:3 (deferred_on): the participant withdrew on 2023-05-02: a deferral cannot start after that',
  ])
  assert.equal(await count('withdrawals'), 1)
})

test('assessments: steps in order, a result once marked, a second attempt only after a failed first', async () => {
  const header = 'participant_id,attempt,submitted_at,word_count,result,marked_at,moderated_at,externally_moderated_at'
  const first = `${ana},1,2024-01-08T12:00:00Z,1480,failed,2024-01-20T10:00:00Z,2024-01-25T10:00:00Z,2024-02-05T10:00:00Z`
  assert.deepEqual(await run('assessments', [header, first].join('\n')), {
    kind: 'assessments',
    rows: 1,
    created: 1,
    updated: 0,
    unchanged: 0,
  })
  assert.deepEqual(await run('assessments', [header, first].join('\n')), {
    kind: 'assessments',
    rows: 1,
    created: 0,
    updated: 0,
    unchanged: 1,
  })
  const second = `${ana},2,2024-05-08T12:00:00Z,1500,passed,2024-05-20T10:00:00Z,,`
  assert.deepEqual(await run('assessments', [header, second].join('\n')), {
    kind: 'assessments',
    rows: 1,
    created: 1,
    updated: 0,
    unchanged: 0,
  })

  assert.deepEqual(
    await problemsOf(
      'assessments',
      [
        header,
        `${ben},2,2024-01-08T12:00:00Z,1200,,,,`,
        `${ben},1,2024-01-08T12:00:00Z,1200,passed,,,`,
        `${ben},1,2024-01-08T12:00:00Z,lots,,2024-01-01T10:00:00Z,,2024-02-01T10:00:00Z`,
      ].join('\n'),
    ),
    [
      'assessments.csv:2:2 (attempt): a second attempt needs a first attempt that failed',
      'assessments.csv:3:6 (marked_at): is required when there is a result',
      'assessments.csv:4:4 (word_count): must be a whole number',
    ],
  )
  assert.equal(await count('assessment_attempts'), 2)
})
