//! Route registration that builds the axum router and the OpenAPI 3.1 document in one
//! go: a route exists in the document if and only if it is served.

use std::collections::BTreeMap;

use axum::routing::MethodRouter;
use axum::Router;
use serde_json::{json, Map, Value};
use utoipa::ToSchema;

use crate::AppState;

/// A list answered as `{"items": [...]}`, each item of `item`'s schema.
pub fn items(item: Value) -> Value {
    json!({"type": "object", "required": ["items"],
           "properties": {"items": {"type": "array", "items": item}}})
}

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
    /// The success answer's content type when it is not JSON (images, downloads).
    pub ok_media: Option<&'static str>,
    pub query: Vec<(String, Value, String)>,
    pub public: bool,
    /// Further answers this operation gives (status, description), e.g. 401 on login.
    pub extra: Vec<(u16, &'static str)>,
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
            ok_media: None,
            query: vec![],
            public: false,
            extra: vec![],
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
    /// Answers a file of `media_type` (an image, a CSV or XLSX download).
    pub fn produces(mut self, media_type: &'static str) -> Self {
        self.ok_media = Some(media_type);
        self
    }
    pub fn yaml_response(mut self) -> Self {
        self.ok_yaml = true;
        self
    }
    /// A query parameter: name, JSON type, description.
    pub fn query(mut self, name: &str, ty: &'static str, desc: &str) -> Self {
        self.query
            .push((name.into(), json!({"type": ty}), desc.into()));
        self
    }
    /// A query parameter taking one of `values`.
    pub fn query_one_of<'a>(
        mut self,
        name: &str,
        values: impl IntoIterator<Item = &'a str>,
        desc: &str,
    ) -> Self {
        let values: Vec<&str> = values.into_iter().collect();
        self.query.push((
            name.into(),
            json!({"type": "string", "enum": values}),
            desc.into(),
        ));
        self
    }
    pub fn public(mut self) -> Self {
        self.public = true;
        self
    }
    /// Documents another answer (status, why).
    pub fn responds(mut self, status: u16, why: &'static str) -> Self {
        self.extra.push((status, why));
        self
    }
    /// Rate limited: 429 with `Retry-After`.
    pub fn limited(self) -> Self {
        self.responds(429, "Too many requests; retry after `Retry-After` seconds")
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
            self.put(name, serde_json::to_value(s).unwrap_or_default());
        }
        let name = T::name().to_string();
        self.put(
            name.clone(),
            serde_json::to_value(T::schema()).unwrap_or_default(),
        );
        json!({"$ref": format!("#/components/schemas/{name}")})
    }

    /// Schema names are one namespace: two different types registered under one name
    /// would leave one of them described wrongly, so (in debug builds, which every test
    /// runs) that stops the document being built.
    fn put(&mut self, name: String, schema: Value) {
        if let Some(before) = self.schemas.get(&name) {
            debug_assert!(
                before == &schema,
                "two different schemas are named {name} in the OpenAPI document: give one of them #[schema(as = …)]"
            );
        }
        self.schemas.insert(name, schema);
    }

    pub fn route(mut self, path: &str, handler: MethodRouter<AppState>, ops: Vec<Op>) -> Self {
        self.router = self.router.route(path, handler);
        let item = self.paths.entry(path.to_string()).or_default();
        for op in ops {
            let mut params = path_params(path);
            for (name, schema, desc) in &op.query {
                params.push(json!({"name": name, "in": "query", "required": false, "description": desc, "schema": schema}));
            }
            let err = |d: &str| json!({"description": d, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}});
            let mut responses = Map::new();
            let ok_content = match (&op.ok_schema, op.ok_yaml, op.ok_media) {
                (_, _, Some(media)) => {
                    let schema = if media.starts_with("text/") || media.ends_with("+xml") {
                        json!({"type": "string"})
                    } else {
                        json!({"type": "string", "contentMediaType": media})
                    };
                    json!({ media: {"schema": schema} })
                }
                (_, true, _) => {
                    json!({"application/yaml": {"schema": {"type": "object", "description": "The model document (docs/model-format.md)"}}})
                }
                (Some(s), _, _) => json!({"application/json": {"schema": s}}),
                (None, _, _) => json!({}),
            };
            responses.insert(
                op.ok_status.to_string(),
                json!({"description": "Success", "content": ok_content.clone()}),
            );
            // What any operation may answer besides success: a path or query that does
            // not parse, and (except the liveness probe) a database that is down.
            responses.insert(
                "400".into(),
                err("Malformed path, query or body, or wrong types"),
            );
            if path != "/healthz" {
                responses.insert(
                    "503".into(),
                    err("The database is unreachable or its disk full; retry after `Retry-After` seconds"),
                );
            }
            if path.contains('{') {
                responses.insert("404".into(), err("Unknown id, key or workspace"));
            }
            if !op.query.is_empty() && op.body.is_none() {
                responses.insert(
                    "422".into(),
                    err("A query parameter has an invalid value; `fields` names it"),
                );
            }
            if op.body.is_some() {
                responses.insert(
                    "408".into(),
                    err("The body did not arrive within the request deadline"),
                );
                responses.insert("413".into(), err("Body too large"));
                responses.insert("415".into(), err("Wrong content type"));
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
            for (status, why) in &op.extra {
                let answer = if *status < 300 {
                    json!({"description": why, "content": ok_content})
                } else {
                    err(why)
                };
                responses.insert(status.to_string(), answer);
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
