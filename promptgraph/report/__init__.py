"""The HTML run report, rewritten after every training iteration."""

from promptgraph.report.html import ReportWriter, write_report

__all__ = ["ReportWriter", "write_report"]
