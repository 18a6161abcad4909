"""The baseline: a plain Scrapy spider that calls trafilatura in its callback.

scrapy runspider benchmarks/plain_spider.py -a url=http://127.0.0.1:PORT/
"""

from __future__ import annotations

from typing import ClassVar

import scrapy
import trafilatura
from scrapy.linkextractors import LinkExtractor


class PlainSpider(scrapy.Spider):
    name = "plain"
    custom_settings: ClassVar[dict] = {
        "LOG_LEVEL": "WARNING",
        "ROBOTSTXT_OBEY": True,
        "TELNETCONSOLE_ENABLED": False,
    }

    def __init__(self, url: str, **kwargs):
        super().__init__(**kwargs)
        self.start_urls = [url]
        self.links = LinkExtractor()

    def parse(self, response):
        text = trafilatura.extract(response.text, url=response.url, include_comments=False)
        yield {"url": response.url, "length": len(text or "")}
        for link in self.links.extract_links(response):
            yield response.follow(link.url, callback=self.parse)
