//! API tests: each starts the real server on 127.0.0.1:0 over a fresh database and
//! drives it with a real HTTP client. The backend is SQLite, or PostgreSQL with
//! `KOHTAAMO_TEST_BACKEND=postgres` (scripts/test runs both).

mod helpers;

mod analytics;
mod auth;
mod cases;
mod encounters;
mod errors;
mod feedback;
mod followups;
mod glance;
mod hardening;
mod mining;
mod model;
mod model_io;
mod onboarding;
mod openapi;
mod privacy;
mod roles;
