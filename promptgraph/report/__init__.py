"""The HTML run report, rewritten after every training iteration."""

from promptgraph.report.html import ReportWriter, write_report
from promptgraph.report.replacing import ReportExists
from promptgraph.report.setup import RunSetup

__all__ = ["ReportExists", "ReportWriter", "RunSetup", "write_report"]
