import type { FastifyInstance } from 'fastify'
import { loadDemoData } from '../demo/demo.ts'
import { buildApp } from '../routes.ts'
import { createTestServices, type TestServices } from './services.ts'

// The whole web application on a fresh database with the demo data, for page tests with the inject agent.

export const demoPassword = 'demo-password-for-tests'

export async function startDemoApp(): Promise<{ services: TestServices; app: FastifyInstance; close(): Promise<void> }> {
  const services = await createTestServices()
  await loadDemoData(services)
  const app = await buildApp(services)
  await app.ready()
  return {
    services,
    app,
    async close() {
      await app.close()
      await services.dispose()
    },
  }
}
