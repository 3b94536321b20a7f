import type { FastifyInstance } from 'fastify'
import { registerAccountRoutes } from './accounts/routes.ts'
import { registerApiTokenRoutes } from './api/token-routes.ts'
import { registerApplicationRoutes } from './applications/routes.ts'
import { registerAssessmentRoutes } from './assessment/routes.ts'
import { registerCalendarRoutes } from './calendar/routes.ts'
import { registerCatalogueRoutes } from './catalogue/routes.ts'
import { registerDeclarationRoutes } from './declarations/routes.ts'
import { registerOutputRoutes } from './outputs/routes.ts'
import { registerContentRoutes } from './content/routes.ts'
import { registerPeopleRoutes } from './people/routes.ts'
import { registerDashboardRoutes } from './dashboards/routes.ts'
import { registerNewsRoutes } from './news/routes.ts'
import { registerProgressRoutes } from './progress/routes.ts'
import { registerForumRoutes } from './forums/routes.ts'
import { registerSurveyRoutes } from './surveys/routes.ts'
import { registerDfeSyncRoutes } from './dfe/routes.ts'
import { registerDevEmailRoutes } from './email/dev-routes.ts'
import { registerEscalationRoutes } from './escalations/routes.ts'
import { registerEventManagementRoutes } from './events/manage-routes.ts'
import { registerParticipantEventRoutes } from './events/participant-routes.ts'
import { registerGroupRoutes } from './groups/routes.ts'
import { registerHomeRoutes } from './home/routes.ts'
import { registerImportRoutes } from './imports/routes.ts'
import { registerLearningRoutes } from './learning/routes.ts'
import { registerMarkingRoutes } from './assessment/marking-routes.ts'
import { registerLifecycleRoutes } from './lifecycle/routes.ts'
import { registerMeetingRoutes } from './meetings/routes.ts'
import { registerMoneyRoutes } from './money/routes.ts'
import { registerOnboardingRoutes } from './onboarding/routes.ts'
import { registerOrganisationRoutes } from './organisations/routes.ts'
import { registerPrivacyRoutes } from './privacy/routes.ts'
import { registerProjectRoutes } from './projects/routes.ts'
import { registerRegisterRoutes } from './registers/routes.ts'
import { registerReportRoutes } from './reports/routes.ts'
import type { Services } from './services.ts'
import { createApp } from './web/app.ts'
import { registerHealthRoutes } from './web/health.ts'
import { registerSectionRoutes } from './web/sections-routes.ts'

/** The whole web application: middleware, then every capability's pages and API operations. */
export async function buildApp(services: Services): Promise<FastifyInstance> {
  const app = await createApp(services)
  registerHealthRoutes(app, services)
  registerAccountRoutes(app, services)
  registerHomeRoutes(app, services)
  registerSectionRoutes(app)
  registerCalendarRoutes(app, services)
  registerOrganisationRoutes(app, services)
  registerApiTokenRoutes(app, services)
  registerCatalogueRoutes(app, services)
  registerLearningRoutes(app, services)
  registerParticipantEventRoutes(app, services)
  registerEventManagementRoutes(app, services)
  registerImportRoutes(app, services)
  registerApplicationRoutes(app, services)
  registerDfeSyncRoutes(app, services)
  registerReportRoutes(app, services)
  registerMoneyRoutes(app, services)
  registerDeclarationRoutes(app, services)
  registerOutputRoutes(app, services)
  registerRegisterRoutes(app, services)
  registerEscalationRoutes(app, services)
  registerLifecycleRoutes(app, services)
  registerOnboardingRoutes(app, services)
  registerGroupRoutes(app, services)
  registerAssessmentRoutes(app, services)
  registerMarkingRoutes(app, services)
  registerProjectRoutes(app, services)
  registerMeetingRoutes(app, services)
  registerContentRoutes(app, services)
  registerPeopleRoutes(app, services)
  registerDashboardRoutes(app, services)
  registerNewsRoutes(app, services)
  registerProgressRoutes(app, services)
  registerForumRoutes(app, services)
  registerSurveyRoutes(app, services)
  registerPrivacyRoutes(app, services)
  registerDevEmailRoutes(app, services)
  services.api.register(app, services.db)
  return app
}
