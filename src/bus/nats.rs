//! The bus over a real NATS server (async-nats), for roles on many machines.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use anyhow::{Context, Result};
use async_trait::async_trait;
use bytes::Bytes;
use futures::StreamExt;
use tokio::sync::mpsc;

use super::metrics::METRICS;
use super::{Message, MessageBus, Subscription};

pub struct NatsBus {
    client: async_nats::Client,
}

impl NatsBus {
    /// Connects, and keeps reconnecting whenever the server goes away:
    /// every subscription carries on once it is back. Retries stay at most
    /// half a second apart (the client's default backs off to 4 s), so the
    /// platform is whole again moments after a nats-server restart.
    pub async fn connect(url: &str) -> Result<Self> {
        // Whether the connection was lost since it was last made.
        let lost = Arc::new(AtomicBool::new(false));
        let client = async_nats::ConnectOptions::new()
            .reconnect_delay_callback(|attempts| Duration::from_millis((attempts as u64 * 50).min(500)))
            .event_callback(move |event| {
                let lost = lost.clone();
                async move {
                    match event {
                        async_nats::Event::Disconnected => {
                            tracing::warn!("lost the NATS server; reconnecting");
                            lost.store(true, Ordering::Relaxed);
                            METRICS.disconnects.inc();
                            METRICS.connected.set(0);
                        }
                        async_nats::Event::Connected => {
                            tracing::info!("connected to the NATS server");
                            if lost.swap(false, Ordering::Relaxed) {
                                METRICS.reconnects.inc();
                            }
                            METRICS.connected.set(1);
                        }
                        _ => {}
                    }
                }
            })
            .connect(url)
            .await
            .with_context(|| format!("connecting to NATS at {url}"))?;
        METRICS.connected.set(1);
        Ok(NatsBus { client })
    }
}

/// Stops forwarding (and so unsubscribes) when the subscription drops.
struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

#[async_trait]
impl MessageBus for NatsBus {
    async fn publish_raw(&self, subject: &str, reply: Option<&str>, payload: Bytes) -> Result<()> {
        METRICS.published(subject);
        match reply {
            Some(reply) => self.client.publish_with_reply(subject.to_string(), reply.to_string(), payload).await?,
            None => self.client.publish(subject.to_string(), payload).await?,
        }
        Ok(())
    }

    async fn subscribe(&self, subject: &str, queue_group: Option<&str>) -> Result<Subscription> {
        let mut subscriber = match queue_group {
            Some(group) => self.client.queue_subscribe(subject.to_string(), group.to_string()).await?,
            None => self.client.subscribe(subject.to_string()).await?,
        };
        // The server must know the interest before anyone publishes to it.
        self.client.flush().await?;
        let (sender, receiver) = mpsc::unbounded_channel();
        let forward = tokio::spawn(async move {
            while let Some(m) = subscriber.next().await {
                let message = Message {
                    subject: m.subject.to_string(),
                    reply: m.reply.map(|r| r.to_string()),
                    payload: m.payload,
                };
                if sender.send(message).is_err() {
                    break;
                }
            }
        });
        Ok(Subscription::new(receiver, AbortOnDrop(forward)))
    }

    fn new_inbox(&self) -> String {
        self.client.new_inbox()
    }
}
