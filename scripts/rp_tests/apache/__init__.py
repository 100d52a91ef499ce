"""Apache httpd with mod_auth_openidc as a relying party, started for the tests: Debian's apache2
in the foreground with a config of its own (httpd.conf.in here, filled in), its ServerRoot, pid
file, logs, mutexes and runtime files under a directory of the run, listening on loopback.

Areas (htdocs/): /protected/ (Require valid-user), /operator/ (Require claim amr:otp), /fresh/
(prompt=login); each page says it arrived ("PROTECTED-OK", ...) and echoes, with SSI, what
mod_auth_openidc passed on: the name, the sub, the amr and the ID token as it was received.
"""
import os
import pwd
import secrets
import shutil
import signal
import socket
import subprocess
import time

HERE = os.path.dirname(os.path.abspath(__file__))
APACHE = "/usr/sbin/apache2"


class Apache:
    def __init__(self, directory, host, port, issuer):
        self.dir, self.host, self.port, self.issuer = directory, host, port, issuer
        self.app = f"http://{host}:{port}"
        self.redirect_uri = f"{self.app}/protected/redirect_uri"
        self.backchannel_logout_uri = f"{self.redirect_uri}?logout=backchannel"
        self.logged_out_url = f"{self.app}/loggedout.html"
        self.error_log = os.path.join(directory, "error.log")
        self.access_log = os.path.join(directory, "access.log")
        self.process = None

    def url(self, path):
        return self.app + path

    def configure(self, client_id, client_secret, log_level="info"):
        os.makedirs(os.path.join(self.dir, "run"), exist_ok=True)
        shutil.copytree(os.path.join(HERE, "htdocs"), os.path.join(self.dir, "htdocs"), dirs_exist_ok=True)
        user = ""
        if os.getuid() == 0:
            # As root, Apache's children drop to an unprivileged user; the files stay readable.
            name = "www-data" if _user_exists("www-data") else "nobody"
            user = f"User {name}\nGroup {'www-data' if name == 'www-data' else 'nogroup'}"
            for root, dirs, files in os.walk(self.dir):
                for d in dirs:
                    os.chmod(os.path.join(root, d), 0o755)
                for f in files:
                    os.chmod(os.path.join(root, f), 0o644)
            os.chmod(self.dir, 0o755)
            run = os.path.join(self.dir, "run")
            shutil.chown(run, user=name)
        with open(os.path.join(HERE, "httpd.conf.in")) as f:
            text = f.read()
        values = {
            "DIR": self.dir, "HOST": self.host, "PORT": str(self.port), "ISSUER": self.issuer, "APP": self.app,
            "CLIENT_ID": client_id, "CLIENT_SECRET": client_secret, "PASSPHRASE": secrets.token_hex(16),
            "OIDC_LOGLEVEL": log_level, "USER": user,
            "LISTEN_V6": f"Listen [::1]:{self.port}" if self.host == "localhost" and _has_ipv6_loopback() else "",
        }
        for name, value in values.items():
            text = text.replace(f"@{name}@", value)
        self.conf = os.path.join(self.dir, "httpd.conf")
        with open(self.conf, "w") as f:
            f.write(text)
        os.chmod(self.conf, 0o600)  # it holds the client's secret
        check = subprocess.run([APACHE, "-t", "-f", self.conf], capture_output=True, text=True)
        assert check.returncode == 0, f"apache2 -t -f {self.conf}: {check.stderr}"

    def start(self):
        self.stdout = open(os.path.join(self.dir, "stdout.log"), "w")
        self.process = subprocess.Popen([APACHE, "-f", self.conf, "-DFOREGROUND"], stdout=self.stdout, stderr=subprocess.STDOUT,
                                        start_new_session=True)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"apache2 exited {self.process.returncode} at start:\n{self.tail()}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    return self
            except OSError:
                time.sleep(0.1)
        raise AssertionError(f"apache2 does not listen on {self.port}:\n{self.tail()}")

    def stop(self):
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(5)
        self.process = None

    def tail(self, lines=40):
        try:
            with open(self.error_log, errors="replace") as f:
                return "".join(f.readlines()[-lines:])
        except OSError as error:
            return f"({error})"

    def log_since(self, offset):
        """The error log from byte `offset` on (what happened since `log_size()`)."""
        with open(self.error_log, errors="replace") as f:
            f.seek(offset)
            return f.read()

    def log_size(self):
        try:
            return os.path.getsize(self.error_log)
        except OSError:
            return 0


def _user_exists(name):
    try:
        pwd.getpwnam(name)
        return True
    except KeyError:
        return False


def _has_ipv6_loopback():
    try:
        with socket.socket(socket.AF_INET6) as s:
            s.bind(("::1", 0))
        return True
    except OSError:
        return False
