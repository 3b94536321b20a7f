import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import { createTestServices, type TestServices } from '../test-support/services.ts'
import { Catalogue, catalogueRoot } from './catalogue.ts'
import { loadCatalogue, type CatalogueData } from './load.ts'
import { DesignVersions } from './versions.ts'

const admin = { kind: 'system', name: 'test' } as const
let services: TestServices
before(async () => {
  services = await createTestServices()
})
after(() => services.dispose())

test('at start every shipped design is version 1 and every scheduled cohort runs it', async () => {
  const npqh = await services.designs.design('edt', 'npq-headship')
  assert.equal(npqh?.version, 1)
  assert.equal(npqh?.creditsAvailable, 237)
  const cohort = await services.designs.designForCohort('edt', 'npq-headship', '2022-autumn')
  assert.equal(cohort?.version, 1)
  const again = await services.designs.syncFromFiles(admin)
  assert.deepEqual(again, { versionsCreated: 0, cohortsBound: 0 })
})

test('a changed design file becomes a new version; running cohorts keep theirs until an admin moves them', async () => {
  const data: CatalogueData = loadCatalogue(catalogueRoot)
  // Publish NPQLL's provisional block 2 in a copy of the data, as an edited file would.
  const npqll = data.designs.find((d) => d.leadProvider === 'edt' && d.courseIdentifier === 'npq-leading-literacy')!
  const content = structuredClone(npqll.content)
  if (content.style !== 'credits') throw new Error('expected a credits design')
  content.blocks[1]!.provisional = false
  content.blocks[1]!.stated_total = content.blocks[1]!.activities.reduce((n, a) => n + (a.credits ?? 0), 0)
  const edited: CatalogueData = { ...data, designs: data.designs.map((d) => (d === npqll ? { ...d, content } : d)) }

  const versions = new DesignVersions(services.db, new Catalogue(edited))
  const result = await versions.syncFromFiles(admin)
  assert.equal(result.versionsCreated, 1)
  const latest = await versions.design('edt', 'npq-leading-literacy')
  assert.equal(latest?.version, 2)
  assert.equal(latest?.creditsAvailable, 47 + content.blocks[1]!.stated_total!)
  assert.equal((await versions.designForCohort('edt', 'npq-leading-literacy', '2022-autumn'))?.version, 1)

  await versions.bindCohort(admin, 'edt', 'npq-leading-literacy', '2022-autumn', 2)
  assert.equal((await versions.designForCohort('edt', 'npq-leading-literacy', '2022-autumn'))?.version, 2)
  const summary = await versions.versions('edt', 'npq-leading-literacy')
  assert.deepEqual(
    summary.map((v) => [v.version, v.cohorts.includes('2022-autumn')]),
    [
      [2, true],
      [1, false],
    ],
  )
  const audit = await services.db
    .selectFrom('audit_events')
    .select(['action', 'before', 'after'])
    .where('action', '=', 'cohort.design-moved')
    .execute()
  assert.deepEqual(
    audit.map((a) => [a.before, a.after]),
    [[{ version: 1 }, { version: 2 }]],
  )

  await assert.rejects(versions.bindCohort(admin, 'edt', 'npq-leading-literacy', '2022-autumn', 9), /not found/)
  await assert.rejects(versions.bindCohort(admin, 'edt', 'npq-leading-literacy', '2030-autumn', 1), /does not run/)
})

test('design versions cannot be changed or deleted', async () => {
  await assert.rejects(services.db.updateTable('design_versions').set({ note: 'rewritten' }).execute(), /append-only/)
  await assert.rejects(services.db.deleteFrom('design_versions').execute(), /append-only/)
})
