//! A query error as the CLI prints it: the query, a caret line under the
//! part it is about, and the sentence; announced to screen readers. Errors
//! about the whole query (evaluation, limits) are the sentence alone.

use crate::query::diag::{render_error, ErrorKind, QueryError};
use leptos::prelude::*;

#[component]
pub fn QueryErrorView(query: String, error: QueryError) -> impl IntoView {
    let text = match error.kind {
        ErrorKind::Parse | ErrorKind::Unsupported { .. } => render_error(&query, &error),
        ErrorKind::Limit => format!("Over a limit: {}", error.message),
        ErrorKind::Eval => format!("The query failed: {}", error.message),
    };
    view! { <pre class="query-error" role="alert" data-testid="query-error">{text}</pre> }
}
