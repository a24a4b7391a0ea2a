//! The review cycle of "who is my customer": review history (who and when), in-app
//! notifications to the owning unit when a relation falls due, and webhooks.

use kohtaamo_domain::model::RelationData;
use kohtaamo_domain::{FieldErrors, Id};
use serde::Serialize;
use sqlx::Row;

use crate::entity::{self, Record};
use crate::{now_text, Result, Store, StoreError};

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Review {
    pub reviewed_on: String,
    pub recorded_at: String,
    pub username: Option<String>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Notification {
    pub id: Id,
    pub workspace_id: Id,
    pub unit_id: Option<Id>,
    pub relation_id: Id,
    pub kind: String,
    /// The date the review fell due ('' for a relation never reviewed).
    pub due_on: String,
    pub created_at: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Webhook {
    pub id: Id,
    pub url: String,
    #[serde(skip)]
    pub secret: String,
    /// Events taken beyond the default ones (`encounters`).
    pub events: Vec<String>,
    pub created_at: String,
}

fn notification(r: &sqlx::any::AnyRow) -> Result<Notification> {
    Ok(Notification {
        id: r.try_get("id")?,
        workspace_id: r.try_get("workspace_id")?,
        unit_id: r.try_get("unit_id")?,
        relation_id: r.try_get("relation_id")?,
        kind: r.try_get("kind")?,
        due_on: r.try_get("due_on")?,
        created_at: r.try_get("created_at")?,
    })
}

impl Store {
    /// Marks a relation reviewed on `on` by `user`, and records it in the history.
    pub async fn mark_reviewed(
        &self,
        ws: Id,
        id: Id,
        user: Option<Id>,
        on: chrono::NaiveDate,
    ) -> Result<Record<RelationData>> {
        let (_gate, mut tx) = self.write().await?;
        let r = async {
            let mut rel = entity::get::<RelationData>(&mut tx, ws, id).await?.data;
            rel.last_reviewed_on = Some(on);
            entity::update(&mut tx, ws, id, &rel).await?;
            sqlx::query("INSERT INTO relation_reviews (workspace_id, relation_id, user_id, reviewed_on, recorded_at) VALUES ($1, $2, $3, $4, $5)")
                .bind(ws)
                .bind(id)
                .bind(user)
                .bind(on.to_string())
                .bind(now_text())
                .execute(&mut *tx)
                .await?;
            entity::get::<RelationData>(&mut tx, ws, id).await
        }
        .await;
        self.finish(tx, r).await
    }

    /// Who reviewed a relation and when, newest first.
    pub async fn reviews(&self, ws: Id, relation: Id) -> Result<Vec<Review>> {
        let rows = sqlx::query(
            "SELECT r.reviewed_on, r.recorded_at, u.username FROM relation_reviews r LEFT JOIN users u ON u.id = r.user_id \
             WHERE r.workspace_id = $1 AND r.relation_id = $2 ORDER BY r.id DESC",
        )
        .bind(ws)
        .bind(relation)
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| {
                Ok(Review {
                    reviewed_on: r.try_get("reviewed_on")?,
                    recorded_at: r.try_get("recorded_at")?,
                    username: r.try_get("username")?,
                })
            })
            .collect()
    }

    /// One pass of the review job over every workspace: each relation whose review is
    /// due on `today` gets one `review_due` notification for its providing unit (a
    /// person's relations notify their unit). Returns only the notifications this call
    /// created; running it again, or on another instance at the same time, creates none
    /// (the unique key and `ON CONFLICT DO NOTHING` decide).
    pub async fn run_review_cycle(&self, today: chrono::NaiveDate) -> Result<Vec<Notification>> {
        let (_gate, mut tx) = self.write().await?;
        let r = async {
            let due = sqlx::query(
                "SELECT r.id, r.workspace_id, COALESCE(r.provider_unit_id, p.unit_id) AS unit_id, r.review_due_on \
                 FROM relations r LEFT JOIN people p ON p.id = r.provider_person_id WHERE r.review_due_on < $1 ORDER BY r.id",
            )
            .bind(today.to_string())
            .fetch_all(&mut *tx)
            .await?;
            let mut created = vec![];
            for row in &due {
                let inserted = sqlx::query(
                    "INSERT INTO notifications (workspace_id, unit_id, relation_id, kind, due_on, created_at) VALUES ($1, $2, $3, 'review_due', $4, $5) \
                     ON CONFLICT DO NOTHING RETURNING id, workspace_id, unit_id, relation_id, kind, due_on, created_at",
                )
                .bind(row.try_get::<i64, _>("workspace_id")?)
                .bind(row.try_get::<Option<i64>, _>("unit_id")?)
                .bind(row.try_get::<i64, _>("id")?)
                .bind(row.try_get::<String, _>("review_due_on")?)
                .bind(now_text())
                .fetch_optional(&mut *tx)
                .await?;
                if let Some(n) = inserted {
                    created.push(notification(&n)?);
                }
            }
            Ok(created)
        }
        .await;
        self.finish(tx, r).await
    }

    /// Notifications of a workspace, optionally of one unit, newest first.
    pub async fn notifications(&self, ws: Id, unit: Option<Id>) -> Result<Vec<Notification>> {
        let rows = sqlx::query(
            "SELECT id, workspace_id, unit_id, relation_id, kind, due_on, created_at FROM notifications \
             WHERE workspace_id = $1 AND ($2 = 0 OR unit_id = $2) ORDER BY id DESC",
        )
        .bind(ws)
        .bind(unit.unwrap_or(0))
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(notification).collect()
    }

    /// Adds a webhook taking the default events and `events` (opt-in ones).
    pub async fn add_webhook(
        &self,
        ws: Id,
        url: &str,
        secret: &str,
        events: &[&str],
    ) -> Result<Id> {
        let mut e = FieldErrors::new();
        if !(url.starts_with("http://") || url.starts_with("https://")) || url.len() > 2000 {
            e.add("url", "must be an http:// or https:// address");
        }
        if secret.len() < 16 {
            e.add("secret", "must be at least 16 characters");
        }
        if !e.is_empty() {
            return Err(StoreError::Invalid(e));
        }
        let (_gate, mut tx) = self.write().await?;
        let r = sqlx::query_scalar("INSERT INTO webhooks (workspace_id, url, secret, created_at, events) VALUES ($1, $2, $3, $4, $5) RETURNING id")
            .bind(ws)
            .bind(url)
            .bind(secret)
            .bind(now_text())
            .bind(events.join(","))
            .fetch_one(&mut *tx)
            .await
            .map_err(StoreError::from);
        let id = self.finish(tx, r).await?;
        self.bump();
        Ok(id)
    }

    pub async fn webhooks(&self, ws: Id) -> Result<Vec<Webhook>> {
        let rows = sqlx::query(
            "SELECT id, url, secret, created_at, events FROM webhooks WHERE workspace_id = $1 ORDER BY id",
        )
        .bind(ws)
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| {
                Ok(Webhook {
                    id: r.try_get("id")?,
                    url: r.try_get("url")?,
                    secret: r.try_get("secret")?,
                    events: r
                        .try_get::<String, _>("events")?
                        .split(',')
                        .filter(|e| !e.is_empty())
                        .map(str::to_owned)
                        .collect(),
                    created_at: r.try_get("created_at")?,
                })
            })
            .collect()
    }

    pub async fn delete_webhook(&self, ws: Id, id: Id) -> Result<()> {
        let (_gate, mut tx) = self.write().await?;
        let r = sqlx::query("DELETE FROM webhooks WHERE workspace_id = $1 AND id = $2")
            .bind(ws)
            .bind(id)
            .execute(&mut *tx)
            .await
            .map_err(StoreError::from);
        let r = self.finish(tx, r).await?;
        if r.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        self.bump();
        Ok(())
    }
}
