//! Feature flags: CF's switches clients consult before acting (the cf CLI
//! asks `set_roles_by_username` before `set-space-role`). CF stores them;
//! here they are fixed, at what this platform does, and both API versions
//! show them.

/// Every flag CF v2 knows, and whether it is on here.
pub const FLAGS: [(&str, bool); 16] = [
    ("user_org_creation", false),
    ("private_domain_creation", true),
    ("app_bits_upload", true),
    ("app_scaling", true),
    ("route_creation", true),
    ("service_instance_creation", false),
    ("diego_docker", false),
    ("set_roles_by_username", true),
    ("unset_roles_by_username", false),
    ("task_creation", false),
    ("env_var_visibility", true),
    ("space_scoped_private_broker_creation", false),
    ("space_developer_env_var_visibility", true),
    ("service_instance_sharing", false),
    ("hide_marketplace_from_unauthenticated_users", false),
    ("resource_matching", true),
];
