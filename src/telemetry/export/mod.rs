//! Exporters: the lab's telemetry written in the formats real tools read.
//! OpenMetrics text for metrics (what `promtool tsdb create-blocks-from
//! openmetrics` backfills), OTLP/JSON for traces, metrics and logs (what an
//! OpenTelemetry Collector accepts), JSON lines for logs and folded stacks
//! for profiles. Everything here is pure: it reads a [`Telemetry`] and
//! returns text, so the browser can offer the same files as downloads.

pub mod folded;
pub mod jsonl;
pub mod openmetrics;
pub mod otlp;

use crate::store::Telemetry;

/// One export file: its conventional name and how to render it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ExportKind {
    /// `metrics.om`: OpenMetrics text with timestamps and exemplars.
    OpenMetrics,
    /// `traces.otlp.json`: an OTLP `ExportTraceServiceRequest` as JSON.
    OtlpTraces,
    /// `metrics.otlp.json`: an OTLP `ExportMetricsServiceRequest` as JSON.
    OtlpMetrics,
    /// `logs.otlp.json`: an OTLP `ExportLogsServiceRequest` as JSON.
    OtlpLogs,
    /// `logs.jsonl`: one JSON object per log line.
    LogsJsonl,
    /// `profiles.folded`: CPU samples as folded stacks.
    ProfilesFolded,
}

impl ExportKind {
    /// Every export, in the order `obslab export` writes them.
    pub const ALL: [ExportKind; 6] = [
        ExportKind::OpenMetrics,
        ExportKind::OtlpTraces,
        ExportKind::OtlpMetrics,
        ExportKind::OtlpLogs,
        ExportKind::LogsJsonl,
        ExportKind::ProfilesFolded,
    ];

    pub fn file_name(self) -> &'static str {
        match self {
            ExportKind::OpenMetrics => "metrics.om",
            ExportKind::OtlpTraces => "traces.otlp.json",
            ExportKind::OtlpMetrics => "metrics.otlp.json",
            ExportKind::OtlpLogs => "logs.otlp.json",
            ExportKind::LogsJsonl => "logs.jsonl",
            ExportKind::ProfilesFolded => "profiles.folded",
        }
    }

    /// The MIME type a browser download should carry.
    pub fn media_type(self) -> &'static str {
        match self {
            ExportKind::OpenMetrics => "application/openmetrics-text; version=1.0.0; charset=utf-8",
            ExportKind::OtlpTraces | ExportKind::OtlpMetrics | ExportKind::OtlpLogs => "application/json",
            ExportKind::LogsJsonl => "application/x-ndjson",
            ExportKind::ProfilesFolded => "text/plain; charset=utf-8",
        }
    }

    pub fn render(self, tel: &Telemetry) -> String {
        match self {
            ExportKind::OpenMetrics => openmetrics::render(tel),
            ExportKind::OtlpTraces => otlp::traces(tel),
            ExportKind::OtlpMetrics => otlp::metrics(tel),
            ExportKind::OtlpLogs => otlp::logs(tel),
            ExportKind::LogsJsonl => jsonl::logs(tel),
            ExportKind::ProfilesFolded => folded::profiles(tel),
        }
    }
}
