//! A thin layer over octocrab's raw requests: JSON in and out, `Link` pagination, and bounded
//! retries that honour `Retry-After`, `x-ratelimit-reset`, secondary rate limits and 5xx.
//!
//! Why octocrab's raw calls and not its typed ones (`issues().create_comment(…)`): every call
//! must go through the same retry, redirect (same host, GET only) and token-masking rules,
//! which the typed calls do not let us apply; and the answers are read into the few fields we
//! use (`models`), so a GitHub Enterprise server that leaves out a field octocrab's models
//! require is still understood.

use std::time::Duration;

use http::{HeaderMap, Method};
use octocrab::Octocrab;
use serde_json::Value;

/// The longest we wait for a rate limit to lift before giving up (a publish step must not hang).
pub const MAX_WAIT: Duration = Duration::from_secs(60);

/// How many times a request is retried.
pub const MAX_RETRIES: u32 = 3;

/// Why a request failed.
#[derive(Debug, Clone, thiserror::Error)]
pub enum ApiError {
    /// GitHub answered with an error status.
    #[error("{method} {path}: HTTP {status}: {message}")]
    Status {
        /// Method.
        method: String,
        /// Path (no host, never a token).
        path: String,
        /// HTTP status.
        status: u16,
        /// GitHub's `message`.
        message: String,
    },
    /// No answer (connection, TLS, timeout).
    #[error("{method} {path}: {message}")]
    Transport {
        /// Method.
        method: String,
        /// Path.
        path: String,
        /// What happened.
        message: String,
    },
    /// A redirect that is not followed: any answer to a request that changes something, or one
    /// to another host (the token would go with it).
    #[error(
        "{method} {path}: HTTP {status} redirect to {to} not followed (cargo-gate follows redirects of GET requests within the API's own host only)"
    )]
    Redirect {
        /// Method.
        method: String,
        /// Path.
        path: String,
        /// HTTP status.
        status: u16,
        /// Where it pointed (control characters removed).
        to: String,
    },
    /// GitHub answered, but not with what its API documents (a field missing or of the wrong
    /// type): nothing is done with a made-up value.
    #[error("{what}: unexpected answer from GitHub: {message}")]
    Unexpected {
        /// What the answer was for.
        what: String,
        /// What is wrong with it.
        message: String,
    },
}

impl ApiError {
    /// The HTTP status, if GitHub answered with an error.
    pub fn status(&self) -> Option<u16> {
        match self {
            ApiError::Status { status, .. } => Some(*status),
            ApiError::Redirect { status, .. } => Some(*status),
            ApiError::Transport { .. } | ApiError::Unexpected { .. } => None,
        }
    }
}

/// Reads a JSON value as one of the typed models below; `what` names it in the error.
pub fn decode<T: serde::de::DeserializeOwned>(value: &Value, what: &str) -> Result<T, ApiError> {
    T::deserialize(value).map_err(|e| ApiError::Unexpected {
        what: what.to_string(),
        message: e.to_string(),
    })
}

/// The fields of GitHub's answers that cargo-gate uses, typed: a missing one is an error with
/// context, never a default.
pub mod models {
    use serde::Deserialize;

    /// A user (`/user`, a comment's author).
    #[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
    pub struct User {
        /// The login.
        pub login: String,
    }

    /// An issue (PR) comment.
    #[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
    pub struct IssueComment {
        /// REST id.
        pub id: u64,
        /// GraphQL id (for hiding it).
        #[serde(default)]
        pub node_id: Option<String>,
        /// The author; `null` for a deleted account.
        #[serde(default)]
        pub user: Option<User>,
        /// The text.
        #[serde(default)]
        pub body: Option<String>,
    }

    /// An issue, as the issue list gives it (pull requests are in that list too).
    #[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
    pub struct Issue {
        /// Its number.
        pub number: u64,
        /// Who opened it; `null` for a deleted account.
        #[serde(default)]
        pub user: Option<User>,
        /// The text.
        #[serde(default)]
        pub body: Option<String>,
        /// Set when the "issue" is a pull request.
        #[serde(default)]
        pub pull_request: Option<serde_json::Value>,
    }

