//! A small HTTP/1.1 client for the one exchange the transport makes: `POST /` with a JSON
//! body, the answer read whole. The calling task drives its own connection (no connection
//! task, no channel between them), and keep-alive connections wait in a bounded pool.
//! `httparse` reads the response head and chunk sizes; framing follows RFC 9112 section 6.

use std::io;
use std::net::SocketAddr;
use std::sync::Mutex;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::Instant;

/// The most connections kept open while idle; more in flight are closed when done.
const MAX_IDLE: usize = 256;
/// A response head (status line and headers) larger than this is refused.
const MAX_HEAD_BYTES: usize = 64 * 1024;
/// A response with more header lines than this is refused.
const MAX_HEADERS: usize = 64;
/// A read buffer that grew past this (a large answer) is not kept for the next call.
const KEEP_BUFFER_BYTES: usize = 64 * 1024;

/// Where a pool's connections go.
#[derive(Debug, Clone)]
pub(crate) enum Address {
    /// An IP address: no lookup.
    Ip(SocketAddr),
    /// A host name, resolved at each connect.
    Name(String, u16),
}

/// Keep-alive connections to one address.
#[derive(Debug)]
pub(crate) struct Pool {
    address: Address,
    idle_timeout: Duration,
    idle: Mutex<Vec<Idle>>,
}

#[derive(Debug)]
struct Idle {
    conn: Conn,
    since: Instant,
}

/// One open connection and its read buffer.
#[derive(Debug)]
struct Conn {
    stream: TcpStream,
    buf: Vec<u8>,
}

/// A response, read whole.
#[derive(Debug)]
pub(crate) struct Answer {
    pub(crate) status: u16,
    /// The raw `Date` header.
    pub(crate) date: Option<String>,
    pub(crate) body: Vec<u8>,
}

