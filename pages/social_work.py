"""社会工作 — layout and indicators in dashboard/topic.py."""

from dashboard import topic

topic.render("social_work")
