"""`python -m cwarchive ...`: the same command as the `cwarchive` script."""

from cwarchive.cli import run

run()
