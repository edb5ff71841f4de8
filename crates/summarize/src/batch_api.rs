//! The Files and Batches API of an OpenAI-compatible endpoint: upload a request file,
//! create a batch, find a batch made from a file (the whole listing, page by page),
//! poll a batch, download a result file to disk.

use std::fs;
use std::io::Read;
use std::path::Path;
use std::time::Duration;

use anyhow::{bail, Context, Result};
use serde_json::{json, Value};

use crate::config::SummarizeConfig;

/// The largest Files/Batches API answer read (result files are streamed to disk instead).
const MAX_ANSWER_BYTES: u64 = 16 << 20;

/// Batches per page when listing (the API's maximum).
const PAGE: usize = 100;

/// The most pages read when looking for a batch: 100,000 batches. A server whose cursor
/// never ends must not keep a run listing forever.
const MAX_PAGES: usize = 1000;

/// A connection to the Batch API of `base_url`.
pub struct Api {
    agent: ureq::Agent,
    base: String,
    auth: Option<String>,
}

impl Api {
    pub fn new(cfg: &SummarizeConfig) -> Api {
        Api {
            agent: ureq::AgentBuilder::new()
                .timeout(Duration::from_secs(cfg.timeout_s.max(1)))
                .build(),
            base: cfg.base_url.trim_end_matches('/').to_owned(),
            auth: cfg.api_key(),
        }
    }

    fn req(&self, method: &str, path: &str) -> ureq::Request {
        let r = self.agent.request(method, &format!("{}{path}", self.base));
        match &self.auth {
            Some(k) => r.set("Authorization", &format!("Bearer {k}")),
            None => r,
        }
    }

    fn json(
        &self,
        r: std::result::Result<ureq::Response, ureq::Error>,
        what: &str,
    ) -> Result<Value> {
        match r {
            Ok(resp) => {
                // The answers read here are small objects; a body without end (a proxy's
                // page, a broken server) must not take the memory of the machine.
                let mut body = Vec::new();
                resp.into_reader()
                    .take(MAX_ANSWER_BYTES + 1)
                    .read_to_end(&mut body)
                    .with_context(|| format!("{}: {what}: reading the answer", self.base))?;
                if body.len() as u64 > MAX_ANSWER_BYTES {
                    bail!(
                        "{}: {what}: the answer is larger than {} MiB",
                        self.base,
                        MAX_ANSWER_BYTES >> 20
                    );
                }
                serde_json::from_slice(&body)
                    .with_context(|| format!("{}: {what}: the answer is not JSON", self.base))
            }
            Err(ureq::Error::Status(code, resp)) => bail!(
                "{}: {what}: HTTP {code}: {}",
                self.base,
                crate::request::error_text(resp)
            ),
            Err(e) => bail!("{}: {what}: {e}", self.base),
        }
    }

    /// Uploads a request file (`purpose=batch`); returns its file id.
    pub fn upload(&self, path: &Path) -> Result<String> {
        let boundary = format!(
            "pricer-{}",
            blake3::hash(path.as_os_str().as_encoded_bytes()).to_hex()
        );
        let name = path.file_name().unwrap_or_default().to_string_lossy();
        let mut body = format!("--{boundary}\r\nContent-Disposition: form-data; name=\"purpose\"\r\n\r\nbatch\r\n--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\nContent-Type: application/jsonl\r\n\r\n").into_bytes();
        body.extend(fs::read(path).with_context(|| format!("{}: cannot read", path.display()))?);
        body.extend(format!("\r\n--{boundary}--\r\n").into_bytes());
        let r = self
            .req("POST", "/files")
            .set(
                "Content-Type",
                &format!("multipart/form-data; boundary={boundary}"),
            )
            .send_bytes(&body);
        let v = self.json(r, "uploading a request file")?;
        v["id"]
            .as_str()
            .map(str::to_owned)
            .context("the upload answer has no file id")
    }

    /// A batch already made from `file_id` (a run stopped while creating it), looked for
    /// through the whole listing, page by page.
    pub fn find_batch(&self, file_id: &str) -> Result<Option<String>> {
        let mut after: Option<String> = None;
        for _ in 0..MAX_PAGES {
            let path = match &after {
                Some(a) => format!("/batches?limit={PAGE}&after={a}"),
                None => format!("/batches?limit={PAGE}"),
            };
            let v = self.json(self.req("GET", &path).call(), "listing batches")?;
            let page = v["data"].as_array().map(Vec::as_slice).unwrap_or_default();
            if let Some(b) = page.iter().find(|b| b["input_file_id"] == file_id) {
                return Ok(b["id"].as_str().map(str::to_owned));
            }
            let last = v["last_id"]
                .as_str()
                .or_else(|| page.last().and_then(|b| b["id"].as_str()));
            match last {
                Some(l) if v["has_more"] == true && after.as_deref() != Some(l) => {
                    after = Some(l.to_owned());
                }
                _ => return Ok(None),
            }
        }
        bail!(
            "{}: listing batches: more than {} pages; the server's listing does not end",
            self.base,
            MAX_PAGES
        )
    }

    pub fn create_batch(&self, file_id: &str) -> Result<String> {
        let r = self.req("POST", "/batches").send_json(json!({"input_file_id": file_id, "endpoint": "/v1/chat/completions", "completion_window": "24h"}));
        let v = self.json(r, "creating a batch")?;
        v["id"]
            .as_str()
            .map(str::to_owned)
            .context("the batch answer has no id")
    }

    pub fn get_batch(&self, id: &str) -> Result<Value> {
        self.json(
            self.req("GET", &format!("/batches/{id}")).call(),
            "polling a batch",
        )
    }

    /// Streams a file's content to `to` (a result file of 50,000 answers is hundreds of
    /// MB), renamed into place when whole.
    pub fn download(&self, file_id: &str, to: &Path) -> Result<()> {
        match self.req("GET", &format!("/files/{file_id}/content")).call() {
            Ok(resp) => {
                let mut out = pricer_core::atomic::AtomicFile::create(to)?;
                std::io::copy(&mut resp.into_reader(), &mut out).with_context(|| {
                    format!("{}: downloading {file_id} into {}", self.base, to.display())
                })?;
                Ok(out.commit()?)
            }
            Err(e) => bail!("{}: downloading {file_id}: {e}", self.base),
        }
    }
}
