"""From an archived page to rows, as a plain library (no Scrapy): extraction and
normalization of the review, the rules shared by the crawl and ``reprocess`` (the store
path, rel=canonical), and ``reprocess`` itself."""