    /// A created issue.
    #[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
    pub struct CreatedIssue {
        /// Its number.
        pub number: u64,
    }

    /// A created resource: a comment or a check run.
    #[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
    pub struct Created {
        /// Its id.
        pub id: u64,
    }

    /// A pull request.
    #[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
    pub struct PullRequest {
        /// Its head.
        pub head: Head,
    }

    /// A pull request's head.
    #[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
    pub struct Head {
        /// The commit.
        pub sha: String,
    }
}

/// A JSON answer.
#[derive(Debug)]
pub struct Response {
    /// HTTP status.
    pub status: u16,
    /// Headers.
    pub headers: HeaderMap,
    /// Parsed body (`Null` when empty or not JSON).
    pub body: Value,
}

/// A GitHub REST client rooted at an API URL.
pub struct Api {
    octo: Octocrab,
    backoff: Duration,
    /// `scheme://host[:port]` of the API: the only place a redirect may lead.
    origin: String,
    /// The token, to mask wherever an answer echoes it (never shown, never stored elsewhere).
    secret: Option<String>,
}

/// Redirects followed for one GET at most.
const MAX_REDIRECTS: u32 = 5;

impl Api {
    /// A client for `api_url` (GHES works: its `/api/v3` path is kept) with an optional token.
    /// `backoff` is the first wait after a 5xx; it doubles on each retry.
    pub fn new(api_url: &str, token: Option<&str>, backoff: Duration) -> Result<Api, String> {
        let mut builder = Octocrab::builder()
            .base_uri(api_url)
            .map_err(|e| format!("invalid GitHub API URL `{api_url}`: {e}"))?
            .add_header(
                http::header::ACCEPT,
                "application/vnd.github+json".to_string(),
            )
            .add_header(
                http::header::HeaderName::from_static("x-github-api-version"),
                "2022-11-28".to_string(),
            )
            .set_connect_timeout(Some(Duration::from_secs(10)))
            .set_read_timeout(Some(Duration::from_secs(30)));
        if let Some(t) = token {
            builder = builder.personal_token(t.to_string());
        }
        let octo = builder
            .build()
            .map_err(|e| format!("cannot create the GitHub client: {e}"))?;
        let origin = api_url
            .parse::<http::Uri>()
            .ok()
            .and_then(|u| Some(format!("{}://{}", u.scheme_str()?, u.authority()?)))
            .ok_or_else(|| format!("invalid GitHub API URL `{api_url}`: no scheme or host"))?;
        Ok(Api {
            octo,
            backoff,
            origin,
            secret: token.map(str::to_string),
        })
    }

