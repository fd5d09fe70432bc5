//! The CC's models: what it stores in the CCDB, apart from how any API
//! version shows it. Each file is one of CF's nouns: its declaration
//! ([`resource::Resource`]: table, fields, relations, who sees its rows)
//! and, as they are written, its typed record with the queries it is read
//! and changed by ([`app::App`], [`space::Space`], [`job::Job`], [`route::MappedRoute`]). [`resource`]
//! reads rows of any of them; [`sql`] has the conditions and updates they
//! are read and changed with. Presenters render them (the v2 envelope:
//! [`crate::cc::v2`]); handlers, the runner, the stager and the jobs read
//! and change them. Models name each other through this face, as the
//! relations between them run both ways.

pub mod app;
pub mod broker_orphan;
pub mod build;
pub mod buildpack;
pub mod catalog;
pub mod cc_secret;
pub mod credential_binding;
pub mod deployment;
pub mod domain;
pub mod droplet;
pub mod environment_variable_group;
pub mod event;
pub mod feature_flag;
pub mod job;
pub mod lockout;
pub mod metadata;
pub mod organization;
pub mod package;
pub mod process;
pub mod quota;
pub mod relation;
pub mod resource;
pub mod revision;
pub mod role;
pub mod route;
pub mod route_binding;
pub mod security_group;
pub mod service;
pub mod service_binding;
pub mod service_broker;
pub mod service_instance;
pub mod service_key;
pub mod service_operation;
pub mod service_plan_visibility;
pub mod space;
pub mod sql;
pub mod stack;
pub mod staging;
pub mod task;
pub mod user;

pub use app::APPS;
pub use buildpack::BUILDPACKS;
pub use domain::{DOMAINS, PRIVATE_DOMAINS, SHARED_DOMAINS};
pub use event::EVENTS;
pub use organization::ORGANIZATIONS;
pub use quota::{QUOTA_DEFINITIONS, SPACE_QUOTA_DEFINITIONS};
pub use resource::Record;
pub use route::{ROUTE_MAPPINGS, ROUTES};
pub use security_group::SECURITY_GROUPS;
pub use service::{SERVICE_PLANS, SERVICES};
pub use service_binding::SERVICE_BINDINGS;
pub use service_broker::SERVICE_BROKERS;
pub use service_instance::{ALL_SERVICE_INSTANCES, SERVICE_INSTANCES, USER_PROVIDED_SERVICE_INSTANCES};
pub use service_key::SERVICE_KEYS;
pub use service_plan_visibility::SERVICE_PLAN_VISIBILITIES;
pub use space::SPACES;
pub use stack::STACKS;
pub use user::USERS;
