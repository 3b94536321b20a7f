import type { Services } from '../services.ts'

// Block content for EDT's NPQH (the demo participant Priya Patel's course, all blocks live): in Block 4
// an overview page with an evidence summary, a podcast (a short generated tone: real media is uploaded
// by lead providers), a quiz, a diagnostic, a reflective prompt and a formative assessment task that
// Priya has submitted and that awaits her facilitator's feedback; and North Star's local context for the
// block. None of it is linked to a design activity, so her learning evidence is unchanged.

/** A mono 8-bit WAV of a quiet tone: playable everywhere, generated so no media file is shipped. */
export function toneWav(seconds: number, rate = 8000): Buffer {
  const samples = seconds * rate
  const data = Buffer.alloc(samples)
  for (let i = 0; i < samples; i++) data[i] = 128 + Math.round(20 * Math.sin((2 * Math.PI * 220 * i) / rate))
  const header = Buffer.alloc(44)
  header.write('RIFF', 0, 'latin1')
  header.writeUInt32LE(36 + samples, 4)
  header.write('WAVEfmt ', 8, 'latin1')
  header.writeUInt32LE(16, 16)
  header.writeUInt16LE(1, 20) // PCM
  header.writeUInt16LE(1, 22) // mono
  header.writeUInt32LE(rate, 24)
  header.writeUInt32LE(rate, 28)
  header.writeUInt16LE(1, 32)
  header.writeUInt16LE(8, 34)
  header.write('data', 36, 'latin1')
  header.writeUInt32LE(samples, 40)
  return Buffer.concat([header, data])
}

const overview = `Block 4 is about **leading change that lasts**: implementation, not announcement.

# What you will do

- Diagnose where your school's last change initiative stalled
- Plan a change using the implementation stages
- Try one small step with your team and reflect on it`

const evidence = `The EEF's *Putting Evidence to Work* (2019, updated 2024) finds that schools that treat implementation as a
process (explore, prepare, deliver, sustain) are more likely to see change last. Staff need clear "active ingredients" and
time to practise them.`

const questions = [
  {
    prompt: 'Which stage of implementation comes first?',
    options: ['Deliver', 'Explore', 'Sustain'],
    correct: [1],
    feedback: 'Explore: define the problem and choose an approach that fits it before preparing.',
  },
  {
    prompt: 'Which of these are "active ingredients"?',
    options: ['The essential practices that make the approach work', 'The slides used to launch it', 'Behaviours staff can be coached on'],
    correct: [0, 2],
    feedback: 'Active ingredients are the practices that must be kept for the approach to work.',
  },
]

export async function addDemoContent(services: Services, progress: (line: string) => void): Promise<number> {
  const { db } = services
  const edt = await db.selectFrom('organisations').select('id').where('code', '=', 'edt').executeTakeFirst()
  const admin = await db.selectFrom('users').select('id').where('email', '=', 'lead-provider-admin@demo.test').executeTakeFirst()
  if (!edt || !admin) return 0
  const existing = await db
    .selectFrom('content_items')
    .select('id')
    .where('lead_provider_id', '=', edt.id)
    .where('course_identifier', '=', 'npq-headship')
    .executeTakeFirst()
  if (existing) return 0

  let created = 0
  const audio = toneWav(30)
  const file = await db
    .insertInto('content_files')
    .values({
      lead_provider_id: edt.id,
      name: 'sustaining-change.wav',
      mime_type: 'audio/wav',
      size: audio.length,
      data: audio,
      uploaded_by: admin.id,
    })
    .returning('id')
    .executeTakeFirstOrThrow()
  created++
  const base = {
    lead_provider_id: edt.id,
    course_identifier: 'npq-headship',
    block: '4',
    status: 'published' as const,
    created_by: admin.id,
    updated_by: admin.id,
    published_at: new Date(),
    published_by: admin.id,
  }
  const tags = JSON.stringify(['Learn that implementation is a process, not an event', 'Learn how to plan for sustained change'])
  const rows = [
    { kind: 'page' as const, title: 'Block 4 overview: leading change that lasts', body: overview, evidence_summary: evidence, tags },
    {
      kind: 'podcast' as const,
      title: 'Podcast: a headteacher on sustaining change',
      body: 'A short conversation about keeping an initiative going after the launch.',
      media: JSON.stringify([{ label: '', fileId: file.id, url: null, durationSeconds: 30 }]),
      tags,
    },
    {
      kind: 'quiz' as const,
      title: 'Check your understanding: implementation',
      body: 'Two questions on the implementation stages.',
      questions: JSON.stringify(questions),
      pass_mark: 50,
      tags,
    },
    {
      kind: 'diagnostic' as const,
      title: 'Where are you now? Leading change',
      body: 'Answer honestly: the result shows where to focus.',
      questions: JSON.stringify(questions),
    },
    {
      kind: 'reflection' as const,
      title: 'Reflect: a change that stalled',
      prompts: JSON.stringify(['Think of a change in your school that did not last. What happened after the launch?']),
    },
    {
      kind: 'task' as const,
      title: 'Formative assessment task: your change plan',
      body: 'Write a one-page plan for a change in your school, using the four implementation stages. Your facilitator will give feedback.',
    },
  ]
  const ids: Record<string, string> = {}
  for (const [n, row] of rows.entries()) {
    const inserted = await db
      .insertInto('content_items')
      .values({ ...base, ...row, position: n + 1 })
      .returning('id')
      .executeTakeFirstOrThrow()
    ids[row.kind] = inserted.id
    created++
  }

  // Priya's submitted task, awaiting feedback.
  const priya = await db
    .selectFrom('enrolments as e')
    .innerJoin('participants as p', 'p.id', 'e.participant_id')
    .select(['e.id', 'e.delivery_partner_id', 'p.user_id'])
    .where('p.email', '=', 'participant@demo.test')
    .where('e.course_identifier', '=', 'npq-headship')
    .where('e.lead_provider_id', '=', edt.id)
    .executeTakeFirst()
  if (priya) {
    await db
      .insertInto('task_submissions')
      .values({
        item_id: ids.task!,
        enrolment_id: priya.id,
        body: 'Explore: our Year 7 reading intervention stalled after one term.\nPrepare: agree the active ingredients with the English team.\nDeliver: coach two teachers a fortnight.\nSustain: review at each half-term data drop.',
        submitted_by: priya.user_id,
      })
      .execute()
    await db
      .insertInto('content_progress')
      .values({ item_id: ids.task!, enrolment_id: priya.id, completed_at: new Date() })
      .onConflict((oc) => oc.doNothing())
      .execute()
    created += 2
    const dpLead = await db.selectFrom('users').select('id').where('email', '=', 'delivery-partner-lead@demo.test').executeTakeFirst()
    if (priya.delivery_partner_id) {
      await db
        .insertInto('local_contexts')
        .values({
          delivery_partner_id: priya.delivery_partner_id,
          lead_provider_id: edt.id,
          course_identifier: 'npq-headship',
          block: '4',
          notes: 'Our Block 4 face-to-face day is at the hub. Bring your change plan draft.',
          examples: '- Oakfield Primary: a phonics programme kept going by fortnightly coaching',
          updated_by: dpLead?.id ?? null,
        })
        .onConflict((oc) => oc.doNothing())
        .execute()
      created++
    }
  }
  progress(`demo: block content for EDT NPQH (${created} records)`)
  return created
}
