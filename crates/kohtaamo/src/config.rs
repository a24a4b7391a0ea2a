//! Configuration: defaults → TOML file → `KOHTAAMO_*` environment → command-line flags.
//! Secrets (database URL with password, admin password) never appear in `Debug`.

use std::path::{Path, PathBuf};

use figment::providers::{Env, Format, Serialized, Toml};
use figment::Figment;
use serde::{Deserialize, Serialize};

#[derive(Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Address to listen on.
    pub bind: String,
    /// Where the SQLite database (and other local files) live.
    pub data_dir: PathBuf,
    /// `postgres://…` for PostgreSQL, or `sqlite://…`; absent → SQLite in `data_dir`.
    pub database_url: Option<String>,
    /// Create the demo workspace on start (once).
    pub demo: bool,
    /// `text` or `json` logs.
    pub log_format: String,
    /// Mark cookies Secure (set when behind HTTPS).
    pub secure_cookies: bool,
    pub session_ttl_hours: i64,
    pub login_per_minute_account: u32,
    pub login_per_minute_ip: u32,
    /// Largest JSON body in bytes.
    pub body_limit: usize,
    /// Minutes between runs of the review-cycle job (0: off).
    pub review_cycle_minutes: u64,
    /// Minutes between evaluations of the score alert rules (0: off).
    pub alert_cycle_minutes: u64,
    /// Address respondents use for survey links and QR codes (e.g.
    /// `https://palaute.example.fi`); empty → the request's host when it is a loopback
    /// address (a local demo), else `http://localhost` with a warning on the pages.
    pub public_url: Option<String>,
    /// Most responses written in one transaction (group commit); 1 = one transaction
    /// per response.
    pub ingest_batch_max: usize,
    /// Public feedback posts per minute per client address (0: unlimited).
    pub feedback_per_minute_ip: u32,
    /// Public feedback posts per minute per survey (0: unlimited).
    pub feedback_per_minute_survey: u32,
    /// Seconds a person needs at least to fill the survey page (0: no check).
    pub feedback_min_fill_seconds: u64,
    /// Internal hosts webhooks may reach, comma-separated (names or addresses); other
    /// loopback, private and link-local targets are refused.
    pub webhook_allowed_hosts: String,
    /// Seconds a client has to send a request's headers.
    pub header_timeout_seconds: u64,
    /// Seconds a request may take, its body included (408 after).
    pub request_timeout_seconds: u64,
    /// Seconds a request waits for a report being computed (journey mining) before
    /// it answers "being computed" (or with the last report that may stand in); kept
    /// below `request_timeout_seconds`.
    pub report_wait_seconds: u64,
    /// Most client connections open at once (more wait to be accepted).
    pub max_connections: usize,
    /// Seconds requests in flight get after SIGTERM before the server stops anyway.
    pub shutdown_grace_seconds: u64,
    /// Minutes between passes of the follow-up clock (escalations; 0: off).
    pub follow_up_cycle_minutes: u64,
    /// Seconds between passes of the mail job (sending queued e-mail; 0: off).
    pub mail_cycle_seconds: u64,
    /// Minutes between passes of retention (every workspace's periods; 0: off).
    pub retention_cycle_minutes: u64,
    /// Seconds between passes of the journey-mining rollups (0: off; a read of a
    /// journey's flow still brings them up to date).
    pub mining_cycle_seconds: u64,
    /// Minutes between passes that keep the default journey-mining report computed for
    /// every journey and language asked for on this instance (0: off; a report is then
    /// computed when asked for).
    pub mining_report_cycle_minutes: u64,
    /// SMTP server for e-mail (notifications, recovery surveys); empty: e-mail is off.
    pub smtp_host: String,
    /// Its port (587 for STARTTLS, 465 for TLS).
    pub smtp_port: u16,
    /// `starttls` (default), `tls`, or `none` (only to a server on this machine).
    pub smtp_security: String,
    pub smtp_username: Option<String>,
    pub smtp_password: Option<String>,
    /// The sender, e.g. `Kohtaamo <kohtaamo@example.fi>`.
    pub smtp_from: String,
    /// Seconds to wait for the SMTP server on one message.
    pub smtp_timeout_seconds: u64,
}

