// The summative assessment's response editor (progressive enhancement: the page works without it, and
// the server counts the words again on every save). The word count follows src/assessment/words.ts.

const separators = /[\s\u2013\u2014]+/u
const hasLetterOrDigit = /[\p{L}\p{N}]/u

export function countWords(text) {
  let count = 0
  for (const token of text.split(separators)) if (hasLetterOrDigit.test(token)) count++
  return count
}

const AUTOSAVE_SECONDS = 20

function enhance(form) {
  const textarea = form.querySelector('textarea[name="response"]')
  const counter = document.getElementById('response-word-count')
  const status = document.getElementById('autosave-status')
  const max = Number(form.dataset.maxWords)
  if (!textarea || !counter) return

  const fmt = (n) => n.toLocaleString('en-GB')
  const showCount = () => {
    const n = countWords(textarea.value)
    const over = n - max
    const count = `${fmt(n)} ${n === 1 ? 'word' : 'words'}`
    counter.textContent =
      over > 0 ? `${count}: ${fmt(over)} ${over === 1 ? 'word' : 'words'} over the ${fmt(max)}-word limit` : `${count} of ${fmt(max)}`
    counter.classList.toggle('govuk-error-message', over > 0)
    counter.classList.toggle('govuk-hint', over <= 0)
    textarea.classList.toggle('govuk-textarea--error', over > 0)
  }
  textarea.addEventListener('input', showCount)
  showCount()

  const url = form.dataset.autosaveUrl
  if (!url || !status) return
  let saved = textarea.value
  setInterval(async () => {
    const text = textarea.value
    if (text === saved) return
    const csrf = form.querySelector('input[name="_csrf"]')?.value ?? ''
    try {
      const response = await fetch(url, {
        method: 'POST',
        credentials: 'same-origin',
        headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
        body: new URLSearchParams({ _csrf: csrf, response: text }),
      })
      const result = await response.json()
      if (!response.ok) {
        status.textContent = result.message ?? 'Your draft could not be saved automatically: use Save draft'
        return
      }
      saved = text
      status.textContent = `Draft saved automatically at ${result.savedAtText} (${result.wordCount} words)`
    } catch {
      status.textContent = 'Your draft could not be saved automatically: use Save draft'
    }
  }, AUTOSAVE_SECONDS * 1000)
}

if (typeof document !== 'undefined') {
  for (const form of document.querySelectorAll('form[data-assessment-editor]')) enhance(form)
}
