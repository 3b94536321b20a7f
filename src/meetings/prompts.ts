import type { MeetingStage } from '../db/schema.ts'

// The line manager/mentor log of UCL's handbook (seed 000): Appendix 1's five questions, and
// Appendix 2's question prompts for each stage of a meeting, shown beside the log's fields.

export const logQuestions = [
  'What does our agenda need to cover?',
  'What are the emerging themes?',
  'What new understandings or perspectives are developing?',
  'What will happen because of this meeting?',
  'How will we review progress from this meeting?',
] as const

export const stageLabels: Record<MeetingStage, string> = {
  contracting: 'Contracting',
  'check-in': 'Check-in',
  reflection: 'Reflection',
  'target-setting': 'Target setting',
}

/** What each stage is for (seed 000, "Line-Manager / Mentor Role and Expectations"). */
export const stagePurposes: Record<MeetingStage, string> = {
  contracting: 'The participant and the line manager or mentor agree the focus of the meeting and intended outcomes.',
  'check-in': 'The participant and the line manager or mentor identify significant learning gains from the programme to date.',
  reflection:
    'The participant and the line manager or mentor review how new learning is being applied in practice through the Implementation Project.',
  'target-setting': 'The participant identifies significant next steps.',
}

/** Appendix 2: generic mentoring and coaching prompts, to stimulate dialogue (not exhaustive). */
export const stagePrompts: Record<MeetingStage, readonly string[]> = {
  contracting: [
    'What do you want to achieve out of this session?',
    'What could we work on now that would make the biggest difference to your programme / Implementation Project?',
    'What are two or three goals that will make a big difference in your programme / Implementation Project?',
    'What issues do you currently face with your Programme / Implementation Project?',
    'What short term goals do you want to achieve in the context of the programme?',
    'Why are you hoping to achieve these goals?',
    'How could you improve your current work / life balance?',
    'How could you improve the work / life balance of your team?',
    "What would you try now if you knew you couldn't fail?",
    'How will you know when you have achieved these goals? What will it look like?',
  ],
  'check-in': [
    'From the most recent module you are working on, which were your strongest domains? Why do you think this was the case?',
    'Which domains did you identify as the ones you needed to focus on most? Why?',
    'What has been your most recent significant learning from your Self-Directed Study?',
    'Which domains have you seen the most progress in?',
    'Which new learning has had the biggest impact on your behaviours? What does this look like?',
    'Which domains have you seen the least progress in? What might be the reasons for this?',
    'How are the on-line materials helping you?',
    'Which Formative Assessment Task did you / will you work with?',
    'How will this move you forward in your learning?',
  ],
  reflection: [
    'What is going well with your Implementation Project?',
    'What could be improved in the delivery of your Implementation Project?',
    'What are the barriers to your project?',
    'What do you think is really happening?',
    'How might other people perceive the progress of the project?',
    'What could be done differently?',
    'On a scale of 1 to 10 how severe / serious / urgent is the situation?',
    'How do you think the students are benefiting from the project?',
  ],
  'target-setting': [
    'What specific step would you take next?',
    'How will you meet your goal? How and when will you do that?',
    'What support do you need to get that done?',
    'What do you need from me or from others to help you achieve this?',
    'How will you know you have done it?',
    'Who else will you involve in this?',
    'What will have happened to know you have achieved the goal?',
    'Who do you need to talk to first? Who needs to know?',
    'What are the three actions you can take this week?',
    'On a scale of 1 to 10 how committed are you to this goal?',
    'On a scale of 1 to 10 how excited do you feel about taking these actions?',
    'What would increase that score?',
    'What will happen if you do not do this?',
  ],
}

/**
 * The log's sections in the order of a meeting, each with the stage whose prompts sit beside it:
 * contracting beside the key purposes and the agenda, check-in beside progress and the FATs,
 * reflection beside the emerging themes and new understandings, target setting beside what happens next.
 */
export const logSections: { stage: MeetingStage; fields: string[] }[] = [
  { stage: 'contracting', fields: ['key_purposes', 'answer-0'] },
  { stage: 'check-in', fields: ['fats_completed', 'fats_completed_count', 'checking_in'] },
  { stage: 'reflection', fields: ['answer-1', 'answer-2'] },
  { stage: 'target-setting', fields: ['answer-3', 'answer-4'] },
]