impl Default for Config {
    fn default() -> Self {
        let http = kohtaamo_http::HttpConfig::default();
        let limits = kohtaamo_http::ServeLimits::default();
        Self {
            bind: "127.0.0.1:8080".into(),
            data_dir: PathBuf::from("./data"),
            database_url: None,
            demo: false,
            log_format: "text".into(),
            secure_cookies: http.secure_cookies,
            session_ttl_hours: http.session_ttl_hours,
            login_per_minute_account: http.login_per_minute_account,
            login_per_minute_ip: http.login_per_minute_ip,
            body_limit: http.body_limit,
            review_cycle_minutes: 60,
            alert_cycle_minutes: 15,
            public_url: None,
            ingest_batch_max: http.feedback.batch_max,
            feedback_per_minute_ip: http.feedback.per_minute_ip,
            feedback_per_minute_survey: http.feedback.per_minute_survey,
            feedback_min_fill_seconds: http.feedback.min_fill_seconds,
            webhook_allowed_hosts: String::new(),
            header_timeout_seconds: limits.header_read_timeout.as_secs(),
            request_timeout_seconds: http.request_timeout.as_secs(),
            report_wait_seconds: http.report_wait.as_secs(),
            max_connections: limits.max_connections,
            shutdown_grace_seconds: limits.shutdown_grace.as_secs(),
            follow_up_cycle_minutes: 5,
            mail_cycle_seconds: 30,
            retention_cycle_minutes: 360,
            mining_cycle_seconds: 60,
            mining_report_cycle_minutes: 60,
            smtp_host: String::new(),
            smtp_port: 587,
            smtp_security: "starttls".into(),
            smtp_username: None,
            smtp_password: None,
            smtp_from: String::new(),
            smtp_timeout_seconds: 30,
        }
    }
}

/// Hides a password inside a URL: `postgres://u:secret@h/db` → `postgres://u:***@h/db`.
pub fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => {
            let creds = &url[s + 3..at];
            match creds.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..s + 3], &url[at..]),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}

impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Config")
            .field("bind", &self.bind)
            .field("data_dir", &self.data_dir)
            .field(
                "database_url",
                &self.database_url.as_deref().map(redact_url),
            )
            .field("demo", &self.demo)
            .field("log_format", &self.log_format)
            .field("secure_cookies", &self.secure_cookies)
            .field("smtp_host", &self.smtp_host)
            .field("smtp_username", &self.smtp_username)
            .finish_non_exhaustive()
    }
}

/// Flags given on the command line; only those present override.
#[derive(Debug, Default, Serialize)]
pub struct Overrides {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bind: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data_dir: Option<PathBuf>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub database_url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub demo: Option<bool>,
}

const ENV_KEYS: &[&str] = &[
    "bind",
    "data_dir",
    "database_url",
    "demo",
    "log_format",
    "secure_cookies",
    "session_ttl_hours",
    "login_per_minute_account",
    "login_per_minute_ip",
    "body_limit",
    "review_cycle_minutes",
    "alert_cycle_minutes",
    "public_url",
    "ingest_batch_max",
    "feedback_per_minute_ip",
    "feedback_per_minute_survey",
    "feedback_min_fill_seconds",
    "webhook_allowed_hosts",
    "header_timeout_seconds",
    "request_timeout_seconds",
    "report_wait_seconds",
    "max_connections",
    "shutdown_grace_seconds",
    "follow_up_cycle_minutes",
    "mail_cycle_seconds",
    "retention_cycle_minutes",
    "mining_cycle_seconds",
    "mining_report_cycle_minutes",
    "smtp_host",
    "smtp_port",
    "smtp_security",
    "smtp_username",
    "smtp_password",
    "smtp_from",
    "smtp_timeout_seconds",
];