/// Why an exchange failed, in the terms retries need.
#[derive(Debug, thiserror::Error)]
pub(crate) enum H1Error {
    /// No connection: nothing was sent.
    #[error("cannot connect")]
    Connect(#[source] io::Error),
    /// The connection failed after the request started going out: it may have executed.
    #[error("the connection failed")]
    Io(#[source] io::Error),
    /// The server closed the connection before a complete answer.
    #[error("the server closed the connection before a complete answer")]
    Closed,
    /// The answer is not HTTP/1.1 we can read.
    #[error("malformed HTTP answer: {0}")]
    Malformed(&'static str),
    /// The body is larger than the configured cap.
    #[error("the answer is larger than the cap")]
    TooLarge,
}

impl Pool {
    pub(crate) fn new(address: Address, idle_timeout: Duration) -> Pool {
        Pool {
            address,
            idle_timeout,
            idle: Mutex::new(Vec::new()),
        }
    }

    /// Sends `request` (a complete HTTP/1.1 message) and reads the answer, whose body may be
    /// at most `limit` bytes. Connecting is bounded by `connect_timeout`; the caller bounds
    /// the whole exchange (dropping the future closes the connection). `now` is when the
    /// exchange starts: the caller has it, and clock reads are not free everywhere.
    pub(crate) async fn exchange(
        &self,
        request: &[u8],
        limit: u64,
        connect_timeout: Duration,
        now: Instant,
    ) -> Result<Answer, H1Error> {
        let mut conn = match self.checkout(now) {
            Some(conn) => {
                tracing::trace!("reusing a pooled connection");
                conn
            }
            None => {
                let conn = self.connect(connect_timeout).await?;
                tracing::trace!(local = ?conn.stream.local_addr().ok(), "connected");
                conn
            }
        };
        conn.stream.write_all(request).await.map_err(H1Error::Io)?;
        let (answer, reusable) = conn.read_answer(limit).await?;
        tracing::trace!(
            status = answer.status,
            body_bytes = answer.body.len(),
            keep_alive = reusable,
            "answer read"
        );
        if reusable {
            // Idle since the exchange began: a little early, so it expires a little early.
            self.checkin(conn, now);
        }
        Ok(answer)
    }

    /// The most recently used idle connection that is still open.
    fn checkout(&self, now: Instant) -> Option<Conn> {
        let mut idle = self.idle.lock().unwrap_or_else(|p| p.into_inner());
        while let Some(Idle { conn, since }) = idle.pop() {
            if now.saturating_duration_since(since) < self.idle_timeout && conn.is_open() {
                return Some(conn);
            }
        }
        None
    }

    fn checkin(&self, mut conn: Conn, since: Instant) {
        if conn.buf.capacity() > KEEP_BUFFER_BYTES {
            conn.buf = Vec::new();
        }
        let mut idle = self.idle.lock().unwrap_or_else(|p| p.into_inner());
        if idle.len() < MAX_IDLE {
            idle.push(Idle { conn, since });
        }
    }

    async fn connect(&self, timeout: Duration) -> Result<Conn, H1Error> {
        let connecting = async {
            match &self.address {
                Address::Ip(addr) => TcpStream::connect(addr).await,
                Address::Name(host, port) => TcpStream::connect((host.as_str(), *port)).await,
            }
        };
        let stream = match tokio::time::timeout(timeout, connecting).await {
            Ok(Ok(stream)) => stream,
            Ok(Err(e)) => return Err(H1Error::Connect(e)),
            Err(_) => {
                return Err(H1Error::Connect(io::Error::new(
                    io::ErrorKind::TimedOut,
                    "connect timed out",
                )));
            }
        };
        stream.set_nodelay(true).map_err(H1Error::Connect)?;
        Ok(Conn {
            stream,
            buf: Vec::with_capacity(8 * 1024),
        })
    }
}

/// How the body of a response is delimited.
enum Framing {
    Length(u64),
    Chunked,
    UntilClose,
}

impl Conn {
    /// Whether an idle connection can carry another request: the server has neither closed
    /// it nor sent anything unasked.
    fn is_open(&self) -> bool {
        let mut probe = [0u8; 1];
        matches!(self.stream.try_read(&mut probe), Err(e) if e.kind() == io::ErrorKind::WouldBlock)
    }

    /// Reads more bytes into the buffer; `Closed` at end of stream.
    async fn fill(&mut self) -> Result<(), H1Error> {
        if self.buf.capacity() - self.buf.len() < 4 * 1024 {
            self.buf.reserve(8 * 1024);
        }
        match self.stream.read_buf(&mut self.buf).await {
            Ok(0) => Err(H1Error::Closed),
            Ok(_) => Ok(()),
            Err(e) => Err(H1Error::Io(e)),
        }
    }

    /// Reads one response: the answer, and whether the connection can be used again.
    async fn read_answer(&mut self, limit: u64) -> Result<(Answer, bool), H1Error> {
        self.buf.clear();
        loop {
            let head = match parse_head(&self.buf)? {
                Some(head) => head,
                None if self.buf.len() > MAX_HEAD_BYTES => {
                    return Err(H1Error::Malformed("the response head is too large"));
                }
                None => {
                    self.fill().await?;
                    continue;
                }
            };
            if (100..200).contains(&head.status) {
                if head.status == 101 {
                    return Err(H1Error::Malformed("an unasked protocol switch"));
                }
                // An interim answer (100 Continue, 103 Early Hints): the real one follows.
                self.buf.drain(..head.len);
                continue;
            }
            let framing = if head.status == 204 || head.status == 304 {
                Framing::Length(0)
            } else {
                head.framing
            };
            let (body, end) = match framing {
                Framing::Length(len) => self.read_sized(head.len, len, limit).await?,
                Framing::Chunked => self.read_chunked(head.len, limit).await?,
                Framing::UntilClose => (self.read_to_close(head.len, limit).await?, usize::MAX),
            };
            // Bytes past the answer were never asked for: do not reuse such a connection.
            let reusable = head.keep_alive && end == self.buf.len();
            let answer = Answer {
                status: head.status,
                date: head.date,
                body,
            };
            return Ok((answer, reusable));
        }
    }

    async fn read_sized(
        &mut self,
        start: usize,
        len: u64,
        limit: u64,
    ) -> Result<(Vec<u8>, usize), H1Error> {
        if len > limit {
            return Err(H1Error::TooLarge);
        }
        let end = start + len as usize;
        if self.buf.len() < end {
            self.buf.reserve(end - self.buf.len());
        }
        while self.buf.len() < end {
            self.fill().await?;
        }
        Ok((self.buf[start..end].to_vec(), end))
    }

    async fn read_chunked(
        &mut self,
        start: usize,
        limit: u64,
    ) -> Result<(Vec<u8>, usize), H1Error> {
        let mut body = Vec::new();
        let mut at = start;
        loop {
            let (line, size) = match httparse::parse_chunk_size(&self.buf[at..]) {
                Ok(httparse::Status::Complete(found)) => found,
                Ok(httparse::Status::Partial) if self.buf.len() - at > MAX_HEAD_BYTES => {
                    return Err(H1Error::Malformed("a chunk-size line is too long"));
                }
                Ok(httparse::Status::Partial) => {
                    self.fill().await?;
                    continue;
                }
                Err(_) => return Err(H1Error::Malformed("a bad chunk size")),
            };
            if size == 0 {
                at += line;
                return self.skip_trailers(at).await.map(|end| (body, end));
            }
            if body.len() as u64 + size > limit {
                return Err(H1Error::TooLarge);
            }
            let data = at + line;
            let end = data + size as usize;
            while self.buf.len() < end + 2 {
                self.fill().await?;
            }
            if &self.buf[end..end + 2] != b"\r\n" {
                return Err(H1Error::Malformed("a chunk without its CRLF"));
            }
            body.extend_from_slice(&self.buf[data..end]);
            at = end + 2;
        }
    }

    /// Skips the trailer section after the last chunk; returns where the message ends.
    async fn skip_trailers(&mut self, at: usize) -> Result<usize, H1Error> {
        loop {
            let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
            match httparse::parse_headers(&self.buf[at..], &mut headers) {
                Ok(httparse::Status::Complete((len, _))) => return Ok(at + len),
                Ok(httparse::Status::Partial) if self.buf.len() - at > MAX_HEAD_BYTES => {
                    return Err(H1Error::Malformed("the trailers are too large"));
                }
                Ok(httparse::Status::Partial) => self.fill().await?,
                Err(_) => return Err(H1Error::Malformed("bad trailers")),
            }
        }
    }

    async fn read_to_close(&mut self, start: usize, limit: u64) -> Result<Vec<u8>, H1Error> {
        loop {
            let closed = match self.fill().await {
                Ok(()) => false,
                Err(H1Error::Closed) => true,
                Err(e) => return Err(e),
            };
            if (self.buf.len() - start) as u64 > limit {
                return Err(H1Error::TooLarge);
            }
            if closed {
                return Ok(self.buf[start..].to_vec());
            }
        }
    }
}

/// What the transport needs from a response head.
struct Head {
    len: usize,
    status: u16,
    date: Option<String>,
    framing: Framing,
    keep_alive: bool,
}

/// Parses a complete response head at the start of `buf` (`None`: not all of it yet).
fn parse_head(buf: &[u8]) -> Result<Option<Head>, H1Error> {
    let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut response = httparse::Response::new(&mut headers);
    let len = match response.parse(buf) {
        Ok(httparse::Status::Complete(len)) => len,
        Ok(httparse::Status::Partial) => return Ok(None),
        Err(httparse::Error::TooManyHeaders) => {
            return Err(H1Error::Malformed("too many header lines"));
        }
        Err(_) => return Err(H1Error::Malformed("not an HTTP/1.x response")),
    };
    let status = response.code.unwrap_or_default();
    let http11 = response.version == Some(1);
    let (mut date, mut length, mut chunked, mut transfer_encoding) = (None, None, false, false);
    let mut connection = (false, false); // (close, keep-alive)
    for header in response.headers.iter() {
        let name = header.name;
        let value = || std::str::from_utf8(header.value).ok();
        if name.eq_ignore_ascii_case("content-length") {
            let parsed = value()
                .map(str::trim)
                .filter(|v| !v.is_empty() && v.bytes().all(|b| b.is_ascii_digit()))
                .and_then(|v| v.parse::<u64>().ok())
                .ok_or(H1Error::Malformed("a bad Content-Length"))?;
            if length.is_some_and(|l| l != parsed) {
                return Err(H1Error::Malformed("conflicting Content-Length headers"));
            }
            length = Some(parsed);
        } else if name.eq_ignore_ascii_case("transfer-encoding") {
            transfer_encoding = true;
            // Chunked counts only as the final coding.
            chunked = value()
                .and_then(|v| v.rsplit(',').next())
                .is_some_and(|last| last.trim().eq_ignore_ascii_case("chunked"));
        } else if name.eq_ignore_ascii_case("connection") {
            for token in value().unwrap_or_default().split(',').map(str::trim) {
                connection.0 |= token.eq_ignore_ascii_case("close");
                connection.1 |= token.eq_ignore_ascii_case("keep-alive");
            }
        } else if name.eq_ignore_ascii_case("date") {
            date = value().map(str::to_owned);
        }
    }
    // Transfer-Encoding overrides Content-Length; a non-chunked coding runs to the close.
    let framing = match (transfer_encoding, chunked, length) {
        (true, true, _) => Framing::Chunked,
        (true, false, _) | (false, _, None) => Framing::UntilClose,
        (false, _, Some(len)) => Framing::Length(len),
    };
    let keep_alive =
        !connection.0 && (http11 || connection.1) && !matches!(framing, Framing::UntilClose);
    Ok(Some(Head {
        len,
        status,
        date,
        framing,
        keep_alive,
    }))
}

/// Appends one header line.
pub(crate) fn header(out: &mut Vec<u8>, name: &str, value: &str) {
    out.extend_from_slice(name.as_bytes());
    out.extend_from_slice(b": ");
    out.extend_from_slice(value.as_bytes());
    out.extend_from_slice(b"\r\n");
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::net::TcpListener;

    /// A server that gives each connection it accepts the next script: one answer per
    /// request read, then it closes the connection. An empty answer closes at once.
    async fn serve(scripts: Vec<Vec<&'static [u8]>>) -> (Pool, tokio::task::JoinHandle<()>) {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let server = tokio::spawn(async move {
            for script in scripts {
                let (mut socket, _) = listener.accept().await.unwrap();
                let mut buf = vec![0u8; 4096];
                for answer in script {
                    if socket.read(&mut buf).await.unwrap_or(0) == 0 || answer.is_empty() {
                        break;
                    }
                    socket.write_all(answer).await.unwrap();
                }
            }
        });
        let pool = Pool::new(Address::Ip(addr), Duration::from_secs(60));
        (pool, server)
    }

    const REQUEST: &[u8] = b"POST / HTTP/1.1\r\nhost: x\r\ncontent-length: 2\r\n\r\n{}";
    const SECOND: Duration = Duration::from_secs(1);

    #[tokio::test]
    async fn sized_chunked_and_interim_answers_share_one_connection() {
        let (pool, server) = serve(vec![vec![
            b"HTTP/1.1 200 OK\r\nDate: Mon, 30 Nov 2026 10:00:00 GMT\r\nContent-Length: 5\r\n\r\nhello",
            b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2;ext=1\r\nde\r\n0\r\nX-Trailer: 1\r\n\r\n",
            b"HTTP/1.1 503 Busy\r\ncontent-length: 0\r\n\r\n",
        ]])
        .await;
        let first = pool
            .exchange(REQUEST, 100, SECOND, Instant::now())
            .await
            .unwrap();
        assert_eq!((first.status, &first.body[..]), (200, &b"hello"[..]));
        assert_eq!(first.date.as_deref(), Some("Mon, 30 Nov 2026 10:00:00 GMT"));
        let second = pool
            .exchange(REQUEST, 100, SECOND, Instant::now())
            .await
            .unwrap();
        assert_eq!((second.status, &second.body[..]), (200, &b"abcde"[..]));
        // The server accepts one connection only: the third call must reuse it.
        let third = pool
            .exchange(REQUEST, 100, SECOND, Instant::now())
            .await
            .unwrap();
        assert_eq!((third.status, third.body.len()), (503, 0));
        server.await.unwrap();
    }

    #[tokio::test]
    async fn close_delimited_and_connection_close_answers_are_not_reused() {
        let (pool, server) = serve(vec![
            vec![b"HTTP/1.0 200 OK\r\n\r\nuntil the end"],
            vec![b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok"],
            vec![b"HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nlast"],
        ])
        .await;
        let first = pool
            .exchange(REQUEST, 100, SECOND, Instant::now())
            .await
            .unwrap();
        assert_eq!(&first.body[..], b"until the end");
        let second = pool
            .exchange(REQUEST, 100, SECOND, Instant::now())
            .await
            .unwrap();
        assert_eq!(&second.body[..], b"ok");
        assert!(pool.idle.lock().unwrap().is_empty());
        let third = pool
            .exchange(REQUEST, 100, SECOND, Instant::now())
            .await
            .unwrap();
        assert_eq!(&third.body[..], b"last");
        server.await.unwrap();
    }

    #[tokio::test]
    async fn an_idle_connection_the_server_closed_is_not_reused() {
        let (pool, server) = serve(vec![
            vec![b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\na"],
            vec![b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nb"],
        ])
        .await;
        assert_eq!(
            pool.exchange(REQUEST, 10, SECOND, Instant::now())
                .await
                .unwrap()
                .body,
            b"a"
        );
        // The server closed the first connection after its answer; once that is visible,
        // the request must go out on a new connection, not into the closed one.
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert_eq!(
            pool.exchange(REQUEST, 10, SECOND, Instant::now())
                .await
                .unwrap()
                .body,
            b"b"
        );
        server.await.unwrap();
    }

    #[tokio::test]
    async fn truncated_answers_are_errors() {
        let (pool, server) = serve(vec![
            vec![b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort"],
            vec![b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhel"],
            vec![b"HTTP/1.1 200 OK\r\nContent-Le"],
            vec![b""],
        ])
        .await;
        for _ in 0..4 {
            assert!(matches!(
                pool.exchange(REQUEST, 100, SECOND, Instant::now()).await,
                Err(H1Error::Closed)
            ));
        }
        server.await.unwrap();
    }

    #[tokio::test]
    async fn bodies_past_the_cap_are_refused_in_every_framing() {
        let (pool, server) = serve(vec![
            vec![b"HTTP/1.1 200 OK\r\nContent-Length: 11\r\n\r\nhello world"],
            vec![b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n6\r\nhello \r\n5\r\nworld\r\n0\r\n\r\n"],
            vec![b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nhello world"],
        ])
        .await;
        for _ in 0..3 {
            assert!(matches!(
                pool.exchange(REQUEST, 10, SECOND, Instant::now()).await,
                Err(H1Error::TooLarge)
            ));
        }
        server.await.unwrap();
    }

    #[tokio::test]
    async fn an_endless_chunk_size_line_is_refused_not_buffered() {
        let mut answer = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;x=".to_vec();
        answer.resize(answer.len() + 2 * MAX_HEAD_BYTES, b'a');
        let (pool, server) = serve(vec![vec![answer.leak()]]).await;
        assert!(matches!(
            pool.exchange(REQUEST, 1 << 20, SECOND, Instant::now())
                .await,
            Err(H1Error::Malformed(_))
        ));
        server.abort();
    }

    #[tokio::test]
    async fn nothing_listening_is_a_connect_error() {
        let addr = TcpListener::bind("127.0.0.1:0")
            .await
            .unwrap()
            .local_addr()
            .unwrap();
        let pool = Pool::new(Address::Ip(addr), Duration::from_secs(60));
        assert!(matches!(
            pool.exchange(REQUEST, 10, SECOND, Instant::now()).await,
            Err(H1Error::Connect(_))
        ));
    }

    #[test]
    fn heads_are_read_by_the_rules() {
        let head = |text: &str| parse_head(text.as_bytes());
        assert!(head("HTTP/1.1 200 OK\r\nContent-Len").unwrap().is_none());
        assert!(matches!(
            head("<html>oops</html>\r\n\r\n"),
            Err(H1Error::Malformed(_))
        ));
        assert!(matches!(
            head("HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n"),
            Err(H1Error::Malformed(_))
        ));
        assert!(matches!(
            head("HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n"),
            Err(H1Error::Malformed(_))
        ));
        let te = head(
            "HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: gzip, chunked\r\n\r\n",
        )
        .unwrap()
        .unwrap();
        assert!(matches!(te.framing, Framing::Chunked) && te.keep_alive);
        let gzip_only = head("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n")
            .unwrap()
            .unwrap();
        assert!(matches!(gzip_only.framing, Framing::UntilClose) && !gzip_only.keep_alive);
        let old = head("HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 0\r\n\r\n")
            .unwrap()
            .unwrap();
        assert!(old.keep_alive);
        let old = head("HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n")
            .unwrap()
            .unwrap();
        assert!(!old.keep_alive);
        let mut many = String::from("HTTP/1.1 200 OK\r\n");
        for i in 0..=MAX_HEADERS {
            many.push_str(&format!("X-{i}: 1\r\n"));
        }
        many.push_str("\r\n");
        assert!(matches!(head(&many), Err(H1Error::Malformed(_))));
    }
}
