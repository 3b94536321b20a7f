import { z } from 'zod'
import type { Catalogue } from '../catalogue/catalogue.ts'
import type { Db } from '../db/database.ts'
import { londonDateOf } from '../dates/london.ts'
import { defineJob, type JobDefinition } from '../jobs/queue.ts'
import type { Logger } from '../logging.ts'
import type { Principal } from '../policy/principal.ts'
import { anonymiseParticipant, dueForErasure, ErasureRefused } from './anonymise.ts'

// The daily erasure after the retention period (docs/RELIABILITY.md "Data protection"): every participant
// whose last enrolment ended more than the lead provider's retention period ago, with nothing unsettled,
// is anonymised — each in its own transaction with its audit entry, so one refusal does not stop the rest.

const retentionJob: Principal = { kind: 'system', name: 'privacy-retention' }

type Deps = { db: Db; catalogue: Catalogue; logger: Logger }

export async function runRetentionErasure({ db, catalogue, logger }: Deps, today = londonDateOf(new Date())) {
  const erasedIds: string[] = []
  const refused: { participant_id: string; reason: string }[] = []
  for (const id of await dueForErasure(db, catalogue, today)) {
    try {
      await anonymiseParticipant(db, retentionJob, id, { catalogue, mode: 'retention', reason: 'retention period passed', today })
      erasedIds.push(id)
    } catch (error) {
      // Something changed since the candidates were read (a new declaration, a reinstatement): next time.
      if (!(error instanceof ErasureRefused)) throw error
      refused.push({ participant_id: id, reason: error.message })
    }
  }
  if (erasedIds.length || refused.length) logger.info({ erased: erasedIds.length, refused: refused.length }, 'retention erasure')
  return { erased: erasedIds, refused }
}

export function privacyJobDefinitions(deps: Deps): JobDefinition[] {
  return [
    defineJob({
      name: 'privacy-retention-erasure',
      schema: z.object({}),
      retryLimit: 2,
      retryDelay: 600,
      schedule: '50 2 * * *',
      handler: async () => {
        await runRetentionErasure(deps)
      },
    }),
  ]
}
