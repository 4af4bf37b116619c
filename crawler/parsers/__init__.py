"""Pure parsers: one page (HTML, URL) in, one record dict out (docs/record.md).

No Scrapy, no database: these run offline, in tests, in `cwarchive parse` and in
`cwarchive reparse` alike.
"""

from crawler.parsers.errors import PageError
from crawler.parsers.page import parse_page

# Bump whenever any record field can come out differently for the same page.
PARSER_VERSION = "3"

__all__ = ["PARSER_VERSION", "PageError", "parse_page"]
