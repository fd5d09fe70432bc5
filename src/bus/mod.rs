//! The message bus: CF's NATS dispatch between roles.
//!
//! Roles talk only through subjects (see [`crate::protocol::messages`] for every subject and
//! its message). Two implementations of [`MessageBus`] give the same
//! semantics — subjects with `*` and `>` wildcards, queue groups,
//! request/reply through inbox subjects:
//!
//! - [`local`]: in-process, for `wf up` on one machine;
//! - [`nats`]: a real NATS server through async-nats, for many machines.

pub mod local;
mod metrics;
pub mod nats;
mod subject;

use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result, anyhow};
use async_trait::async_trait;
use bytes::Bytes;
use serde::Serialize;
use serde::de::DeserializeOwned;
use tokio::sync::mpsc;

pub use subject::subject_matches;

/// One message as delivered to a subscriber.
#[derive(Debug, Clone)]
pub struct Message {
    pub subject: String,
    /// Where a requester waits for the answer.
    pub reply: Option<String>,
    pub payload: Bytes,
}

impl Message {
    /// Decodes the JSON payload into its typed message.
    pub fn json<T: DeserializeOwned>(&self) -> Result<T> {
        serde_json::from_slice(&self.payload).with_context(|| format!("malformed message on {}", self.subject))
    }
}

/// A live subscription; dropping it unsubscribes.
pub struct Subscription {
    receiver: mpsc::UnboundedReceiver<Message>,
    _guard: Box<dyn Send + Sync>,
}

impl Subscription {
    pub fn new(receiver: mpsc::UnboundedReceiver<Message>, guard: impl Send + Sync + 'static) -> Self {
        Subscription { receiver, _guard: Box::new(guard) }
    }

    /// The next message, or `None` once the bus is gone.
    pub async fn next(&mut self) -> Option<Message> {
        let message = self.receiver.recv().await?;
        metrics::METRICS.received(&message.subject);
        Some(message)
    }
}

#[async_trait]
pub trait MessageBus: Send + Sync {
    /// Publishes; implementations count each message in the bus's metrics.
    async fn publish_raw(&self, subject: &str, reply: Option<&str>, payload: Bytes) -> Result<()>;
    /// Subscribes to a subject pattern; with a queue group, each message
    /// goes to one member of the group only.
    async fn subscribe(&self, subject: &str, queue_group: Option<&str>) -> Result<Subscription>;
    /// A fresh subject to receive replies on.
    fn new_inbox(&self) -> String;
}

pub type Bus = Arc<dyn MessageBus>;

/// Connects to the bus a URL names: `local:` or `nats://host:port`.
pub async fn connect(url: &str) -> Result<Bus> {
    if url == "local:" || url == "local" {
        Ok(Arc::new(local::LocalBus::default()))
    } else if url.starts_with("nats://") || url.starts_with("tls://") {
        Ok(Arc::new(nats::NatsBus::connect(url).await?))
    } else {
        Err(anyhow!("unsupported bus_url {url:?}: use local: or nats://host:port"))
    }
}

/// Typed publishing and request/reply on any bus.
#[async_trait]
pub trait BusExt {
    async fn publish<T: Serialize + Sync>(&self, subject: &str, message: &T) -> Result<()>;
    /// Publishes with a reply subject and returns the subscription the
    /// replies arrive on (CF's staging sends more than one reply).
    async fn request_stream<T: Serialize + Sync>(&self, subject: &str, message: &T) -> Result<Subscription>;
    /// Collects replies until `expected` arrived or `timeout` passed.
    async fn request_many<T: Serialize + Sync>(
        &self,
        subject: &str,
        message: &T,
        expected: usize,
        timeout: Duration,
    ) -> Result<Vec<Message>>;
}

#[async_trait]
impl BusExt for dyn MessageBus {
    async fn publish<T: Serialize + Sync>(&self, subject: &str, message: &T) -> Result<()> {
        self.publish_raw(subject, None, serde_json::to_vec(message)?.into()).await
    }

    async fn request_stream<T: Serialize + Sync>(&self, subject: &str, message: &T) -> Result<Subscription> {
        let inbox = self.new_inbox();
        let replies = self.subscribe(&inbox, None).await?;
        self.publish_raw(subject, Some(&inbox), serde_json::to_vec(message)?.into()).await?;
        Ok(replies)
    }

    async fn request_many<T: Serialize + Sync>(
        &self,
        subject: &str,
        message: &T,
        expected: usize,
        timeout: Duration,
    ) -> Result<Vec<Message>> {
        let mut replies = self.request_stream(subject, message).await?;
        let mut received = Vec::new();
        let deadline = tokio::time::Instant::now() + timeout;
        while received.len() < expected {
            match tokio::time::timeout_at(deadline, replies.next()).await {
                Ok(Some(message)) => received.push(message),
                Ok(None) | Err(_) => break,
            }
        }
        Ok(received)
    }
}

/// Answers a request on its reply subject (a no-op for plain publishes).
pub async fn reply<T: Serialize + Sync>(bus: &dyn MessageBus, request: &Message, answer: &T) -> Result<()> {
    match &request.reply {
        Some(reply) => bus.publish_raw(reply, None, serde_json::to_vec(answer)?.into()).await,
        None => Ok(()),
    }
}
