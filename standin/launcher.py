"""Start the loopback stand-in (standin.py) from Python tests.

    from launcher import running_standin
    with running_standin(secret="sk_...") as base_url:
        ...   # http://127.0.0.1:PORT

The stand-in listens on a free 127.0.0.1 port (it writes the port to a file
once listening); it is stopped, within bounded waits, when the block ends.
"""
import contextlib
import pathlib
import subprocess
import sys
import tempfile
import time

STANDIN = pathlib.Path(__file__).resolve().parent / "standin.py"


class StandinError(RuntimeError):
    """The stand-in did not start."""


@contextlib.contextmanager
def running_standin(secret: str, start_timeout: float = 10.0):
    with tempfile.TemporaryDirectory(prefix="cbk-standin-") as workdir:
        port_file = pathlib.Path(workdir) / "port"
        proc = subprocess.Popen(
            [sys.executable, str(STANDIN), "--port", "0", "--port-file", str(port_file), "--secret", secret],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
        )
        try:
            deadline = time.monotonic() + start_timeout
            while not (port_file.exists() and port_file.read_text().strip()):
                if proc.poll() is not None:
                    raise StandinError("the stand-in exited with status %s before listening" % proc.returncode)
                if time.monotonic() > deadline:
                    raise StandinError("the stand-in did not start within %s s" % start_timeout)
                time.sleep(0.05)
            yield "http://127.0.0.1:%d" % int(port_file.read_text().strip())
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=5)
