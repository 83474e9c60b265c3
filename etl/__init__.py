"""ETL for the civil-affairs dashboard: read county forms, validate, derive, publish a warehouse.

The warehouse (see docs/ARCHITECTURE.md) is the only thing the dashboard reads; nothing in
`dashboard/` imports this package.
"""