impl Config {
    /// Loads the layers. `file`: an explicit `--config`; otherwise `kohtaamo.toml` in
    /// the working directory is read if present.
    pub fn load(file: Option<&Path>, flags: Overrides) -> Result<Self, Box<figment::Error>> {
        let path = file
            .map(Path::to_path_buf)
            .unwrap_or_else(|| PathBuf::from("kohtaamo.toml"));
        if let Some(f) = file {
            if !f.exists() {
                return Err(Box::new(figment::Error::from(format!(
                    "configuration file {} does not exist",
                    f.display()
                ))));
            }
        }
        Figment::from(Serialized::defaults(Config::default()))
            .merge(Toml::file(path))
            .merge(Env::prefixed("KOHTAAMO_").only(ENV_KEYS))
            .merge(Serialized::defaults(flags))
            .extract::<Config>()
            .map_err(Box::new)?
            .checked()
    }

    /// Settings that parse but cannot work are refused at start, naming the setting.
    fn checked(mut self) -> Result<Self, Box<figment::Error>> {
        if let Some(u) = self.public_url.as_deref().filter(|u| !u.is_empty()) {
            let u = kohtaamo_app::links::parse_public_url(u)
                .map_err(|e| Box::new(figment::Error::from(format!("public_url: {e}"))))?;
            self.public_url = Some(u);
        }
        self.mailer()
            .map_err(|e| Box::new(figment::Error::from(e)))?;
        Ok(self)
    }

    /// The SMTP client, or None when no `smtp_host` is set (e-mail off). Errors name
    /// the setting.
    pub fn mailer(&self) -> Result<Option<kohtaamo_app::mail::Mailer>, String> {
        if self.smtp_host.trim().is_empty() {
            return Ok(None);
        }
        let security = kohtaamo_app::mail::Security::parse(&self.smtp_security)
            .map_err(|e| format!("smtp_security: {e}"))?;
        if self.smtp_username.is_some() != self.smtp_password.is_some() {
            return Err("smtp_username and smtp_password: give both or neither".into());
        }
        kohtaamo_app::mail::Mailer::new(&kohtaamo_app::mail::SmtpSettings {
            host: self.smtp_host.trim().to_owned(),
            port: self.smtp_port,
            security,
            username: self.smtp_username.clone(),
            password: self.smtp_password.clone(),
            from: self.smtp_from.clone(),
            timeout: std::time::Duration::from_secs(self.smtp_timeout_seconds.max(1)),
        })
        .map(Some)
    }

    pub fn database_url(&self) -> String {
        self.database_url
            .clone()
            .filter(|s| !s.is_empty())
            .unwrap_or_else(|| {
                format!(
                    "sqlite://{}?mode=rwc",
                    self.data_dir.join("kohtaamo.db").display()
                )
            })
    }

    /// The background jobs of `serve`, each on its configured period (0 minutes: off).
    pub fn scheduler(
        &self,
        store: kohtaamo_storage::Store,
        clock: kohtaamo_app::clock::SharedClock,
    ) -> kohtaamo_app::jobs::Scheduler {
        use kohtaamo_app::jobs::{Job, Scheduler};
        let minutes = |m: u64| std::time::Duration::from_secs(m * 60);
        Scheduler::new(store, clock)
            .targets(self.webhook_targets())
            .mail(
                self.mailer().ok().flatten(),
                self.public_url.clone().filter(|u| !u.is_empty()),
            )
            .every(minutes(self.review_cycle_minutes), Job::REVIEW_CYCLE)
            .every(minutes(self.alert_cycle_minutes), Job::ALERT_CYCLE)
            .every(minutes(self.follow_up_cycle_minutes), Job::FOLLOW_UP_CLOCK)
            .every(minutes(self.retention_cycle_minutes), Job::RETENTION)
            .every(
                std::time::Duration::from_secs(self.mining_cycle_seconds),
                Job::MINING_ROLLUPS,
            )
            .every(
                minutes(self.mining_report_cycle_minutes),
                Job::MINING_REPORTS,
            )
            .every(
                std::time::Duration::from_secs(self.mail_cycle_seconds),
                Job::MAIL,
            )
    }

