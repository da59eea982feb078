from typing import Literal

ReportSummaryGroupBy = Literal["agent", "channel", "inbox", "label", "team"]

REPORT_SUMMARY_GROUP_BY_VALUES: set[ReportSummaryGroupBy] = {
    "agent",
    "channel",
    "inbox",
    "label",
    "team",
}


def check_report_summary_group_by(value: str) -> ReportSummaryGroupBy:
    if value in REPORT_SUMMARY_GROUP_BY_VALUES:
        return value
    raise TypeError(f"Unexpected value {value!r}. Expected one of {REPORT_SUMMARY_GROUP_BY_VALUES!r}")
