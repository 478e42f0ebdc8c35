"""Component ids, one place. Ids of the duty console start with ``duty-`` and those of the
review with ``review-``: the server refuses their callbacks to a browser not signed in with a
role that may open that screen (see ``dashboard.app``)."""

URL = "url"
PAGE = "page"

# wall
WALL_TICK = "wall-tick"
WALL_SLOW = "wall-slow"
WALL_ROTATE = "wall-rotate"
WALL_SEL = "wall-sel"
WALL_VIEW = "wall-view"
WALL_HASH = "wall-hash"
WALL_CRUMB = "wall-crumb"
WALL_HOME = "wall-home"
WALL_UP = "wall-up"
WALL_CLOCK = "wall-clock"
WALL_KPIS = "wall-kpis"
WALL_INDUSTRY = "wall-industry"
WALL_MAP = "wall-map"
WALL_MAP_TITLE = "wall-map-title"
WALL_MODE = "wall-mode"
WALL_TREND = "wall-trend"
WALL_CLOUD = "wall-cloud"
WALL_CLOUD_NOTE = "wall-cloud-note"
WALL_RISING = "wall-rising"
WALL_TICKER = "wall-ticker"
WALL_BANNER = "wall-banner"
WALL_UPDATED = "wall-updated"
WALL_CASES = "wall-cases"              # 办理情况 (dashboard/supervise.py)
WALL_CASES_HASH = "wall-cases-hash"

# duty console
DUTY_TICK = "duty-tick"
DUTY_QUEUE = "duty-queue"
DUTY_SELECTED = "duty-selected"
DUTY_ROW = "duty-row"            # pattern: {"type": DUTY_ROW, "index": alert id}
DUTY_DETAIL = "duty-detail"
DUTY_ACTION = "duty-action"      # pattern: {"type": DUTY_ACTION, "index": action}
DUTY_TEAM = "duty-team"
DUTY_NOTE = "duty-note"
DUTY_RESULT = "duty-result"
DUTY_COMPLAINTS = "duty-complaints"
DUTY_KNOWN = "duty-known"
DUTY_SOUND = "duty-sound"
DUTY_COUNT = "duty-count"
DUTY_SHOW = "duty-show"
DUTY_VERSION = "duty-version"
DUTY_STATE = "duty-state"          # filters: state (open/closed/all), severity, district, industry
DUTY_SEVERITY = "duty-severity"
DUTY_DISTRICT = "duty-district"
DUTY_INDUSTRY = "duty-industry"
DUTY_CHART = "duty-chart"          # the selected alert's series
DUTY_CHART_BOX = "duty-chart-box"
DUTY_SELECTED_ONLY = "duty-selected-only"
DUTY_DESELECT = "duty-deselect"
DUTY_URL_SINK = "duty-url-sink"
DUTY_SIL_LIST = "duty-silence-list"
DUTY_SIL_HASH = "duty-silence-hash"
DUTY_SIL_VERSION = "duty-silence-version"
DUTY_SIL_DISTRICT = "duty-silence-district"
DUTY_SIL_INDUSTRY = "duty-silence-industry"
DUTY_SIL_UNTIL = "duty-silence-until"
DUTY_SIL_REASON = "duty-silence-reason"
DUTY_SIL_ADD = "duty-silence-add"
DUTY_SIL_LIFT = "duty-silence-lift"    # pattern: {"type": DUTY_SIL_LIFT, "index": silence id}
DUTY_SIL_RESULT = "duty-silence-result"
DUTY_DUE = "duty-due"                  # 督办 list (dashboard/supervise.py)
DUTY_DUE_TICK = "duty-due-tick"

# review
REVIEW_PERIOD = "review-period"
REVIEW_DATE = "review-date"
REVIEW_RANGE = "review-range"
REVIEW_DISTRICT = "review-district"
REVIEW_INDUSTRY = "review-industry"
REVIEW_TITLE = "review-title"
REVIEW_COMPARE = "review-compare"
REVIEW_CLOUD = "review-cloud"
REVIEW_PHRASES = "review-phrases"
REVIEW_MERCHANTS = "review-merchants"
REVIEW_DISTRICTS = "review-districts"
REVIEW_INDUSTRIES = "review-industries"
REVIEW_ALERTS = "review-alerts"
REVIEW_SLA = "review-sla"
REVIEW_EXPORT_PNG = "review-export-png"
REVIEW_EXPORT_XLSX = "review-export-xlsx"
REVIEW_EXPORT_CSV = "review-export-csv"
REVIEW_REPORT_MONTH = "review-report-month"
REVIEW_REPORT_QUARTER = "review-report-quarter"
REVIEW_DOWNLOAD = "review-download"
REVIEW_STATUS = "review-status"
REVIEW_HANDLING = "review-handling"    # 办理情况

# Dash's own words in Chinese: every dcc.Dropdown gets labels=DROPDOWN_LABELS (its search box,
# "select all", "no options" ...), every date picker month_format=MONTH_FORMAT (the months and
# weekdays come from the zh-CN locale in assets/datefns-zh-cn.js).
DROPDOWN_LABELS = {"select_all": "全选", "deselect_all": "全不选", "selected_count": "已选 {num_selected} 项",
                   "search": "搜索", "clear_search": "清除搜索", "clear_selection": "清除选择",
                   "no_options_found": "无匹配选项"}
MONTH_FORMAT = "YYYY年M月"
