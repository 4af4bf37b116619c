"""Scrapy item pipelines: validate, normalize, de-duplicate, persist."""
