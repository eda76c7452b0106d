"""docs/deploy.md stays true: the commands it tells operators to run exist, and its proxy example
passes the websocket through with sticky sessions."""

from __future__ import annotations

import re
import ssl
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from pipelines.cli import _parser
from pipelines.settings import PROJECT_ROOT

DOC = (PROJECT_ROOT / "docs" / "deploy.md").read_text()
COMMANDS = sorted(set(re.findall(r"areasafe ((?:db|serve|batches|export|ingest)(?: [a-z]+)?)", DOC)))


def test_the_guide_names_the_commands_it_is_about():
    assert {"db upgrade", "db current", "serve", "batches"} <= set(COMMANDS)


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_in_the_guide_exists(command):
    with pytest.raises(SystemExit) as done:
        _parser().parse_args([*command.split(), "--help"])
    assert done.value.code == 0


def test_proxy_configuration_is_sticky_and_passes_the_websocket():
    for name in ("areasafe.conf", "areasafe-proxy.conf", "areasafe-headers.conf"):
        assert f"deploy/nginx/{name}" in DOC, f"docs/deploy.md does not point to deploy/nginx/{name}"
    site, proxy = (NGINX_DIR / "areasafe.conf").read_text(), (NGINX_DIR / "areasafe-proxy.conf").read_text()
    assert "ip_hash;" in site and "ssl_certificate" in site and "server_tokens off;" in site
    assert "proxy_http_version 1.1;" in proxy and "proxy_set_header Upgrade $http_upgrade;" in proxy
    assert "$connection_upgrade" in proxy
    assert not re.search(r"^\s*add_header", proxy, re.M)  # one would drop every header set by the server


def test_backup_and_restore_commands_are_there():
    assert "pg_dump --format=custom" in DOC and "pg_restore" in DOC and "CREATE EXTENSION postgis" in DOC


# --------------------------------------------------------------------------------------------------
# deploy/nginx: the reverse-proxy configuration the guide points to, run as it is in front of a real
# dashboard (ports, certificate and snippet paths swapped for a temporary directory)
# --------------------------------------------------------------------------------------------------
NGINX = Path("/usr/sbin/nginx")
NGINX_DIR = PROJECT_ROOT / "deploy" / "nginx"
MAP_FRAME = 'iframe[title="streamlit_folium.st_folium"]'


def _local_site(site: str, *, upstream: int, http: int, https: int, cert: Path, key: Path) -> str:
    """``areasafe.conf`` pointed at one replica on ``upstream`` and listening on 127.0.0.1 only."""
    swaps = [
        ("    server 127.0.0.1:8501 max_fails=3 fail_timeout=10s;\n", f"    server 127.0.0.1:{upstream};\n"),
        ("    server 127.0.0.1:8502 max_fails=3 fail_timeout=10s;\n", ""),
        ("listen 80;", f"listen 127.0.0.1:{http};"),
        ("listen 443 ssl http2;", f"listen 127.0.0.1:{https} ssl http2;"),
        ("/etc/letsencrypt/live/areasafe.example.gov.za/fullchain.pem", str(cert)),
        ("/etc/letsencrypt/live/areasafe.example.gov.za/privkey.pem", str(key)),
        ("include /etc/nginx/snippets/areasafe-headers.conf;", f"include {NGINX_DIR}/areasafe-headers.conf;"),
        ("include /etc/nginx/snippets/areasafe-proxy.conf;", f"include {NGINX_DIR}/areasafe-proxy.conf;"),
    ]
    for old, new in swaps:
        assert site.count(old) == 1, f"deploy/nginx/areasafe.conf no longer has {old.strip()!r}; update this test"
        site = site.replace(old, new)
    return site


