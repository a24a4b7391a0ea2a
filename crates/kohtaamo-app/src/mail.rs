//! Sending e-mail over SMTP (the `lettre` crate): the settings, checked once at start,
//! and one message sent. What is sent, and when, is the queue's business
//! (`kohtaamo_storage::mail`, drained by [`crate::jobs::mail`]). Without settings e-mail
//! is off: nothing is queued and the pages say so.

use std::time::Duration;

use lettre::message::header::ContentType;
use lettre::message::Mailbox;
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

/// How the connection to the SMTP server is protected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Security {
    /// Plain connection upgraded with STARTTLS (refuses to go on without it): port 587.
    StartTls,
    /// TLS from the first byte (SMTPS): port 465.
    Tls,
    /// No encryption: only to a server on this machine (loopback), as in the tests.
    None,
}

impl Security {
    pub fn parse(s: &str) -> Result<Self, String> {
        match s.trim().to_ascii_lowercase().as_str() {
            "" | "starttls" => Ok(Self::StartTls),
            "tls" => Ok(Self::Tls),
            "none" => Ok(Self::None),
            other => Err(format!("\"{other}\" is not one of starttls, tls, none")),
        }
    }
}

/// Where and how to send.
#[derive(Clone)]
pub struct SmtpSettings {
    pub host: String,
    pub port: u16,
    pub security: Security,
    pub username: Option<String>,
    pub password: Option<String>,
    /// The sender, e.g. `Kohtaamo <kohtaamo@example.fi>`.
    pub from: String,
    /// Longest wait for the server on one message.
    pub timeout: Duration,
}

impl std::fmt::Debug for SmtpSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SmtpSettings")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("security", &self.security)
            .field("username", &self.username)
            .field("from", &self.from)
            .finish_non_exhaustive()
    }
}

/// A configured SMTP client.
#[derive(Clone)]
pub struct Mailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
    /// The SMTP server (a recipient of personal data in the records of processing).
    relay: String,
}

impl std::fmt::Debug for Mailer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Mailer")
            .field("from", &self.from.email.to_string())
            .finish()
    }
}

fn is_loopback(host: &str) -> bool {
    host.eq_ignore_ascii_case("localhost")
        || host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<std::net::IpAddr>()
            .is_ok_and(|a| a.is_loopback())
}

impl Mailer {
    /// Checks the settings (a sender that is an address; no unencrypted connection
    /// except to this machine) and builds the client. Errors name the setting.
    pub fn new(s: &SmtpSettings) -> Result<Self, String> {
        let from: Mailbox = s
            .from
            .parse()
            .map_err(|e| format!("smtp_from: \"{}\" is not an e-mail address ({e})", s.from))?;
        if s.host.trim().is_empty() {
            return Err("smtp_host: empty".into());
        }
        let builder = match s.security {
            Security::StartTls => AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(&s.host)
                .map_err(|e| format!("smtp_host: {e}"))?,
            Security::Tls => AsyncSmtpTransport::<Tokio1Executor>::relay(&s.host)
                .map_err(|e| format!("smtp_host: {e}"))?,
            Security::None => {
                if !is_loopback(&s.host) {
                    return Err(format!(
                        "smtp_security: none sends mail (and any password) unencrypted; allowed only to a server on this machine, not {}",
                        s.host
                    ));
                }
                AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&s.host)
            }
        };
        let mut builder = builder.port(s.port).timeout(Some(s.timeout));
        if let (Some(u), Some(p)) = (&s.username, &s.password) {
            builder = builder.credentials(Credentials::new(u.clone(), p.clone()));
        }
        Ok(Self {
            transport: builder.build(),
            from,
            relay: format!("{}:{}", s.host, s.port),
        })
    }

    /// The SMTP server messages go through (host:port).
    pub fn relay(&self) -> &str {
        &self.relay
    }

    /// Sends one plain-text message; the error says why not (no address in it). With
    /// `unsubscribe` (an https or http address) the message carries `List-Unsubscribe`
    /// and `List-Unsubscribe-Post: List-Unsubscribe=One-Click` (RFC 8058), so mail
    /// programs offer the recipient a one-click way out.
    pub async fn send(
        &self,
        to: &str,
        subject: &str,
        body: &str,
        unsubscribe: Option<&str>,
    ) -> Result<(), String> {
        let to: Mailbox = to
            .parse()
            .map_err(|e| format!("bad recipient address: {e}"))?;
        let message = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(subject)
            .header(ContentType::TEXT_PLAIN);
        let message = match unsubscribe {
            Some(u) if !u.contains(['<', '>', '\r', '\n']) => {
                use lettre::message::header::{HeaderName, HeaderValue};
                message
                    .raw_header(HeaderValue::new(
                        HeaderName::new_from_ascii_str("List-Unsubscribe"),
                        format!("<{u}>"),
                    ))
                    .raw_header(HeaderValue::new(
                        HeaderName::new_from_ascii_str("List-Unsubscribe-Post"),
                        "List-Unsubscribe=One-Click".to_owned(),
                    ))
            }
            _ => message,
        };
        let message = message
            .body(body.to_owned())
            .map_err(|e| format!("message not built: {e}"))?;
        self.transport
            .send(message)
            .await
            .map(|_| ())
            .map_err(|e| format!("SMTP: {e}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(host: &str, security: Security) -> SmtpSettings {
        SmtpSettings {
            host: host.into(),
            port: 2525,
            security,
            username: None,
            password: None,
            from: "Kohtaamo <kohtaamo@example.fi>".into(),
            timeout: Duration::from_secs(5),
        }
    }

    #[test]
    fn settings_are_checked() {
        assert_eq!(Security::parse("STARTTLS"), Ok(Security::StartTls));
        assert!(Security::parse("ssl3").is_err());
        assert!(Mailer::new(&settings("127.0.0.1", Security::None)).is_ok());
        assert!(Mailer::new(&settings("localhost", Security::None)).is_ok());
        let e = Mailer::new(&settings("smtp.example.fi", Security::None)).unwrap_err();
        assert!(e.starts_with("smtp_security"), "{e}");
        let mut bad = settings("smtp.example.fi", Security::StartTls);
        bad.from = "not an address".into();
        assert!(Mailer::new(&bad).unwrap_err().starts_with("smtp_from"));
    }
}