    /// Sends a request, retrying what GitHub says is temporary.
    pub async fn request(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
    ) -> Result<Response, ApiError> {
        let shown = display_path(path);
        let mut attempt = 0;
        let mut target = path.to_string();
        let mut redirects = 0;
        loop {
            let path = target.as_str();
            let sent = match method {
                Method::GET => self.octo._get(path).await,
                Method::POST => self.octo._post(path, body).await,
                Method::PATCH => self.octo._patch(path, body).await,
                Method::DELETE => self.octo._delete(path, body).await,
                _ => self.octo._put(path, body).await,
            };
            let response = match sent {
                Ok(r) => r,
                Err(e) => {
                    if attempt < MAX_RETRIES {
                        tokio::time::sleep(self.backoff * 2u32.pow(attempt)).await;
                        attempt += 1;
                        continue;
                    }
                    return Err(ApiError::Transport {
                        method: method.to_string(),
                        path: shown,
                        message: self.masked(&e.to_string()),
                    });
                }
            };
            let status = response.status().as_u16();
            let headers = response.headers().clone();
            if (300..400).contains(&status) && status != 304 {
                let location = headers
                    .get(http::header::LOCATION)
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("");
                match self.within_origin(location) {
                    Some(next) if method == Method::GET && redirects < MAX_REDIRECTS => {
                        redirects += 1;
                        target = next;
                        continue;
                    }
                    _ => return Err(self.refused_redirect(&method, shown, status, location)),
                }
            }
            let text = self.octo.body_to_string(response).await.unwrap_or_default();
            let json: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
            if (200..300).contains(&status) {
                return Ok(Response {
                    status,
                    headers,
                    body: json,
                });
            }
            // Masked before it is cut: a cut could leave part of the token unrecognised.
            let text = self.masked(&text);
            let message = json["message"]
                .as_str()
                .map_or_else(|| text.chars().take(200).collect(), |m| self.masked(m));
            let wait = retry_wait(
                status,
                &headers,
                &message,
                self.backoff,
                attempt,
                now_epoch(),
            );
            match wait {
                Some(w) if attempt < MAX_RETRIES && w <= MAX_WAIT => {
                    tokio::time::sleep(w).await;
                    attempt += 1;
                }
                _ => {
                    return Err(ApiError::Status {
                        method: method.to_string(),
                        path: shown,
                        status,
                        message,
                    });
                }
            }
        }
    }

    /// A redirect not followed: to another host, too many, or of a request that changes
    /// something.
    fn refused_redirect(
        &self,
        method: &Method,
        path: String,
        status: u16,
        location: &str,
    ) -> ApiError {
        let to: String = crate::util::sanitize::strip_controls(location, false)
            .chars()
            .take(200)
            .collect();
        ApiError::Redirect {
            method: method.to_string(),
            path,
            status,
            to: if to.is_empty() {
                "nowhere".into()
            } else {
                self.masked(&to)
            },
        }
    }

    /// `text` with the token masked.
    fn masked(&self, text: &str) -> String {
        crate::util::sanitize::mask(text, self.secret.as_deref()).into_owned()
    }

    /// `location` as an absolute URL if it stays on the API's own scheme, host and port.
    fn within_origin(&self, location: &str) -> Option<String> {
        if location.starts_with('/') && !location.starts_with("//") {
            return Some(format!("{}{location}", self.origin));
        }
        let rest = location.strip_prefix(&self.origin)?;
        (rest.is_empty() || rest.starts_with('/')).then(|| location.to_string())
    }

    /// GETs every page of a list, following `Link: <...>; rel="next"`.
    pub async fn get_all(&self, path: &str) -> Result<Vec<Value>, ApiError> {
        let mut items = Vec::new();
        let mut next = Some(path.to_string());
        // A bound so a server that links in a circle cannot keep us here.
        let mut pages = 0;
        while let Some(url) = next.take() {
            pages += 1;
            if pages > 1000 {
                break;
            }
            let r = self.request(Method::GET, &url, None).await?;
            match r.body {
                Value::Array(a) => items.extend(a),
                other => items.push(other),
            }
            // A next page on another host would get our token: an error, not a short list
            // (a missing page could hide our own comment and make us post a duplicate).
            next = match r
                .headers
                .get(http::header::LINK)
                .and_then(|v| v.to_str().ok())
                .and_then(next_link)
            {
                None => None,
                Some(link) => {
                    Some(
                        self.within_origin(&link)
                            .ok_or_else(|| ApiError::Unexpected {
                                what: format!("GET {}", display_path(path)),
                                message: "its next page is on another host; not followed"
                                    .to_string(),
                            })?,
                    )
                }
            };
        }
        Ok(items)
    }
}

fn display_path(path: &str) -> String {
    // Absolute `Link` URLs are shown without scheme and host.
    match path.split_once("://") {
        Some((_, rest)) => rest
            .find('/')
            .map_or(path.to_string(), |i| rest[i..].to_string()),
        None => path.to_string(),
    }
}

