import type { Activity, Design } from './load.ts'

/** An activity of a design, and whether its block is still provisional (not yet published). */
export function findActivity(design: Design, code: string): { activity: Activity; provisional: boolean } | null {
  for (const block of design.blocks) {
    const activity = block.activities.find((a) => a.code === code)
    if (activity) return { activity, provisional: block.provisional }
  }
  const programme = design.programmeActivities.find((a) => a.code === code)
  return programme ? { activity: programme, provisional: false } : null
}
