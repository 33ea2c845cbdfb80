"""The HTML run report, rewritten after every training iteration."""

from promptgraph.report.html import ReportWriter, write_report
from promptgraph.report.setup import RunSetup

__all__ = ["ReportWriter", "RunSetup", "write_report"]
