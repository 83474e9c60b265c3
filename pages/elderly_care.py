"""养老服务 — layout and indicators in dashboard/topic.py."""

from dashboard import topic

topic.render("elderly_care")
