// The one word count of a response, used when a draft is saved, on submission and (the same rules in
// public/assessment.js) live in the browser. A word is a run of characters between whitespace (or a
// dash used as punctuation: — and –, or a spaced hyphen) that has at least one letter or digit in it:
// "well-being" and "1,500" are one word each, "—", "-" and "..." on their own are none.

const separators = /[\s\u2013\u2014]+/u
const hasLetterOrDigit = /[\p{L}\p{N}]/u

export function countWords(text: string): number {
  let count = 0
  for (const token of text.split(separators)) if (hasLetterOrDigit.test(token)) count++
  return count
}
