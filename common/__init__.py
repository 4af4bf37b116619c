"""What every layer shares: the record's fields and hash rule (`common.record`), the
source's URL rules (`common.urls`) and a pool worker's set-up (`common.worker_process`).

A leaf: it imports none of the project's packages (an import-linter contract in
pyproject.toml), so `crawler`, `pipelines`, `storage` and `cwarchive` may all read it
without forming a cycle.
"""
