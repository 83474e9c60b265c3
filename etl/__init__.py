"""ETL for the civil-affairs dashboard: read county forms, validate, derive, publish a warehouse.

The warehouse (see docs/ARCHITECTURE.md) is the only data the dashboard's pages read; the
dashboard uses this package to load files (数据管理) and for the warehouse's own rules.
"""

import os

from .settings import ENV_NUMPY_HUGEPAGE, numpy_hugepage

# numpy asks the kernel for transparent huge pages for every array of 4 MB or more. Where THP
# defrag is "madvise" (Debian's default), each such first touch may stall on memory compaction:
# a load into the national warehouse spent 0.23–0.29 s of kernel time in assemble alone, and
# 0.12–0.16 s without (median load 1.85 → 1.71 s, `docs/PERFORMANCE.md`). numpy reads the
# variable once, at its import, so this only takes effect where etl is imported first (the
# `python -m etl` commands); an explicit setting wins (etl/settings.py).
os.environ[ENV_NUMPY_HUGEPAGE] = numpy_hugepage()
