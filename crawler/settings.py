"""Scrapy settings of the reviewarc project: defaults fit for crawling a real site politely.

Everything can be overridden the Scrapy way (``-s NAME=VALUE``, a project's settings) or
with ``reviewarc crawl --set NAME=VALUE``. The ``REVIEWARC_*`` settings are described in
:mod:`crawler.config`, which holds their defaults.
"""

from crawler import __version__

BOT_NAME = "reviewarc"
SPIDER_MODULES = ["crawler.spiders"]
NEWSPIDER_MODULE = "crawler.spiders"

# Who we are. Name reviewarc and give a contact URL; set your own contact for real crawls.
USER_AGENT = f"reviewarc/{__version__} (+https://github.com/reviewarc/reviewarc; archival crawler)"

# Politeness.
ROBOTSTXT_OBEY = True
AUTOTHROTTLE_ENABLED = True
AUTOTHROTTLE_START_DELAY = 1.0
AUTOTHROTTLE_MAX_DELAY = 30.0
AUTOTHROTTLE_TARGET_CONCURRENCY = 2.0
DOWNLOAD_DELAY = 0.25
CONCURRENT_REQUESTS = 16
CONCURRENT_REQUESTS_PER_DOMAIN = 4
# Each callback yields a few requests and at most one item: Scrapy's default of 100 parallel
# output workers per response costs more than it gives.
CONCURRENT_ITEMS = 16
COOKIES_ENABLED = True
# Threads for DNS lookups (Scrapy's default is 10): requisite hosts' names are looked up
# ahead, many at once, and some resolvers take seconds to answer that a name does not exist.
REACTOR_THREADPOOL_MAXSIZE = 40
TELNETCONSOLE_ENABLED = False

# Bounds: every crawl ends by itself, whatever the site does.
DOWNLOAD_TIMEOUT = 30
DOWNLOAD_MAXSIZE = 32 * 1024 * 1024  # also applies after decompression
DOWNLOAD_WARNSIZE = 8 * 1024 * 1024
DEPTH_LIMIT = 0  # Scrapy's own limit is off: REVIEWARC_MAX_DEPTH counts hops (links only)
URLLENGTH_LIMIT = 2048
REDIRECT_MAX_TIMES = 10
RETRY_TIMES = 2
# Scrapy's list without CannotResolveHostError: a name that did not resolve is not asked
# again (crawler/host_health.py fails the rest of its requests at once).
RETRY_EXCEPTIONS = [
    "scrapy.exceptions.DownloadConnectionRefusedError",
    "scrapy.exceptions.DownloadFailedError",
    "scrapy.exceptions.DownloadTimeoutError",
    "scrapy.exceptions.ResponseDataLossError",
    "twisted.internet.error.ConnectionDone",
    "twisted.internet.error.ConnectError",
    "twisted.internet.error.ConnectionLost",
    OSError,  # HttpCompression's error on an empty compressed body
    "scrapy.core.downloader.handlers.http11.TunnelError",
]

# Breadth-first, like an archival crawler: a trap deep in one branch cannot starve the rest.
DEPTH_PRIORITY = 1
SCHEDULER_DISK_QUEUE = "scrapy.squeues.PickleFifoDiskQueue"
# Page requisites wait in queues of their own, on a budget of their own
# (REVIEWARC_REQUISITE_CONCURRENCY): see crawler/pages_first.py.
SCHEDULER = "crawler.pages_first.PagesFirstScheduler"
SCHEDULER_MEMORY_QUEUE = "scrapy.squeues.FifoMemoryQueue"

# Error pages reach the spider, which records them as failures.
HTTPERROR_ALLOW_ALL = True

# The frontier is kept on disk (DIR/state/frontier.db) so that a killed crawl resumes.
DUPEFILTER_CLASS = "crawler.frontier.FrontierDupeFilter"

DOWNLOAD_HANDLERS = {
    "http": "crawler.download_handler.RecordingHTTP11DownloadHandler",
    "https": "crawler.download_handler.RecordingHTTP11DownloadHandler",
    # Only http(s) is ever fetched.
    "file": None,
    "data": None,
    "ftp": None,
    "s3": None,
}

DOWNLOADER_MIDDLEWARES = {
    "scrapy.downloadermiddlewares.offsite.OffsiteMiddleware": None,
    # A request to a host found dead fails first, before anything looks the host up.
    "crawler.host_health.HostHealthMiddleware": 40,
    "crawler.middlewares.scope.ScopeMiddleware": 50,
    "scrapy.downloadermiddlewares.robotstxt.RobotsTxtMiddleware": None,
    "crawler.middlewares.robots.StatusAwareRobotsTxtMiddleware": 100,
    "crawler.middlewares.conditional.ConditionalRequestMiddleware": 120,
    "scrapy.downloadermiddlewares.httpcompression.HttpCompressionMiddleware": None,
    "crawler.middlewares.compression.BoundedDecompressionMiddleware": 590,
    # Scrapy's, except that a page whose <base href> is no URL is still read.
    "scrapy.downloadermiddlewares.redirect.MetaRefreshMiddleware": None,
    "crawler.middlewares.redirects.SafeMetaRefreshMiddleware": 580,
    # Just outside RedirectMiddleware (600): a redirect back into its own chain is a failure.
    "crawler.middlewares.redirects.RedirectLoopMiddleware": 610,
    # Outermost: archives each response as it came off the wire, before any other sees it.
    # It owns the crawl's handle on the archive (see crawler/capture.py).
    "crawler.capture.WarcCapture": 950,
}

EXTENSIONS = {
    "scrapy.extensions.throttle.AutoThrottle": None,
    "crawler.extensions.throttle.PoliteThrottle": 0,
}

# The spider yields failures and extracted articles; these store them (after the capture).
ITEM_PIPELINES = {
    "crawler.item_pipelines.FailurePipeline": 100,
    "crawler.item_pipelines.ArticlePipeline": 300,
}

FEED_EXPORT_ENCODING = "utf-8"
LOG_LEVEL = "INFO"

# The REVIEWARC_* settings are named, defaulted and described once, in crawler/config.py
# (README.md lists them); set them here, with -s or with --set NAME=VALUE.
