"""The HTTP service, started for real on a free localhost port and spoken to over HTTP."""
import io
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import numpy as np
import pytest
import soundfile as sf

from conftest import free_port
from seq2seq_asr.transcribe import TEMPOS

FIXTURES = Path(__file__).parent / "fixtures"
CLIPS = {"espeak-ru-m3.wav": 601, "espeak-ru-lv-m3.wav": 599, "espeak-ru-steph3.mp3": 973880,
         "espeak-ru-belinda.wav": 5000}



@pytest.fixture(scope="module")
def server():
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "seq2seq_asr.cli", "serve", "--port", str(port),
                             "--max-mb", "1", "--max-seconds", "10", "--gender", "--warps", "1.1"],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    for _ in range(600):
        try:
            if httpx.get(url + "/health", timeout=1).status_code == 200:
                break
        except httpx.TransportError:
            time.sleep(0.1)
        if proc.poll() is not None:
            raise RuntimeError(proc.stdout.read().decode())
    yield url
    proc.terminate()
    proc.wait(10)


def test_health(server):
    health = httpx.get(server + "/health").json()
    assert health["status"] == "ok" and health["max_bytes"] == 2**20 and health["gender"] is True
    assert health["tempos"] == list(TEMPOS) and health["warps"] == [1.1]  # how doubtful clips are read again


def test_raw_body_and_multipart(server):
    audio = (FIXTURES / "clips" / "espeak-ru-m3.wav").read_bytes()
    raw = httpx.post(server + "/transcribe", content=audio, headers={"content-type": "audio/wav"})
    assert raw.status_code == 200 and raw.json()["number"] == 601
    assert raw.json()["words"] == "шестьсот один" and 0.5 < raw.json()["confidence"] <= 1
    assert raw.json()["gender"] == "male"
    mp3 = (FIXTURES / "clips" / "espeak-ru-steph3.mp3").read_bytes()
    form = httpx.post(server + "/transcribe", files={"file": ("x.mp3", mp3, "audio/mpeg")})
    assert form.status_code == 200 and form.json()["number"] == 973880


def test_concurrent_requests_are_all_answered_right(server):
    names = list(CLIPS) * 6
    with httpx.Client(timeout=60) as client, ThreadPoolExecutor(12) as pool:
        answers = list(pool.map(lambda n: client.post(server + "/transcribe",
                                                      content=(FIXTURES / "clips" / n).read_bytes()), names))
    assert [a.status_code for a in answers] == [200] * len(names)
    assert [a.json()["number"] for a in answers] == [CLIPS[n] for n in names]


def test_bad_bodies_are_4xx_with_a_message(server):
    def post(**kw):
        return httpx.post(server + "/transcribe", timeout=30, **kw)

    for answer, code, words in [
        (post(content=b""), 422, "no audio data"),
        (post(content=b"hello, not audio"), 422, "not a readable audio file"),
        (post(files={"other": ("a.txt", b"x")}), 422, "field named 'file'"),
        (post(content=b"\0" * (2**20 + 1)), 413, "larger than"),
        (post(content=(x for x in [b"\0" * 2**19] * 3)), 413, "larger than"),  # chunked, no length
        (post(content=_wav(np.full(100, 0.5))), 422, "too short"),
        (post(content=_wav(np.random.default_rng(0).normal(0, 0.1, 8000 * 12), 8000)), 422, "too long"),
    ]:
        assert answer.status_code == code, (answer.status_code, answer.text)
        assert words in answer.json()["detail"]
    assert httpx.get(server + "/health").status_code == 200  # still serving


def _wav(samples, rate=16000) -> bytes:
    buf = io.BytesIO()
    sf.write(buf, np.asarray(samples, dtype=np.float32), rate, format="WAV", subtype="PCM_16")
    return buf.getvalue()