@pytest.fixture(scope="module")
def proxied(demo_store, tmp_path_factory):
    """The dashboard behind nginx with deploy/nginx/areasafe.conf: yields (https URL, http URL)."""
    from tests._dashboard import running_dashboard
    from tests._pgcluster import free_port

    if not NGINX.exists():
        pytest.skip("needs nginx (apt-get install nginx-light; scripts/run-tests.sh installs it)")
    tmp = tmp_path_factory.mktemp("nginx")
    cert, key = tmp / "cert.pem", tmp / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1",
         "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True,
    )  # fmt: skip
    with running_dashboard(demo_store.url, tmp / "streamlit.log") as upstream:
        http, https = free_port(), free_port()
        site = _local_site(
            (NGINX_DIR / "areasafe.conf").read_text(),
            upstream=int(upstream.rsplit(":", 1)[1]), http=http, https=https, cert=cert, key=key,
        )  # fmt: skip
        (tmp / "site.conf").write_text(site)
        temp = "\n".join(
            f"    {kind}_temp_path {tmp}/{kind};" for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
        )
        (tmp / "nginx.conf").write_text(
            f"daemon off;\nmaster_process off;\npid {tmp}/nginx.pid;\nerror_log {tmp}/error.log info;\n"
            "events { worker_connections 256; }\n"
            f"http {{\n    include /etc/nginx/mime.types;\n    access_log {tmp}/access.log;\n{temp}\n"
            f"    include {tmp}/site.conf;\n}}\n"
        )
        command = [str(NGINX), "-p", str(tmp), "-e", str(tmp / "error.log"), "-c", str(tmp / "nginx.conf")]
        checked = subprocess.run([*command, "-t"], capture_output=True, text=True)
        assert checked.returncode == 0, checked.stderr
        proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            base = f"https://127.0.0.1:{https}"
            deadline = time.monotonic() + 30
            while True:
                try:
                    _get(f"{base}/_stcore/health")
                    break
                except OSError:
                    if time.monotonic() > deadline or proc.poll() is not None:
                        pytest.fail(f"nginx did not start; see {tmp / 'error.log'}")
                    time.sleep(0.2)
            yield base, f"http://127.0.0.1:{http}"
        finally:
            proc.terminate()
            proc.wait(timeout=20)


def _get(url: str):
    """(status, headers) of a GET, without following redirects or checking the test certificate."""
    context = ssl.create_default_context()
    context.check_hostname, context.verify_mode = False, ssl.CERT_NONE

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):
            return None

    opener = urllib.request.build_opener(urllib.request.HTTPSHandler(context=context), NoRedirect)
    try:
        with opener.open(url, timeout=10) as response:
            return response.status, response.headers
    except urllib.error.HTTPError as error:
        return error.code, error.headers


def _csp(headers) -> dict[str, set[str]]:
    directives = (d.split() for d in headers["Content-Security-Policy"].split(";") if d.strip())
    return {name: set(sources) for name, *sources in directives}


@pytest.mark.parametrize("path", ["/", "/_stcore/health", "/app/static/vendor/", "/no-such-page"])
def test_the_proxy_sets_the_security_headers(proxied, path):
    base, _ = proxied
    _, headers = _get(base + path)
    assert headers["Server"] == "nginx"  # no version
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "no-referrer"
    assert "camera=()" in headers["Permissions-Policy"] and "geolocation=()" in headers["Permissions-Policy"]
    assert headers["Strict-Transport-Security"].startswith("max-age=31536000")
    csp = _csp(headers)
    host = base.removeprefix("https://")
    assert csp["default-src"] == {"'self'"} and csp["object-src"] == {"'none'"}
    assert csp["frame-ancestors"] == {"'none'"}
    assert csp["connect-src"] == {"'self'", f"ws://{host}", f"wss://{host}"}
    assert "'unsafe-eval'" not in csp["script-src"]
    # the one source elsewhere: the map's opt-in OpenStreetMap tiles (pipelines.mapview)
    assert csp["img-src"] == {"'self'", "data:", "blob:", "https://tile.openstreetmap.org"}
    elsewhere = {s for sources in csp.values() for s in sources if s.startswith(("http", "*"))}
    assert elsewhere == {"https://tile.openstreetmap.org"}, csp


