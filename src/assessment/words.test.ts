import assert from 'node:assert/strict'
import path from 'node:path'
import { test } from 'node:test'
import { countWords } from './words.ts'

test('words are runs between whitespace with a letter or digit in them', () => {
  assert.equal(countWords(''), 0)
  assert.equal(countWords('   \n\t  '), 0)
  assert.equal(countWords('One two three'), 3)
  assert.equal(countWords('  leading,   trailing  \n\n and\tnew lines '), 5)
})

test('hyphenated words are one word; dashes used as punctuation separate words', () => {
  assert.equal(countWords('well-being and long-term, evidence-informed practice'), 5)
  assert.equal(countWords('school — and trust – leaders'), 4)
  assert.equal(countWords('school—trust'), 2)
  assert.equal(countWords('a - b'), 2)
})

test('numbers count as words; punctuation on its own does not', () => {
  assert.equal(countWords('1,500 words in 8 days (2024/25)'), 6)
  assert.equal(countWords('Really ... ? ! -- yes.'), 2)
  assert.equal(countWords('“Quoted,” she said; ‘fine’.'), 4)
  assert.equal(countWords("Ms. O'Neill's plan: 3.5% better"), 5)
})

test('the browser script counts the same way', async () => {
  const url = path.resolve(import.meta.dirname, '../../public/assessment.js')
  const browser = (await import(url)) as { countWords: (text: string) => number }
  for (const text of ['', 'well-being — and 1,500 ... words', 'a - b\n\nc–d', '“Quoted,” she said; ‘fine’.', "Ms. O'Neill's 3.5%"])
    assert.equal(browser.countWords(text), countWords(text), text)
})
