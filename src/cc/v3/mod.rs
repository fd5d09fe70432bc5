//! CF's v3 API as a presenter of the CC's models, beside v2's
//! ([`crate::cc::v2`]): each resource is declared once
//! ([`resource::V3Resource`] — the model it renders, its fields,
//! relationships, links and filters) and rendered, listed, paginated and
//! included by one generic [`presenter`] with [`list_params`]; errors take
//! v3's shape in [`errors`]. The handlers are in `cc/api/v3`.

pub mod app;
pub mod audit_event;
pub mod build;
pub mod buildpack;
pub mod domain;
pub mod droplet;
pub mod errors;
pub mod list_params;
pub mod organization;
pub mod package;
pub mod presenter;
pub mod process;
pub mod resource;
pub mod role;
pub mod route;
pub mod security_group;
pub mod service_broker;
pub mod service_instance;
pub mod service_offering;
pub mod service_plan;
pub mod space;
pub mod stack;
pub mod user;
