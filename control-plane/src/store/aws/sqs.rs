//! The SQS side of the AWS backend.

use std::collections::HashMap;
use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_sqs::types::{MessageSystemAttributeName, QueueAttributeName, SendMessageBatchRequestEntry};

use super::{Aws, store_err};
use crate::Error;
use crate::store::sha256_hex;
use crate::store::{OutMessage, Queue, RECEIVE_MESSAGES_MAX, RECEIVE_WAIT_MS_MAX, Received};

/// SQS's longest queue name.
const SQS_NAME_CHARS_MAX: usize = 80;
/// SQS's largest SendMessageBatch.
const SEND_BATCH_MAX: usize = 10;

impl Aws {
    /// SQS queue names allow `[A-Za-z0-9_-]{1,80}`: activity queues get a
    /// hash; a code workflow's task queues keep their name (`wf-`/`at-` and
    /// the task queue), so that a worker Lambda's event source can name them.
    pub fn queue_name(&self, queue: &str) -> String {
        let Some(resource) = queue.strip_prefix("activity#") else {
            return format!("{}{queue}", self.queue_prefix);
        };
        let readable = [("stepwise:workflow-task:", "wf-"), ("stepwise:activity-task:", "at-")]
            .iter()
            .find_map(|(from, to)| resource.strip_prefix(from).map(|q| format!("{}{to}{q}", self.queue_prefix)));
        match readable {
            Some(name) if name.len() <= SQS_NAME_CHARS_MAX => name,
            _ => format!("{}act-{}", self.queue_prefix, &sha256_hex(resource.as_bytes())[..32]),
        }
    }

    pub(super) async fn url(&self, queue: &str) -> Result<String, Error> {
        if let Some(u) = self.urls.lock().unwrap_or_else(|p| p.into_inner()).get(queue) {
            return Ok(u.clone());
        }
        let name = self.queue_name(queue);
        // CreateQueue is idempotent; activity queues come and go with activities.
        self.meter.sqs(0);
        let url = self.sqs.create_queue().queue_name(&name).send().await.map_err(store_err)?.queue_url;
        let url = url.ok_or_else(|| Error::Store(format!("no URL for queue {name}")))?;
        self.urls.lock().unwrap_or_else(|p| p.into_inner()).insert(queue.to_string(), url.clone());
        Ok(url)
    }

    pub(super) async fn send_now(&self, messages: &[OutMessage]) -> Result<(), Error> {
        let mut by_queue: HashMap<&str, Vec<&OutMessage>> = HashMap::new();
        for m in messages.iter().filter(|m| !(self.fault.lose_timers && m.delay_ms > 0)) {
            by_queue.entry(m.queue.as_str()).or_default().push(m);
        }
        for (queue, ms) in by_queue {
            let url = self.url(queue).await?;
            for chunk in ms.chunks(SEND_BATCH_MAX) {
                let entries = chunk
                    .iter()
                    .enumerate()
                    .map(|(i, m)| {
                        SendMessageBatchRequestEntry::builder()
                            .id(i.to_string())
                            .message_body(&m.body)
                            .delay_seconds(crate::clock::real_delay_ms(m.delay_ms).div_ceil(1000) as i32)
                            .build()
                            .map_err(store_err)
                    })
                    .collect::<Result<Vec<_>, _>>()?;
                self.meter.sqs(chunk.iter().map(|m| m.body.len()).sum());
                let r = self
                    .sqs
                    .send_message_batch()
                    .queue_url(&url)
                    .set_entries(Some(entries))
                    .send()
                    .await
                    .map_err(store_err)?;
                if !r.failed.is_empty() {
                    return Err(Error::Store(format!("SQS refused {} messages", r.failed.len())));
                }
            }
        }
        Ok(())
    }
}

#[async_trait]
impl Queue for Aws {
    async fn send(&self, messages: Vec<OutMessage>) -> Result<(), Error> {
        crate::store::check_messages(&messages)?;
        self.send_now(&messages).await
    }

    async fn receive(
        &self,
        queue: &str,
        max: usize,
        wait: Duration,
        visibility: Duration,
    ) -> Result<Vec<Received>, Error> {
        let url = self.url(queue).await?;
        let wait_s = wait.as_millis().min(u128::from(RECEIVE_WAIT_MS_MAX)) as i32 / 1000;
        let r = self
            .sqs
            .receive_message()
            .queue_url(url)
            .max_number_of_messages(max.clamp(1, RECEIVE_MESSAGES_MAX) as i32)
            .wait_time_seconds(wait_s)
            .visibility_timeout(visibility.as_secs().max(1) as i32)
            .message_system_attribute_names(MessageSystemAttributeName::ApproximateReceiveCount)
            .send()
            .await
            .map_err(store_err)?;
        let bytes = r.messages().iter().map(|m| m.body().map_or(0, str::len)).sum();
        self.meter.sqs(bytes);
        Ok(r.messages
            .unwrap_or_default()
            .into_iter()
            .map(|m| Received {
                receive_count: m
                    .attributes
                    .as_ref()
                    .and_then(|a| a.get(&MessageSystemAttributeName::ApproximateReceiveCount))
                    .and_then(|c| c.parse().ok())
                    .unwrap_or(1),
                body: m.body.unwrap_or_default(),
                receipt: m.receipt_handle.unwrap_or_default(),
            })
            .collect())
    }

    async fn depth(&self, queue: &str) -> Result<u64, Error> {
        let url = self.url(queue).await?;
        self.meter.sqs(0);
        let names = [
            QueueAttributeName::ApproximateNumberOfMessages,
            QueueAttributeName::ApproximateNumberOfMessagesNotVisible,
        ];
        let r = self
            .sqs
            .get_queue_attributes()
            .queue_url(url)
            .set_attribute_names(Some(names.to_vec()))
            .send()
            .await
            .map_err(store_err)?;
        let attrs = r.attributes.unwrap_or_default();
        let count = |n: &QueueAttributeName| attrs.get(n).and_then(|v| v.parse::<u64>().ok()).unwrap_or(0);
        Ok(names.iter().map(count).sum())
    }

    async fn delete(&self, queue: &str, receipt: &str) -> Result<(), Error> {
        let url = self.url(queue).await?;
        self.meter.sqs(0);
        self.sqs.delete_message().queue_url(url).receipt_handle(receipt).send().await.map_err(store_err)?;
        Ok(())
    }
}