fn now_epoch() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// How long to wait before retrying, or `None` when the error is not temporary.
pub fn retry_wait(
    status: u16,
    headers: &HeaderMap,
    message: &str,
    backoff: Duration,
    attempt: u32,
    now: u64,
) -> Option<Duration> {
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::trim)
    };
    let retry_after = header("retry-after").and_then(|v| v.parse::<u64>().ok());
    let exponential = backoff * 2u32.saturating_pow(attempt);
    match status {
        500..=599 => Some(retry_after.map_or(exponential, Duration::from_secs)),
        429 | 403 => {
            if let Some(secs) = retry_after {
                return Some(Duration::from_secs(secs));
            }
            if header("x-ratelimit-remaining") == Some("0") {
                let reset = header("x-ratelimit-reset").and_then(|v| v.parse::<u64>().ok())?;
                return Some(Duration::from_secs(reset.saturating_sub(now) + 1));
            }
            if status == 429
                || message
                    .to_ascii_lowercase()
                    .contains("secondary rate limit")
            {
                // GitHub asks for at least a minute when it gives no time.
                return Some(Duration::from_secs(60));
            }
            None
        }
        _ => None,
    }
}

/// The `rel="next"` URL of a `Link` header.
pub fn next_link(header: &str) -> Option<String> {
    header.split(',').find_map(|part| {
        let (url, params) = part.split_once(';')?;
        params
            .split(';')
            .any(|p| p.trim() == "rel=\"next\"")
            .then(|| {
                url.trim()
                    .trim_start_matches('<')
                    .trim_end_matches('>')
                    .to_string()
            })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, v.parse().unwrap());
        }
        h
    }

    #[test]
    fn parses_link_headers() {
        let h = r#"<https://api.github.com/repos/a/b/issues/1/comments?page=2>; rel="next", <https://api.github.com/repos/a/b/issues/1/comments?page=3>; rel="last""#;
        assert_eq!(
            next_link(h).as_deref(),
            Some("https://api.github.com/repos/a/b/issues/1/comments?page=2")
        );
        assert_eq!(next_link(r#"<https://x/?page=1>; rel="prev""#), None);
    }

    #[test]
    fn waits_for_what_github_asks() {
        let b = Duration::from_millis(100);
        assert_eq!(retry_wait(502, &HeaderMap::new(), "", b, 0, 0), Some(b));
        assert_eq!(retry_wait(503, &HeaderMap::new(), "", b, 2, 0), Some(b * 4));
        assert_eq!(
            retry_wait(429, &headers(&[("retry-after", "7")]), "", b, 0, 0),
            Some(Duration::from_secs(7))
        );
        assert_eq!(
            retry_wait(
                403,
                &headers(&[("retry-after", "2")]),
                "You have exceeded a secondary rate limit",
                b,
                0,
                0
            ),
            Some(Duration::from_secs(2))
        );
        assert_eq!(
            retry_wait(
                403,
                &headers(&[
                    ("x-ratelimit-remaining", "0"),
                    ("x-ratelimit-reset", "1010")
                ]),
                "API rate limit exceeded",
                b,
                0,
                1000
            ),
            Some(Duration::from_secs(11))
        );
        assert_eq!(
            retry_wait(403, &HeaderMap::new(), "secondary rate limit", b, 0, 0),
            Some(Duration::from_secs(60))
        );
        assert_eq!(
            retry_wait(
                403,
                &HeaderMap::new(),
                "Resource not accessible by integration",
                b,
                0,
                0
            ),
            None
        );
        assert_eq!(
            retry_wait(404, &HeaderMap::new(), "Not Found", b, 0, 0),
            None
        );
        assert_eq!(
            retry_wait(422, &HeaderMap::new(), "Validation Failed", b, 0, 0),
            None
        );
    }

    #[test]
    fn paths_are_shown_without_host() {
        assert_eq!(
            display_path("https://api.github.com/repos/a/b?page=2"),
            "/repos/a/b?page=2"
        );
        assert_eq!(display_path("/repos/a/b"), "/repos/a/b");
    }
}
