//! A JSON-RPC man in the middle for tests: forwards HTTP requests to a node and lets a test
//! rewrite the `result` of chosen methods before the client sees it (the body is re-encoded
//! and its Content-Length fixed). It runs on its own thread and runtime, so blocking CLI runs
//! in the test never starve it.
use std::sync::Arc;

use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};

/// Rewrites the `result` of a reply to `method` in place.
pub type Rewrite = Arc<dyn Fn(&str, &mut serde_json::Value) + Send + Sync>;

/// A running proxy; stops when dropped.
pub struct Proxy {
    /// `http://127.0.0.1:PORT` to give clients.
    pub url: String,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
}

impl Drop for Proxy {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

impl Proxy {
    /// Proxies to `upstream` (`http://HOST:PORT`), passing every reply through `rewrite`.
    pub fn start(upstream: &str, rewrite: Rewrite) -> Proxy {
        let upstream = upstream
            .strip_prefix("http://")
            .expect("an http:// upstream")
            .trim_end_matches('/')
            .to_string();
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind proxy");
        listener.set_nonblocking(true).expect("nonblocking");
        let url = format!("http://{}", listener.local_addr().expect("addr"));
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("proxy runtime");
            rt.block_on(async move {
                let listener = TcpListener::from_std(listener).expect("listener");
                let accept = async {
                    loop {
                        let Ok((sock, _)) = listener.accept().await else {
                            continue;
                        };
                        let (upstream, rewrite) = (upstream.clone(), rewrite.clone());
                        tokio::spawn(async move {
                            if let Err(e) = serve(sock, &upstream, &rewrite).await {
                                eprintln!("proxy connection ended: {e}");
                            }
                        });
                    }
                };
                tokio::select! {
                    _ = accept => {}
                    _ = stopped => {}
                }
            });
        });
        Proxy {
            url,
            stop: Some(stop),
        }
    }
}

/// An HTTP message: its header lines (lower-cased names) and its body.
struct Message {
    start_line: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Message {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// Reads one HTTP/1.1 message (Content-Length, chunked, or until EOF for a response with
/// neither); `None` at a clean end of the stream.
async fn read_message<R: AsyncBufReadExt + Unpin>(
    r: &mut R,
    is_response: bool,
) -> std::io::Result<Option<Message>> {
    let mut start_line = String::new();
    if r.read_line(&mut start_line).await? == 0 {
        return Ok(None);
    }
    let mut headers = Vec::new();
    loop {
        let mut line = String::new();
        r.read_line(&mut line).await?;
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        let (name, value) = line.split_once(':').ok_or_else(|| {
            std::io::Error::new(std::io::ErrorKind::InvalidData, format!("header {line}"))
        })?;
        headers.push((name.trim().to_ascii_lowercase(), value.trim().to_string()));
    }
    let mut m = Message {
        start_line: start_line.trim_end().to_string(),
        headers,
        body: Vec::new(),
    };
    if let Some(len) = m.header("content-length") {
        let len: usize = len
            .parse()
            .map_err(|_| std::io::Error::new(std::io::ErrorKind::InvalidData, "length"))?;
        m.body = vec![0; len];
        r.read_exact(&mut m.body).await?;
    } else if m
        .header("transfer-encoding")
        .is_some_and(|t| t.eq_ignore_ascii_case("chunked"))
    {
        loop {
            let mut size = String::new();
            r.read_line(&mut size).await?;
            let size = usize::from_str_radix(size.trim().split(';').next().unwrap_or(""), 16)
                .map_err(|_| std::io::Error::new(std::io::ErrorKind::InvalidData, "chunk"))?;
            let mut chunk = vec![0; size + 2];
            r.read_exact(&mut chunk).await?;
            if size == 0 {
                break;
            }
            m.body.extend_from_slice(&chunk[..size]);
        }
    } else if is_response {
        r.read_to_end(&mut m.body).await?;
    }
    Ok(Some(m))
}

/// Serves one client connection: each request goes upstream on a fresh connection.
async fn serve(sock: TcpStream, upstream: &str, rewrite: &Rewrite) -> std::io::Result<()> {
    let (read, mut write) = sock.into_split();
    let mut read = BufReader::new(read);
    while let Some(request) = read_message(&mut read, false).await? {
        let method = serde_json::from_slice::<serde_json::Value>(&request.body)
            .ok()
            .and_then(|v| v["method"].as_str().map(str::to_string))
            .unwrap_or_default();
        let mut up = TcpStream::connect(upstream).await?;
        let mut head = format!("{}\r\n", request.start_line);
        for (n, v) in &request.headers {
            if n != "connection" && n != "content-length" {
                head.push_str(&format!("{n}: {v}\r\n"));
            }
        }
        head.push_str(&format!(
            "content-length: {}\r\nconnection: close\r\n\r\n",
            request.body.len()
        ));
        up.write_all(head.as_bytes()).await?;
        up.write_all(&request.body).await?;
        let mut up = BufReader::new(up);
        let reply = read_message(&mut up, true).await?.ok_or_else(|| {
            std::io::Error::new(std::io::ErrorKind::UnexpectedEof, "no upstream reply")
        })?;
        let body = match serde_json::from_slice::<serde_json::Value>(&reply.body) {
            Ok(mut v) if v.get("result").is_some() => {
                rewrite(&method, &mut v["result"]);
                serde_json::to_vec(&v).expect("json")
            }
            _ => reply.body,
        };
        let mut head = format!("{}\r\n", reply.start_line);
        for (n, v) in &reply.headers {
            if !matches!(
                n.as_str(),
                "connection" | "content-length" | "transfer-encoding"
            ) {
                head.push_str(&format!("{n}: {v}\r\n"));
            }
        }
        head.push_str(&format!("content-length: {}\r\n\r\n", body.len()));
        write.write_all(head.as_bytes()).await?;
        write.write_all(&body).await?;
        write.flush().await?;
    }
    Ok(())
}
