import MarkdownIt from 'markdown-it'

// Markdown written by lead providers, delivery partners and participants (content pages, local context,
// news, forum posts). Raw HTML is never passed through (`html: false` escapes it), and markdown-it's
// link check refuses javascript:, vbscript:, file: and data: (except images) URLs, so nothing written here
// can inject script. Links open normally; headings start at level 2 so a page keeps one h1.

const md = new MarkdownIt({ html: false, linkify: true, typographer: false })

// GOV.UK Frontend classes on the elements content uses most, so rendered Markdown looks like the rest.
const classes: Record<string, string> = {
  paragraph_open: 'govuk-body',
  bullet_list_open: 'govuk-list govuk-list--bullet',
  ordered_list_open: 'govuk-list govuk-list--number',
  link_open: 'govuk-link',
  table_open: 'govuk-table',
  blockquote_open: 'govuk-inset-text',
}
for (const [rule, className] of Object.entries(classes)) {
  md.renderer.rules[rule] = (tokens, idx, options, _env, self) => {
    tokens[idx]!.attrJoin('class', className)
    return self.renderToken(tokens, idx, options)
  }
}
const headingSizes: Record<string, string> = { h1: 'govuk-heading-l', h2: 'govuk-heading-m', h3: 'govuk-heading-s' }
md.renderer.rules.heading_open = (tokens, idx, options, _env, self) => {
  const token = tokens[idx]!
  // `# Title` in content becomes an h2: the page already has its h1.
  const level = Math.min(6, Number(token.tag.slice(1)) + 1)
  token.tag = `h${level}`
  token.attrJoin('class', headingSizes[token.tag] ?? 'govuk-heading-s')
  return self.renderToken(tokens, idx, options)
}
md.renderer.rules.heading_close = (tokens, idx) => {
  const level = Math.min(6, Number(tokens[idx]!.tag.slice(1)) + 1)
  return `</h${level}>\n`
}

/** Safe HTML for Markdown text (use with `| safe` in templates: it is already escaped). */
export function renderMarkdown(text: string): string {
  return md.render(text)
}
