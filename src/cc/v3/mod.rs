//! CF's v3 API as a presenter of the CC's models, beside v2's
//! ([`crate::cc::v2`]): each resource is declared once
//! ([`resource::V3Resource`] — the model it renders, its fields,
//! relationships, links and filters) and rendered, listed, paginated and
//! included by one generic [`presenter`] with [`list_params`]; errors take
//! v3's shape in [`errors`]. Declarations name each other through this
//! face (relationships run both ways: an org's quota, a quota's org). The
//! handlers are in `cc/api/v3`.

pub mod app;
pub mod audit_event;
pub mod build;
pub mod buildpack;
pub mod credential_binding;
pub mod deployment;
pub mod domain;
pub mod droplet;
pub mod errors;
pub mod list_params;
pub mod organization;
pub mod package;
pub mod presenter;
pub mod process;
pub mod quota;
pub mod resource;
pub mod revision;
pub mod role;
pub mod route;
pub mod route_binding;
pub mod security_group;
pub mod service_broker;
pub mod service_instance;
pub mod service_offering;
pub mod service_plan;
pub mod space;
pub mod stack;
pub mod task;
pub mod user;

pub use app::APPS;
pub use audit_event::AUDIT_EVENTS;
pub use build::BUILDS;
pub use buildpack::BUILDPACKS;
pub use credential_binding::SERVICE_CREDENTIAL_BINDINGS;
pub use deployment::DEPLOYMENTS;
pub use domain::DOMAINS;
pub use droplet::DROPLETS;
pub use organization::ORGANIZATIONS;
pub use package::PACKAGES;
pub use process::PROCESSES;
pub use quota::{ORGANIZATION_QUOTAS, SPACE_QUOTAS};
pub use revision::REVISIONS;
pub use role::ROLES;
pub use route::ROUTES;
pub use route_binding::SERVICE_ROUTE_BINDINGS;
pub use security_group::SECURITY_GROUPS;
pub use service_broker::SERVICE_BROKERS;
pub use service_instance::SERVICE_INSTANCES;
pub use service_offering::SERVICE_OFFERINGS;
pub use service_plan::SERVICE_PLANS;
pub use space::SPACES;
pub use stack::STACKS;
pub use task::TASKS;
pub use user::USERS;