def test_only_the_map_component_may_be_framed_and_only_by_the_app(proxied):
    base, _ = proxied
    _, headers = _get(f"{base}/component/streamlit_folium.st_folium/index.html")
    assert headers["X-Frame-Options"] == "SAMEORIGIN" and _csp(headers)["frame-ancestors"] == {"'self'"}
    # the map's frame evaluates a filter change's new layers (dashboard/map_frame.py); the pages may not eval
    assert _csp(headers)["script-src"] == {"'self'", "'unsafe-inline'", "'unsafe-eval'"}


def test_plain_http_is_redirected_to_https(proxied):
    _, http = proxied
    status, headers = _get(f"{http}/login")
    assert status == 301 and headers["Location"].endswith("/login") and headers["Location"].startswith("https://")
    assert headers["Server"] == "nginx"


def test_the_dashboard_and_its_map_work_through_the_proxy(proxied, browser):
    from tests._dashboard import ARTIFACTS

    base, _ = proxied
    context = browser.new_context(ignore_https_errors=True, viewport={"width": 1500, "height": 1100})
    page = context.new_page()
    requests, sockets, violations = [], [], []
    page.on("request", lambda r: requests.append(r.url))
    page.on("websocket", lambda ws: sockets.append(ws.url))
    page.on("console", lambda m: violations.append(m.text) if "Content Security Policy" in m.text else None)
    try:
        page.goto(f"{base}/")
        page.wait_for_selector('[data-testid="stApp"]', timeout=60_000)
        frame = page.frame_locator(MAP_FRAME)
        frame.locator(".leaflet-container").wait_for(timeout=90_000)
        frame.locator("path.leaflet-interactive").first.wait_for(state="attached", timeout=60_000)
        page.wait_for_timeout(2000)
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "map_through_nginx.png"), full_page=True)
        assert frame.locator("path.leaflet-interactive").count() > 10  # the areas are drawn
        assert sockets and all(
            url.startswith(f"wss://{base.removeprefix('https://')}/_stcore/stream") for url in sockets
        )
        # the other public page (charts) through the proxy too, without a CSP violation either
        page.locator('[data-testid="stSidebarNav"] a').filter(has_text="Neighbourhood profile").first.click()
        page.get_by_role("heading", name="Neighbourhood profile").first.wait_for(timeout=60_000)
        page.wait_for_function("() => !document.querySelector('[data-testid=\"stStatusWidget\"]')", timeout=60_000)
        page.wait_for_timeout(2000)
        page.screenshot(path=str(ARTIFACTS / "profile_through_nginx.png"), full_page=True)
        assert not violations, violations
        local = (f"{base}/", "data:", "blob:", "about:")
        assert requests and [url for url in requests if not url.startswith(local)] == []
    finally:
        context.close()


def test_a_login_through_the_proxy_survives_a_reload_with_a_secure_cookie(proxied, browser, demo_store):
    """Over https the session cookie is Secure (the proxy's X-Forwarded-Proto), the page's cookie POST
    passes the Content-Security-Policy, and a reload keeps the login (issue 18)."""
    from pipelines import auth
    from tests._helpers import PASSWORD, ensure_user

    base, _ = proxied
    username = ensure_user(demo_store, "planner", username="proxied-planner")
    context = browser.new_context(ignore_https_errors=True, viewport={"width": 1280, "height": 720})
    page = context.new_page()
    violations = []
    page.on("console", lambda m: violations.append(m.text) if "Content Security Policy" in m.text else None)
    try:
        page.goto(f"{base}/login")
        page.get_by_label("Username").fill(username)
        page.get_by_label("Password", exact=True).fill(PASSWORD)
        with page.expect_response(lambda r: r.url.endswith("/api/session/start"), timeout=60_000) as traded:
            page.get_by_role("button", name="Log in", exact=True).click()
        assert traded.value.status == 204
        (cookie,) = [c for c in context.cookies() if c["name"] == auth.COOKIE]
        assert cookie["secure"] and cookie["httpOnly"] and cookie["sameSite"] == "Strict" and cookie["path"] == "/"
        page.reload()
        page.get_by_text(f"Signed in as {username} (Planner)").wait_for(timeout=60_000)
        assert not violations, violations
    finally:
        context.close()
