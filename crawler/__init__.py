"""The Scrapy project: settings, spiders, and the pure parsers under `crawler.parsers`."""
