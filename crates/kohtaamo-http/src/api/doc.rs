//! Route registration that builds the axum router and the OpenAPI 3.1 document in one
//! go: a route exists in the document if and only if it is served.

use std::collections::BTreeMap;

use axum::routing::MethodRouter;
use axum::Router;
use serde_json::{json, Map, Value};
use utoipa::ToSchema;

use crate::AppState;

/// How a request body is described.
pub enum Body {
    Json(Value),
    Yaml,
}

/// One operation of a path, for the OpenAPI document.
pub struct Op {
    pub method: &'static str,
    pub summary: String,
    pub tag: String,
    pub body: Option<Body>,
    pub ok_status: u16,
    pub ok_schema: Option<Value>,
    pub ok_yaml: bool,
    pub query: Vec<(String, &'static str, String)>,
    pub public: bool,
}

impl Op {
    pub fn new(method: &'static str, tag: &str, summary: impl Into<String>) -> Self {
        Self {
            method,
            summary: summary.into(),
            tag: tag.into(),
            body: None,
            ok_status: 200,
            ok_schema: None,
            ok_yaml: false,
            query: vec![],
            public: false,
        }
    }
    pub fn body(mut self, schema: Value) -> Self {
        self.body = Some(Body::Json(schema));
        self
    }
    pub fn yaml_body(mut self) -> Self {
        self.body = Some(Body::Yaml);
        self
    }
    pub fn ok(mut self, status: u16, schema: Option<Value>) -> Self {
        self.ok_status = status;
        self.ok_schema = schema;
        self
    }
    pub fn yaml_response(mut self) -> Self {
        self.ok_yaml = true;
        self
    }
    /// A query parameter: name, JSON type, description.
    pub fn query(mut self, name: &str, ty: &'static str, desc: &str) -> Self {
        self.query.push((name.into(), ty, desc.into()));
        self
    }
    pub fn public(mut self) -> Self {
        self.public = true;
        self
    }
}

pub struct Api {
    router: Router<AppState>,
    paths: BTreeMap<String, Map<String, Value>>,
    schemas: BTreeMap<String, Value>,
}

impl Default for Api {
    fn default() -> Self {
        Self::new()
    }
}

fn path_params(path: &str) -> Vec<Value> {
    path.split('/')
        .filter_map(|seg| seg.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
        .map(|name| {
            let ty = if name == "id" || name.ends_with("_id") {
                "integer"
            } else {
                "string"
            };
            json!({"name": name, "in": "path", "required": true, "schema": {"type": ty}})
        })
        .collect()
}

impl Api {
    pub fn new() -> Self {
        let mut schemas = BTreeMap::new();
        schemas.insert(
            "Error".to_string(),
            json!({
                "type": "object",
                "required": ["error", "fields"],
                "properties": {
                    "error": {"type": "string", "description": "What went wrong, for people."},
                    "fields": {"type": "object", "additionalProperties": {"type": "string"},
                               "description": "On 422: each invalid field (path) and why."}
                }
            }),
        );
        Self {
            router: Router::new(),
            paths: BTreeMap::new(),
            schemas,
        }
    }

    /// Registers `T` (and what it refers to) as a component; returns a `$ref` to it.
    pub fn schema<T: ToSchema>(&mut self) -> Value {
        let mut deps = Vec::new();
        T::schemas(&mut deps);
        for (name, s) in deps {
            self.schemas
                .insert(name, serde_json::to_value(s).unwrap_or_default());
        }
        let name = T::name().to_string();
        self.schemas.insert(
            name.clone(),
            serde_json::to_value(T::schema()).unwrap_or_default(),
        );
        json!({"$ref": format!("#/components/schemas/{name}")})
    }

    pub fn route(mut self, path: &str, handler: MethodRouter<AppState>, ops: Vec<Op>) -> Self {
        self.router = self.router.route(path, handler);
        let item = self.paths.entry(path.to_string()).or_default();
        for op in ops {
            let mut params = path_params(path);
            for (name, ty, desc) in &op.query {
                params.push(json!({"name": name, "in": "query", "required": false, "description": desc, "schema": {"type": ty}}));
            }
            let err = |d: &str| json!({"description": d, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}});
            let mut responses = Map::new();
            let ok_content = match (&op.ok_schema, op.ok_yaml) {
                (_, true) => json!({"application/yaml": {"schema": {"type": "string"}}}),
                (Some(s), _) => json!({"application/json": {"schema": s}}),
                (None, _) => json!({}),
            };
            responses.insert(
                op.ok_status.to_string(),
                json!({"description": "Success", "content": ok_content}),
            );
            if op.body.is_some() {
                responses.insert("400".into(), err("Malformed body or wrong types"));
                responses.insert("413".into(), err("Body too large"));
                responses.insert(
                    "422".into(),
                    err("Validation failed; `fields` names every problem"),
                );
            }
            if !op.public {
                responses.insert("401".into(), err("Not authenticated"));
                responses.insert(
                    "403".into(),
                    err("Role does not allow this, or CSRF token missing"),
                );
                responses.insert(
                    "404".into(),
                    err("Unknown id, or a workspace you are not a member of"),
                );
            }
            if matches!(op.method, "post" | "put" | "delete") && !op.public {
                responses.insert("409".into(), err("Duplicate, or still referenced"));
            }
            let mut o = json!({
                "operationId": format!("{}_{}", op.method, path.trim_start_matches('/').replace(['/', '{', '}', '-'], "_")),
                "summary": op.summary,
                "tags": [op.tag],
                "parameters": params,
                "responses": responses,
            });
            match op.body {
                Some(Body::Json(s)) => {
                    o["requestBody"] =
                        json!({"required": true, "content": {"application/json": {"schema": s}}})
                }
                Some(Body::Yaml) => {
                    o["requestBody"] = json!({"required": true, "content": {"application/yaml": {"schema": {"type": "string"}}}})
                }
                None => {}
            }
            if op.public {
                o["security"] = json!([]);
            }
            item.insert(op.method.to_string(), o);
        }
        self
    }

    /// The router and the OpenAPI document describing exactly its routes.
    pub fn finish(self) -> (Router<AppState>, Value) {
        let doc = json!({
            "openapi": "3.1.0",
            "info": {
                "title": "Kohtaamo API",
                "version": env!("CARGO_PKG_VERSION"),
                "description": "Customer-experience model: units, customers, service packages, journeys.",
                "license": {"name": "MIT OR Apache-2.0", "identifier": "MIT OR Apache-2.0"}
            },
            "paths": self.paths,
            "components": {
                "schemas": self.schemas,
                "securitySchemes": {
                    "bearer": {"type": "http", "scheme": "bearer", "description": "API token from `kohtaamo token create` or POST /api/v1/tokens"},
                    "session": {"type": "apiKey", "in": "cookie", "name": crate::auth::SESSION_COOKIE,
                                "description": "Browser session; state-changing requests also need the X-CSRF-Token header"}
                }
            },
            "security": [{"bearer": []}, {"session": []}]
        });
        (self.router, doc)
    }
}
