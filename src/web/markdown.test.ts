import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { renderMarkdown } from './markdown.ts'

describe('renderMarkdown', () => {
  it('escapes raw HTML, so script cannot be injected', () => {
    const html = renderMarkdown('Hello <script>alert(1)</script> <img src=x onerror=alert(1)>')
    assert.doesNotMatch(html, /<script|<img/)
    assert.match(html, /&lt;script&gt;/)
  })
  it('refuses javascript: links', () => {
    const html = renderMarkdown('[click](javascript:alert(1)) and [ok](https://example.org)')
    assert.doesNotMatch(html, /href="javascript/)
    assert.match(html, /<a href="https:\/\/example.org" class="govuk-link">ok<\/a>/)
  })
  it('uses GOV.UK classes and starts headings at level 2', () => {
    const html = renderMarkdown('# Evidence\n\n- one\n- two\n\nText')
    assert.match(html, /<h2 class="govuk-heading-m">Evidence<\/h2>/)
    assert.match(html, /<ul class="govuk-list govuk-list--bullet">/)
    assert.match(html, /<p class="govuk-body">Text<\/p>/)
  })
})
