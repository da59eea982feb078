from typing import Literal

ReportSummaryFormat = Literal["csv", "json"]

REPORT_SUMMARY_FORMAT_VALUES: set[ReportSummaryFormat] = {
    "csv",
    "json",
}


def check_report_summary_format(value: str) -> ReportSummaryFormat:
    if value in REPORT_SUMMARY_FORMAT_VALUES:
        return value
    raise TypeError(f"Unexpected value {value!r}. Expected one of {REPORT_SUMMARY_FORMAT_VALUES!r}")
