"""The Pelican peer of `make bench`: settings for the site that bench/peers.py writes.

Projects and organisations are articles (a category each, so each gets a paginated list),
dossiers and pages are pages, and every facet term is a tag with its own paginated page.
"""

SITENAME = "Gegenereerde databank (benchmark)"
SITEURL = ""
FEED_DOMAIN = "https://databank.example.org"
PATH = "content"
ARTICLE_PATHS = ["projecten", "organisaties"]
PAGE_PATHS = ["pages"]
TIMEZONE = "Europe/Amsterdam"
DEFAULT_LANG = "nl"
DEFAULT_DATE = (2013, 1, 1)
DEFAULT_PAGINATION = 20
# dossier writes relative links and pretty URLs.
RELATIVE_URLS = True
ARTICLE_URL = "{category}/{slug}/"
ARTICLE_SAVE_AS = "{category}/{slug}/index.html"
PAGE_URL = "{slug}/"
PAGE_SAVE_AS = "{slug}/index.html"
# One feed of the latest 50, as dossier writes; none per category, tag or author.
FEED_ALL_ATOM = "feed.xml"
FEED_MAX_ITEMS = 50
CATEGORY_FEED_ATOM = None
TRANSLATION_FEED_ATOM = None
AUTHOR_FEED_ATOM = None
AUTHOR_FEED_RSS = None
# Tag and category pages as dossier writes term and list pages: a folder each, later pages
# under pagina/N/. (Pelican's default names page 2 of tag "dossier-20" dossier-202.html,
# which is also page 1 of tag "dossier-202": a 10,000-project corpus has both.)
TAG_URL = "tag/{slug}/"
TAG_SAVE_AS = "tag/{slug}/index.html"
CATEGORY_URL = "{slug}/"
CATEGORY_SAVE_AS = "{slug}/index.html"
PAGINATION_PATTERNS = (
    (1, "{url}", "{save_as}"),
    (2, "{base_name}/pagina/{number}/", "{base_name}/pagina/{number}/index.html"),
)
