//! The in-process bus `wf up` uses: NATS semantics without a NATS server.
//! Delivery is immediate and in order per subscriber; a queue group gets
//! each message once, round-robin among its members.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, Weak};

use anyhow::Result;
use async_trait::async_trait;
use bytes::Bytes;
use tokio::sync::mpsc;

use super::{Message, MessageBus, Subscription, subject_matches};

#[derive(Default)]
pub struct LocalBus {
    registry: Arc<Mutex<Registry>>,
}

#[derive(Default)]
struct Registry {
    next_id: u64,
    subscribers: Vec<Subscriber>,
    /// Round-robin position per queue group.
    queue_cursor: HashMap<String, usize>,
}

struct Subscriber {
    id: u64,
    pattern: String,
    queue_group: Option<String>,
    sender: mpsc::UnboundedSender<Message>,
}

/// Removes its subscriber from the registry when the subscription drops.
struct Unsubscribe {
    registry: Weak<Mutex<Registry>>,
    id: u64,
}

impl Drop for Unsubscribe {
    fn drop(&mut self) {
        if let Some(registry) = self.registry.upgrade() {
            registry.lock().expect("bus registry").subscribers.retain(|s| s.id != self.id);
        }
    }
}

static INBOX: AtomicU64 = AtomicU64::new(0);

#[async_trait]
impl MessageBus for LocalBus {
    async fn publish_raw(&self, subject: &str, reply: Option<&str>, payload: Bytes) -> Result<()> {
        super::metrics::METRICS.published(subject);
        let message = Message { subject: subject.to_string(), reply: reply.map(str::to_string), payload };
        let mut registry = self.registry.lock().expect("bus registry");
        let mut groups: HashMap<String, Vec<usize>> = HashMap::new();
        for (i, sub) in registry.subscribers.iter().enumerate() {
            if subject_matches(&sub.pattern, subject) {
                match &sub.queue_group {
                    Some(group) => groups.entry(group.clone()).or_default().push(i),
                    None => {
                        let _ = sub.sender.send(message.clone());
                    }
                }
            }
        }
        for (group, members) in groups {
            let cursor = registry.queue_cursor.entry(group).or_insert(0);
            let chosen = members[*cursor % members.len()];
            *cursor = cursor.wrapping_add(1);
            let _ = registry.subscribers[chosen].sender.send(message.clone());
        }
        Ok(())
    }

    async fn subscribe(&self, subject: &str, queue_group: Option<&str>) -> Result<Subscription> {
        let (sender, receiver) = mpsc::unbounded_channel();
        let mut registry = self.registry.lock().expect("bus registry");
        registry.next_id += 1;
        let id = registry.next_id;
        registry.subscribers.push(Subscriber {
            id,
            pattern: subject.to_string(),
            queue_group: queue_group.map(str::to_string),
            sender,
        });
        Ok(Subscription::new(receiver, Unsubscribe { registry: Arc::downgrade(&self.registry), id }))
    }

    fn new_inbox(&self) -> String {
        format!("_INBOX.{}", INBOX.fetch_add(1, Ordering::Relaxed))
    }
}
