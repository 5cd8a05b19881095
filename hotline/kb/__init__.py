"""The knowledge base's pure core: text for search (normalising, stemming, the FTS5 query), the
highlighted snippet, close spellings, the article rules, Markdown front matter and templates.

No I/O here: `hotline.store.kb` keeps the rows and the FTS5 index, `hotline.services.kb` runs the
use cases, `hotline.api.kb` is the HTTP edge. The starter articles ship beside this file
(`starter/*.md`) and are installed once by `hotline.services.kb.install_starter`.
"""
