"""慈善事业 — layout and indicators in dashboard/topic.py."""

from dashboard import topic

topic.render("charity")
