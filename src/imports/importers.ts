import type { z } from 'zod'
import { applicationsImporter } from '../applications/import.ts'
import { activityImporter } from './activity.ts'
import { assessmentsImporter } from './assessments.ts'
import { attendanceImporter } from './attendance.ts'
import { deliveryPartnersImporter } from './delivery-partners.ts'
import { eventsImporter } from './events.ts'
import type { Importer } from './import-file.ts'
import { deferralsImporter, withdrawalsImporter } from './lifecycle.ts'
import { meetingsImporter } from './meetings.ts'
import { participantsImporter } from './participants.ts'

/** The import kinds of ../shared/INTERFACES.md that this version handles, in dependency order. */
export const importers: Record<string, Importer<z.ZodType>> = {
  'delivery-partners': deliveryPartnersImporter as Importer<z.ZodType>,
  participants: participantsImporter as unknown as Importer<z.ZodType>,
  events: eventsImporter as unknown as Importer<z.ZodType>,
  attendance: attendanceImporter as unknown as Importer<z.ZodType>,
  activity: activityImporter as unknown as Importer<z.ZodType>,
  meetings: meetingsImporter as unknown as Importer<z.ZodType>,
  assessments: assessmentsImporter as unknown as Importer<z.ZodType>,
  deferrals: deferralsImporter as unknown as Importer<z.ZodType>,
  withdrawals: withdrawalsImporter as unknown as Importer<z.ZodType>,
  applications: applicationsImporter as unknown as Importer<z.ZodType>,
}
