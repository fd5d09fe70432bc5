//! The broker operations on instances and bindings, and what each answer
//! means (the OSB spec's tables): provision, update and deprovision may
//! finish at once or go on asynchronously (202, then `last_operation`);
//! bind and unbind finish at once. A failure says whether the broker may
//! have created something anyway — a timeout, a 5xx, a success without a
//! readable body — so the caller deletes it (orphan mitigation).

use reqwest::{Method, StatusCode};
use serde_json::{Map, Value, json};

use super::client::{Broker, NoReply, Reply};
use crate::cc::error::ApiError;

/// What a binding binds the instance to (OSB's `bind_resource`).
#[derive(Debug, Clone, Copy)]
pub enum BindResource<'a> {
    /// An app (its guid): credentials for it.
    App(&'a str),
    /// A route (its url): a route service for it.
    Route(&'a str),
    /// Nothing: a service key.
    Key,
}

/// The broker's ids for a service instance: its own, its service's and plan's.
pub struct Target<'a> {
    pub instance: &'a str,
    pub service_id: &'a str,
    pub plan_id: &'a str,
}

/// Where a new instance goes (`context` and the deprecated top-level guids).
pub struct Placement<'a> {
    pub organization: &'a str,
    pub space: &'a str,
    pub instance_name: &'a str,
}

/// How an instance operation ended, for now.
#[derive(Debug)]
pub enum Outcome {
    /// Finished: the broker's body (dashboard_url…).
    Done(Map<String, Value>),
    /// The broker goes on; poll `last_operation` with this operation id.
    /// (A broker gives an instance's dashboard in its first answer.)
    InProgress { operation: Option<String>, dashboard_url: Option<String> },
}

/// A failed operation; `orphan` when the broker may have created what was
/// asked nonetheless, so it must be deleted there.
#[derive(Debug)]
pub struct Failure {
    pub error: ApiError,
    pub orphan: bool,
}

impl Failure {
    fn plain(error: ApiError) -> Failure {
        Failure { error, orphan: false }
    }
}

/// What a poll of `last_operation` said.
pub struct LastOperation {
    pub state: String,
    pub description: String,
    pub retry_after: Option<std::time::Duration>,
}

impl Target<'_> {
    fn query(&self) -> String {
        format!("service_id={}&plan_id={}", encode(self.service_id), encode(self.plan_id))
    }

    pub fn instance_path(&self) -> String {
        format!("/v2/service_instances/{}", encode(self.instance))
    }

    pub fn binding_path(&self, binding: &str) -> String {
        format!("{}/service_bindings/{}", self.instance_path(), encode(binding))
    }

    /// The DELETE that removes an instance (or one of its bindings) at the broker.
    pub fn delete_path(&self, binding: Option<&str>, accepts_incomplete: bool) -> String {
        let path = match binding {
            Some(binding) => self.binding_path(binding),
            None => self.instance_path(),
        };
        let incomplete = if accepts_incomplete { "&accepts_incomplete=true" } else { "" };
        format!("{path}?{}{incomplete}", self.query())
    }
}

fn encode(text: &str) -> String {
    url::form_urlencoded::byte_serialize(text.as_bytes()).collect()
}

fn async_query(accepts_incomplete: bool) -> &'static str {
    if accepts_incomplete { "?accepts_incomplete=true" } else { "" }
}

/// What a broker's 422 means: it needs a client that accepts async operations.
fn async_required(reply: &Reply) -> Option<ApiError> {
    (reply.status == StatusCode::UNPROCESSABLE_ENTITY && reply.field("error") == Some("AsyncRequired"))
        .then(|| ApiError::new("ServiceBrokerAsyncRequired", &[]))
}

/// Reads a provision/update/deprovision answer. `orphan_on_failure`: a
/// provision, where a broker error may leave an instance behind.
fn instance_outcome(
    reply: Result<Reply, NoReply>,
    accepts_incomplete: bool,
    orphan_on_failure: bool,
) -> Result<Outcome, Failure> {
    let reply = match reply {
        Ok(reply) => reply,
        Err(NoReply::Timeout(error)) => return Err(Failure { error, orphan: orphan_on_failure }),
        Err(NoReply::Unreachable(error)) => return Err(Failure::plain(error)),
    };
    let status = reply.status;
    match status {
        StatusCode::OK | StatusCode::CREATED => match reply.body {
            Some(body) => Ok(Outcome::Done(body)),
            None => {
                Err(Failure { error: reply.malformed(), orphan: orphan_on_failure && status == StatusCode::CREATED })
            }
        },
        StatusCode::ACCEPTED if !accepts_incomplete => Err(Failure {
            error: ApiError::new("ServiceBrokerRespondedAsyncWhenNotAllowed", &[]),
            orphan: orphan_on_failure,
        }),
        StatusCode::ACCEPTED => match &reply.body {
            Some(body) => {
                let text = |name: &str| body.get(name).and_then(Value::as_str).map(str::to_string);
                Ok(Outcome::InProgress { operation: text("operation"), dashboard_url: text("dashboard_url") })
            }
            None => Err(Failure { error: reply.malformed(), orphan: orphan_on_failure }),
        },
        _ => {
            let error = async_required(&reply).unwrap_or_else(|| reply.unexpected());
            let orphan = orphan_on_failure && (status.is_success() || status.is_server_error());
            Err(Failure { error, orphan })
        }
    }
}

