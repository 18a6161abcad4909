"""reviewarc's crawler: the Scrapy project (settings, spiders, capture extension) and the CLI."""

__version__ = "0.1.0"
