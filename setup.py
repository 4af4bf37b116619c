"""Only for `scrapyd-deploy`, which builds its egg with `python setup.py` and writes a
setup.py of its own (every package, no package data) where there is none. The project
is described in pyproject.toml; `setup()` reads it from there (migrations included)."""

from setuptools import setup

setup()