    /// Which webhook addresses may be registered and reached.
    pub fn webhook_targets(&self) -> kohtaamo_app::jobs::Targets {
        kohtaamo_app::jobs::Targets::allowing(self.webhook_allowed_hosts.split(','))
    }

    /// The listening socket's limits.
    pub fn serve_limits(&self) -> kohtaamo_http::ServeLimits {
        use std::time::Duration;
        kohtaamo_http::ServeLimits {
            header_read_timeout: Duration::from_secs(self.header_timeout_seconds.max(1)),
            max_connections: self.max_connections.max(1),
            shutdown_grace: Duration::from_secs(self.shutdown_grace_seconds),
        }
    }

    pub fn http(&self) -> kohtaamo_http::HttpConfig {
        kohtaamo_http::HttpConfig {
            secure_cookies: self.secure_cookies,
            session_ttl_hours: self.session_ttl_hours,
            login_per_minute_account: self.login_per_minute_account,
            login_per_minute_ip: self.login_per_minute_ip,
            body_limit: self.body_limit,
            request_timeout: std::time::Duration::from_secs(self.request_timeout_seconds.max(1)),
            report_wait: std::time::Duration::from_secs(
                self.report_wait_seconds
                    .min(self.request_timeout_seconds.max(1) - 1),
            ),
            public_url: self.public_url.clone().filter(|u| !u.is_empty()),
            webhook_targets: self.webhook_targets(),
            feedback: kohtaamo_app::feedback::FeedbackConfig {
                batch_max: self.ingest_batch_max,
                per_minute_ip: self.feedback_per_minute_ip,
                per_minute_survey: self.feedback_per_minute_survey,
                min_fill_seconds: self.feedback_min_fill_seconds,
            },
            upload_dir: self.data_dir.join("uploads"),
            mailer: self.mailer().ok().flatten(),
            ..Default::default()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redacts_passwords_in_urls() {
        assert_eq!(
            redact_url("postgres://u:secret@h:5432/db"),
            "postgres://u:***@h:5432/db"
        );
        assert_eq!(redact_url("postgres://u@h/db"), "postgres://u@h/db");
        assert_eq!(redact_url("sqlite://./data/k.db"), "sqlite://./data/k.db");
        let c = Config {
            database_url: Some("postgres://u:hunter2@h/db".into()),
            ..Default::default()
        };
        assert!(!format!("{c:?}").contains("hunter2"));
    }

    #[test]
    // figment's Jail API fixes the closure's error type.
    #[allow(clippy::result_large_err)]
    fn layers_apply_in_order() {
        figment::Jail::expect_with(|jail| {
            jail.create_file(
                "k.toml",
                "bind = \"0.0.0.0:9000\"\ndemo = true\nsession_ttl_hours = 3",
            )?;
            jail.set_env("KOHTAAMO_BIND", "127.0.0.1:9001");
            let c = Config::load(Some(Path::new("k.toml")), Overrides::default())
                .map_err(|e| e.to_string())?;
            assert_eq!(c.bind, "127.0.0.1:9001"); // env beats file
            assert!(c.demo); // file beats default
            assert_eq!(c.session_ttl_hours, 3);
            let c = Config::load(
                Some(Path::new("k.toml")),
                Overrides {
                    bind: Some("127.0.0.1:9002".into()),
                    ..Default::default()
                },
            )
            .map_err(|e| e.to_string())?;
            assert_eq!(c.bind, "127.0.0.1:9002"); // flag beats env
            assert_eq!(c.database_url(), "sqlite://./data/kohtaamo.db?mode=rwc");
            Ok(())
        });
    }
}
