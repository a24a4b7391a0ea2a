//! The model's collections (units, people, partners, segments, relations, channels,
//! elements, packages, journeys, stages, touchpoints, process steps, surveys, alert
//! rules) as the API and the form engine serve them, and model-as-code import and
//! export ("mark reviewed" is in [`crate::units`], with who may do it). Plain CRUD goes through the store's one generic
//! entity path after `…Input::parse`; what has behaviour is here.

use kohtaamo_domain::model::*;
use kohtaamo_domain::Id;
use kohtaamo_storage::model_io::{self, ImportReport};
use kohtaamo_storage::{Entity, Store};
use serde::de::DeserializeOwned;
use utoipa::ToSchema;

use crate::{Error, Result};

/// A collection of the model: its validated data (`Self`), what a client sends
/// (`Input`, validated by `Parse`), its name in addresses (`/api/v1/workspaces/{ws}/{PATH}`,
/// `/w/{ws}/edit/{PATH}`) and the part of the model it belongs to (`TAG`).
pub trait Collection: Entity + ToSchema {
    type Input: Parse<Data = Self> + DeserializeOwned + ToSchema + Send + 'static;
    const PATH: &'static str;
    const TAG: &'static str;

    /// What else changes when a record is updated (a follow-up rule's new targets
    /// apply to the open follow-ups it opened).
    fn after_update(
        _store: &Store,
        _ws: Id,
        _id: Id,
        _data: &Self,
    ) -> impl std::future::Future<Output = Result<()>> + Send {
        async { Ok(()) }
    }
}

/// Updates a record of any collection, with what follows from it.
pub async fn update<R: Collection>(
    store: &Store,
    ws: Id,
    id: Id,
    data: &R,
) -> Result<kohtaamo_storage::Record<R>> {
    let rec = store.update(ws, id, data).await?;
    R::after_update(store, ws, id, data).await?;
    Ok(rec)
}

macro_rules! resource {
    ($data:ty, $input:ty, $path:literal, $tag:literal) => {
        impl Collection for $data {
            type Input = $input;
            const PATH: &'static str = $path;
            const TAG: &'static str = $tag;
        }
    };
}
resource!(UnitData, UnitInput, "units", "organisation");
resource!(PersonData, PersonInput, "people", "organisation");
resource!(PartnerData, PartnerInput, "partners", "organisation");
resource!(SegmentData, SegmentInput, "segments", "customers");
resource!(RelationData, RelationInput, "relations", "customers");
resource!(ChannelData, ChannelInput, "channels", "journeys");
resource!(ElementData, ElementInput, "elements", "service packages");
resource!(PackageData, PackageInput, "packages", "service packages");
resource!(JourneyData, JourneyInput, "journeys", "journeys");
resource!(StageData, StageInput, "stages", "journeys");
resource!(TouchpointData, TouchpointInput, "touchpoints", "journeys");
resource!(
    kohtaamo_domain::survey::SurveyData,
    kohtaamo_domain::survey::SurveyInput,
    "surveys",
    "feedback"
);
resource!(
    kohtaamo_domain::alerts::AlertRuleData,
    kohtaamo_domain::alerts::AlertRuleInput,
    "alert-rules",
    "analytics"
);
impl Collection for kohtaamo_domain::followups::FollowUpRuleData {
    type Input = kohtaamo_domain::followups::FollowUpRuleInput;
    const PATH: &'static str = "follow-up-rules";
    const TAG: &'static str = "follow-ups";

    async fn after_update(store: &Store, ws: Id, id: Id, data: &Self) -> Result<()> {
        store
            .retime_follow_ups(ws, id, data.contact_hours, data.resolve_hours)
            .await?;
        Ok(())
    }
}
resource!(
    ProcessStepData,
    ProcessStepInput,
    "process-steps",
    "journeys"
);

/// The model of the workspace `slug` as a YAML document (byte-identical across
/// export → import → export).
pub async fn export_yaml(store: &Store, slug: &str) -> Result<String> {
    Ok(model_io::to_yaml(&store.export(slug).await?))
}

/// Who imports a model document: a workspace admin (or the command line) may change
/// the workspace's own settings through it; an editor may change the model only.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Importer {
    Admin,
    Editor,
}

/// Imports a YAML model document in one transaction (upsert by slug; `prune` deletes
/// what it does not mention). With `into`, the document must describe that workspace.
/// Syntax errors carry line and column; every invalid field is reported under its path.
/// An editor's document must leave the workspace's name and default language as they
/// are (the same rule as `PUT /api/v1/workspaces/{ws}`).
pub async fn import_yaml(
    store: &Store,
    text: &str,
    into: Option<&str>,
    prune: bool,
    who: Importer,
) -> Result<ImportReport> {
    let doc = model_io::parse_yaml(text)?;
    if who == Importer::Editor {
        let stored = store.workspace_by_slug(&doc.workspace.slug).await?;
        let given = WorkspaceInput {
            slug: doc.workspace.slug.clone(),
            name: doc.workspace.name.clone(),
            default_language: doc.workspace.default_language.clone(),
        }
        .parse();
        match (stored, given) {
            (Some(ws), Ok(given))
                if given.name != ws.data.name
                    || given.default_language != ws.data.default_language =>
            {
                return Err(Error::Forbidden(
                    "only a workspace admin may change the workspace's name or default language; keep `workspace` as exported".into(),
                ));
            }
            (None, _) => {
                return Err(Error::Forbidden(
                    "only a workspace admin may create a workspace".into(),
                ))
            }
            // An invalid `workspace` is reported with every other problem below.
            _ => {}
        }
    }
    if let Some(slug) = into {
        if doc.workspace.slug != slug {
            return Err(Error::invalid(
                "workspace.slug",
                format!(
                    "the document describes '{}', not '{}'",
                    doc.workspace.slug, slug
                ),
            ));
        }
    }
    Ok(store.import(&doc, prune).await?)
}
