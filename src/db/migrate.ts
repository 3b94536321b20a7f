import { Migrator, type Migration, type MigrationResult } from 'kysely'
import type { Db } from './database.ts'
import * as foundation from './migrations/0001_foundation.ts'
import * as designVersions from './migrations/0002_design_versions.ts'
import * as blockWindows from './migrations/0003_block_windows.ts'
import * as learningRecords from './migrations/0004_learning_records.ts'
import * as registersAndMeetingLogs from './migrations/0005_registers_and_meeting_logs.ts'
import * as importUploads from './migrations/0006_import_uploads.ts'
import * as firstEvidence from './migrations/0007_first_evidence.ts'
import * as eventBooking from './migrations/0008_event_booking.ts'
import * as deferralsWithdrawalsAssessments from './migrations/0009_deferrals_withdrawals_assessments.ts'
import * as declarationsMoneyEscalation from './migrations/0010_declarations_money_escalation.ts'
import * as dfeSync from './migrations/0011_dfe_sync.ts'
import * as videoProgressIndex from './migrations/0012_video_progress_index.ts'
import * as enrolmentLifecycle from './migrations/0013_enrolment_lifecycle.ts'
import * as applications from './migrations/0014_applications.ts'
import * as onboarding from './migrations/0015_onboarding.ts'
import * as returnsAndReinstatements from './migrations/0016_returns_and_reinstatements.ts'
import * as participantGroups from './migrations/0017_participant_groups.ts'
import * as meetingsProjectsAssessment from './migrations/0018_meetings_projects_assessment.ts'
import * as learningContent from './migrations/0019_learning_content.ts'
import * as peopleAndForums from './migrations/0020_people_and_forums.ts'
import * as programmeNews from './migrations/0021_programme_news.ts'
import * as forumsAndSurveys from './migrations/0022_forums_and_surveys.ts'
import * as dashboardIndexes from './migrations/0023_dashboard_indexes.ts'
import * as registerEntered from './migrations/0024_register_entered.ts'
import * as privacyErasure from './migrations/0025_privacy_erasure.ts'
import * as enrolmentFigures from './migrations/0026_enrolment_figures.ts'

// Versioned migrations, in order. A new migration is a new file here; an applied one is never edited.
export const migrations: Record<string, Migration> = {
  '0001_foundation': foundation,
  '0002_design_versions': designVersions,
  '0003_block_windows': blockWindows,
  '0004_learning_records': learningRecords,
  '0005_registers_and_meeting_logs': registersAndMeetingLogs,
  '0006_import_uploads': importUploads,
  '0007_first_evidence': firstEvidence,
  '0008_event_booking': eventBooking,
  '0009_deferrals_withdrawals_assessments': deferralsWithdrawalsAssessments,
  '0010_declarations_money_escalation': declarationsMoneyEscalation,
  '0011_dfe_sync': dfeSync,
  '0012_video_progress_index': videoProgressIndex,
  '0013_enrolment_lifecycle': enrolmentLifecycle,
  '0014_applications': applications,
  '0015_onboarding': onboarding,
  '0016_returns_and_reinstatements': returnsAndReinstatements,
  '0017_participant_groups': participantGroups,
  '0018_meetings_projects_assessment': meetingsProjectsAssessment,
  '0019_learning_content': learningContent,
  '0020_people_and_forums': peopleAndForums,
  '0021_programme_news': programmeNews,
  '0022_forums_and_surveys': forumsAndSurveys,
  '0023_dashboard_indexes': dashboardIndexes,
  '0024_register_entered': registerEntered,
  '0025_privacy_erasure': privacyErasure,
  '0026_enrolment_figures': enrolmentFigures,
}

export async function migrateToLatest(db: Db): Promise<MigrationResult[]> {
  const migrator = new Migrator({ db, provider: { getMigrations: async () => migrations } })
  const { error, results } = await migrator.migrateToLatest()
  if (error) {
    const failed = results?.find((r) => r.status === 'Error')
    throw new Error(`Migration ${failed?.migrationName ?? ''} failed: ${error instanceof Error ? error.message : String(error)}`)
  }
  return results ?? []
}
