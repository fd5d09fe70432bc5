//! What is v2's own about the API, generic over every resource: the
//! `{metadata, entity}` envelope, inlined relations and paginated lists
//! ([`presenter`]), and CF's v2 list query language ([`list_params`]).

pub mod list_params;
pub mod presenter;
