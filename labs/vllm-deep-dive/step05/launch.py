"""Start a server in its own process on a free local port, wait until /health answers, stop it afterwards."""
import contextlib
import socket
import subprocess
import sys
import time

import httpx


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def server(argv: list[str], timeout: float = 120.0, env=None, log=None):
    """Run `python argv... --host 127.0.0.1 --port PORT`; yield its base URL once /health says 200."""
    port = free_port()
    proc = subprocess.Popen([sys.executable, *argv, "--host", "127.0.0.1", "--port", str(port)], env=env,
                            stdout=log or subprocess.DEVNULL, stderr=log or subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + timeout
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"the server exited with status {proc.returncode} before it was ready")
            if time.monotonic() > deadline:
                raise TimeoutError(f"the server did not answer /health within {timeout} s")
            try:
                if httpx.get(url + "/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        yield url
    finally:
        proc.terminate()  # uvicorn shuts down cleanly; the engine core follows its parent
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
