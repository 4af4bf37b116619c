"""cwarchive: the command line that orchestrates crawler, parsers and storage."""
