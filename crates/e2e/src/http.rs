//! A small HTTP/1.1 server on 127.0.0.1 for tests that talk to web APIs (an
//! OpenAI-compatible endpoint, the Hugging Face Hub): requests go to a handler function;
//! keep-alive connections, Content-Length bodies, and delayed answers (to provoke client
//! timeouts) are supported.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// One request as the handler sees it.
#[derive(Debug, Clone)]
pub struct Request {
    pub method: String,
    /// Path and query, e.g. `/v1/batches?limit=100`.
    pub path: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Request {
    /// A header's value (names compared without case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// The handler's answer.
#[derive(Debug, Clone, Default)]
pub struct Response {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    /// Wait this long before answering.
    pub delay: Option<Duration>,
    /// Send the head and only this many bytes of the body, then stop (a dropped or
    /// stalled connection mid-download).
    pub cut: Option<Cut>,
}

/// How a response breaks off after its first bytes.
#[derive(Debug, Clone, Copy)]
pub enum Cut {
    /// Close the connection after this many body bytes.
    Close(usize),
    /// Send this many body bytes, then hang (until the client gives up or is killed).
    Hang(usize, Duration),
}

impl Response {
    pub fn new(status: u16, body: impl Into<Vec<u8>>) -> Response {
        Response {
            status,
            body: body.into(),
            ..Response::default()
        }
    }

    pub fn json(status: u16, v: &serde_json::Value) -> Response {
        Response::new(status, v.to_string()).header("Content-Type", "application/json")
    }

    pub fn header(mut self, k: &str, v: impl Into<String>) -> Response {
        self.headers.push((k.to_owned(), v.into()));
        self
    }
}

/// A running server; it stops when dropped.
pub struct Server {
    pub port: u16,
    stop: Arc<AtomicBool>,
}

impl Server {
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        // Wake the accept loop.
        let _ = TcpStream::connect(("127.0.0.1", self.port));
    }
}

type Handler = dyn Fn(&Request) -> Response + Send + Sync;

/// Serves `handler` on a free port of 127.0.0.1 until the returned server is dropped.
pub fn serve(handler: impl Fn(&Request) -> Response + Send + Sync + 'static) -> Server {
    let listener = TcpListener::bind(("127.0.0.1", 0)).expect("bind 127.0.0.1");
    let port = listener.local_addr().expect("address").port();
    let stop = Arc::new(AtomicBool::new(false));
    let handler: Arc<Handler> = Arc::new(handler);
    let stop2 = stop.clone();
    std::thread::spawn(move || {
        for conn in listener.incoming() {
            if stop2.load(Ordering::Relaxed) {
                break;
            }
            let Ok(conn) = conn else { continue };
            let handler = handler.clone();
            std::thread::spawn(move || {
                let _ = handle(conn, &*handler);
            });
        }
    });
    Server { port, stop }
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        206 => "Partial Content",
        302 => "Found",
        304 => "Not Modified",
        400 => "Bad Request",
        401 => "Unauthorized",
        404 => "Not Found",
        416 => "Range Not Satisfiable",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        503 => "Service Unavailable",
        _ => "Status",
    }
}

fn handle(conn: TcpStream, handler: &Handler) -> std::io::Result<()> {
    let mut reader = BufReader::new(conn.try_clone()?);
    let mut out = conn;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line)? == 0 {
            return Ok(());
        }
        let mut parts = line.split_whitespace();
        let (Some(method), Some(path)) = (parts.next(), parts.next()) else {
            return Ok(());
        };
        let (method, path) = (method.to_owned(), path.to_owned());
        let mut headers = Vec::new();
        loop {
            let mut h = String::new();
            reader.read_line(&mut h)?;
            let h = h.trim_end();
            if h.is_empty() {
                break;
            }
            if let Some((k, v)) = h.split_once(':') {
                headers.push((k.trim().to_owned(), v.trim().to_owned()));
            }
        }
        let len = headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case("content-length"))
            .and_then(|(_, v)| v.parse::<usize>().ok())
            .unwrap_or(0);
        let mut body = vec![0u8; len];
        reader.read_exact(&mut body)?;
        let req = Request {
            method,
            path,
            headers,
            body,
        };
        let resp = handler(&req);
        if let Some(d) = resp.delay {
            std::thread::sleep(d);
        }
        let mut head = format!("HTTP/1.1 {} {}\r\n", resp.status, reason(resp.status));
        let has_len = resp
            .headers
            .iter()
            .any(|(k, _)| k.eq_ignore_ascii_case("content-length"));
        if !has_len {
            head.push_str(&format!("Content-Length: {}\r\n", resp.body.len()));
        }
        for (k, v) in &resp.headers {
            head.push_str(&format!("{k}: {v}\r\n"));
        }
        head.push_str("\r\n");
        out.write_all(head.as_bytes())?;
        if req.method == "HEAD" {
            out.flush()?;
            continue;
        }
        match resp.cut {
            None => out.write_all(&resp.body)?,
            Some(Cut::Close(n)) => {
                out.write_all(&resp.body[..n.min(resp.body.len())])?;
                out.flush()?;
                return out.shutdown(std::net::Shutdown::Both);
            }
            Some(Cut::Hang(n, d)) => {
                out.write_all(&resp.body[..n.min(resp.body.len())])?;
                out.flush()?;
                std::thread::sleep(d);
                return out.shutdown(std::net::Shutdown::Both);
            }
        }
        out.flush()?;
    }
}
