//! NATS subject matching: tokens split on `.`, `*` matches one token and
//! `>` (last only) matches one or more.

pub fn subject_matches(pattern: &str, subject: &str) -> bool {
    let mut pattern = pattern.split('.');
    let mut subject = subject.split('.');
    loop {
        match (pattern.next(), subject.next()) {
            (Some(">"), Some(_)) => return true,
            (Some("*"), Some(_)) => {}
            (Some(p), Some(s)) if p == s => {}
            (None, None) => return true,
            _ => return false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::subject_matches;

    #[test]
    fn wildcards_follow_nats() {
        assert!(subject_matches("dea.advertise", "dea.advertise"));
        assert!(!subject_matches("dea.advertise", "dea.advertised"));
        assert!(subject_matches("staging.*.start", "staging.dea-1.start"));
        assert!(!subject_matches("staging.*.start", "staging.a.b.start"));
        assert!(subject_matches("logs.>", "logs.app.x"));
        assert!(!subject_matches("logs.>", "logs"));
        assert!(!subject_matches("a.b", "a"));
        assert!(!subject_matches("a", "a.b"));
    }
}
