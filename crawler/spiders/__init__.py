"""Spiders: navigation only; extraction lives in crawler.parsers."""