impl Broker<'_> {
    /// `PUT /v2/service_instances/:id`.
    pub async fn provision(
        &self,
        target: &Target<'_>,
        placement: &Placement<'_>,
        parameters: Option<&Value>,
        accepts_incomplete: bool,
        user: &str,
    ) -> Result<Outcome, Failure> {
        let body = json!({
            "service_id": target.service_id,
            "plan_id": target.plan_id,
            "organization_guid": placement.organization,
            "space_guid": placement.space,
            "context": {
                "platform": "cloudfoundry",
                "organization_guid": placement.organization,
                "space_guid": placement.space,
                "instance_name": placement.instance_name,
            },
        });
        self.change_instance(Method::PUT, target, body, parameters, accepts_incomplete, user).await
    }

    /// `PATCH /v2/service_instances/:id`: a new plan and/or parameters.
    pub async fn update(
        &self,
        target: &Target<'_>,
        new_plan_id: Option<&str>,
        parameters: Option<&Value>,
        accepts_incomplete: bool,
        user: &str,
    ) -> Result<Outcome, Failure> {
        let mut body = json!({
            "service_id": target.service_id,
            "previous_values": {"plan_id": target.plan_id, "service_id": target.service_id},
            "context": {"platform": "cloudfoundry"},
        });
        if let Some(plan) = new_plan_id {
            body["plan_id"] = json!(plan);
        }
        self.change_instance(Method::PATCH, target, body, parameters, accepts_incomplete, user).await
    }

    /// Sends a provision (PUT) or update (PATCH) with the user's parameters;
    /// a failed provision may leave an orphan, a failed update does not.
    async fn change_instance(
        &self,
        method: Method,
        target: &Target<'_>,
        mut body: Value,
        parameters: Option<&Value>,
        accepts_incomplete: bool,
        user: &str,
    ) -> Result<Outcome, Failure> {
        if let Some(parameters) = parameters {
            body["parameters"] = parameters.clone();
        }
        let orphan_on_failure = method == Method::PUT;
        let path = format!("{}{}", target.instance_path(), async_query(accepts_incomplete));
        let reply = self.send(method, &path, Some(&body), user).await;
        instance_outcome(reply, accepts_incomplete, orphan_on_failure)
    }

    /// `DELETE /v2/service_instances/:id`; a 410 (already gone) is success.
    pub async fn deprovision(
        &self,
        target: &Target<'_>,
        accepts_incomplete: bool,
        user: &str,
    ) -> Result<Outcome, Failure> {
        let reply = self.send(Method::DELETE, &target.delete_path(None, accepts_incomplete), None, user).await;
        if let Ok(reply) = &reply
            && reply.status == StatusCode::GONE
        {
            return Ok(Outcome::Done(Map::new()));
        }
        instance_outcome(reply, accepts_incomplete, false)
    }

    /// `GET …/last_operation`. A 410 while deleting means it is gone.
    pub async fn last_operation(
        &self,
        target: &Target<'_>,
        operation: Option<&str>,
        deleting: bool,
        user: &str,
    ) -> Result<LastOperation, ApiError> {
        let mut path = format!("{}/last_operation?{}", target.instance_path(), target.query());
        if let Some(operation) = operation {
            path.push_str(&format!("&operation={}", encode(operation)));
        }
        let reply = self.send(Method::GET, &path, None, user).await.map_err(NoReply::error)?;
        if deleting && reply.status == StatusCode::GONE {
            let description = String::new();
            return Ok(LastOperation { state: "succeeded".into(), description, retry_after: None });
        }
        if reply.status != StatusCode::OK {
            return Err(reply.unexpected());
        }
        let state = reply.field("state").unwrap_or_default().to_string();
        if !matches!(state.as_str(), "in progress" | "succeeded" | "failed") {
            return Err(reply.malformed());
        }
        let description = reply.field("description").unwrap_or_default().to_string();
        Ok(LastOperation { state, description, retry_after: reply.retry_after })
    }

    /// `PUT …/service_bindings/:id`: the binding's body (credentials,
    /// syslog_drain_url…). An app binding names its app; a service key none.
    pub async fn bind(
        &self,
        target: &Target<'_>,
        binding: &str,
        resource: BindResource<'_>,
        parameters: Option<&Value>,
        user: &str,
    ) -> Result<Map<String, Value>, Failure> {
        let mut body = json!({
            "service_id": target.service_id,
            "plan_id": target.plan_id,
            "context": {"platform": "cloudfoundry"},
            "bind_resource": {},
        });
        match resource {
            BindResource::App(app) => {
                body["app_guid"] = json!(app);
                body["bind_resource"] = json!({"app_guid": app});
            }
            BindResource::Route(url) => body["bind_resource"] = json!({"route": url}),
            BindResource::Key => {}
        }
        if let Some(parameters) = parameters {
            body["parameters"] = parameters.clone();
        }
        match self.send(Method::PUT, &target.binding_path(binding), Some(&body), user).await {
            Ok(reply) if matches!(reply.status, StatusCode::OK | StatusCode::CREATED) => {
                let orphan = reply.status == StatusCode::CREATED;
                reply.body.clone().ok_or_else(|| Failure { error: reply.malformed(), orphan })
            }
            Ok(reply) => {
                let orphan = reply.status.is_success() || reply.status.is_server_error();
                Err(Failure { error: async_required(&reply).unwrap_or_else(|| reply.unexpected()), orphan })
            }
            Err(NoReply::Timeout(error)) => Err(Failure { error, orphan: true }),
            Err(NoReply::Unreachable(error)) => Err(Failure::plain(error)),
        }
    }

    /// `DELETE …/service_bindings/:id`; a 410 (already gone) is success.
    pub async fn unbind(&self, target: &Target<'_>, binding: &str, user: &str) -> Result<(), ApiError> {
        let reply = self.send(Method::DELETE, &target.delete_path(Some(binding), false), None, user).await;
        let reply = reply.map_err(NoReply::error)?;
        match reply.status {
            StatusCode::OK | StatusCode::GONE => Ok(()),
            _ => Err(reply.unexpected()),
        }
    }
}
