//! The collector's whole HTTP surface: the API and the pages on one router,
//! with HSTS under TLS.

use std::sync::Arc;

use axum::Router;
use axum::extract::State;
use axum::http::header;
use axum::response::Response;

use crate::state::AppState;

pub fn router(state: Arc<AppState>) -> Router {
    crate::api::routes()
        .merge(crate::web::routes())
        .layer(axum::middleware::map_response_with_state(
            Arc::clone(&state),
            strict_transport,
        ))
        .with_state(state)
}

/// Under TLS, browsers are told to use nothing else for this site.
async fn strict_transport(State(state): State<Arc<AppState>>, mut response: Response) -> Response {
    if state.secure_cookies {
        response.headers_mut().insert(
            header::STRICT_TRANSPORT_SECURITY,
            axum::http::HeaderValue::from_static("max-age=31536000"),
        );
    }
    response
}
